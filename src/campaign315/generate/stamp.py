"""Render a form once, then stamp each unit's name into copies of it.

An Office file is a zip of XML parts. The template is rendered with a placeholder where the unit
goes; a copy for a unit is the same zip with the placeholder replaced (XML-escaped) in every part
that holds it. Rendering costs tens of milliseconds; stamping a copy costs about one.
"""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

PLACEHOLDER = "C315-UNIT-PLACEHOLDER-7f3a"

_CUSTOM_PART = "docProps/custom.xml"
_CUSTOM_TYPE = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
_CUSTOM_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"


def stamp(package: bytes, value: str, placeholder: str = PLACEHOLDER) -> bytes:
    """A copy of ``package`` with every ``placeholder`` in its XML parts replaced by ``value``."""
    needle = placeholder.encode()
    replacement = escape(value, {'"': "&quot;"}).encode("utf-8")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for info in src.infolist():
            data = src.read(info)
            if needle in data:
                data = data.replace(needle, replacement)
            dst.writestr(_fresh(info), data)
    return out.getvalue()


def with_custom_properties(package: bytes, properties: dict[str, str]) -> bytes:
    """Add (or replace) ``docProps/custom.xml`` with string properties — what python-docx lacks.
    Word, WPS and LibreOffice all keep custom properties through a re-save."""
    body = "".join(
        f'<property fmtid="{_FMTID}" pid="{pid}" name="{escape(name)}"><vt:lpwstr>{escape(value)}</vt:lpwstr></property>'
        for pid, (name, value) in enumerate(properties.items(), start=2)
    )
    custom = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
        'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        f"{body}</Properties>"
    ).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename == _CUSTOM_PART:
                continue
            data = src.read(info)
            if info.filename == "[Content_Types].xml" and b"/docProps/custom.xml" not in data:
                data = data.replace(b"</Types>", f'<Override PartName="/{_CUSTOM_PART}" ContentType="{_CUSTOM_TYPE}"/></Types>'.encode())
            elif info.filename == "_rels/.rels" and _CUSTOM_REL.encode() not in data:
                data = data.replace(b"</Relationships>", f'<Relationship Id="rIdC315" Type="{_CUSTOM_REL}" Target="{_CUSTOM_PART}"/></Relationships>'.encode())
            dst.writestr(_fresh(info), data)
        dst.writestr(_CUSTOM_PART, custom)
    return out.getvalue()


def _fresh(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    copy.compress_type = zipfile.ZIP_DEFLATED
    copy.external_attr = info.external_attr
    return copy
