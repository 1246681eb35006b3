"""What a file looks like printed: LibreOffice converts it to PDF, poppler counts and reads the
pages. Tests that use this skip cleanly where ``soffice`` is not installed (``needs_soffice``)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

SOFFICE = shutil.which("soffice")


def needs_soffice() -> None:
    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) is not on PATH: printed pages not checked")


def to_pdf(source: Path, tmp_path: Path) -> Path:
    """Convert with a private LibreOffice profile, so parallel runs do not fight over one."""
    outdir = tmp_path / "pdf"
    profile = tmp_path / "lo-profile"
    done = subprocess.run(
        [SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
         "--convert-to", "pdf", "--outdir", str(outdir), str(source)],
        capture_output=True, text=True, timeout=180,
    )
    pdf = outdir / f"{source.stem}.pdf"
    assert done.returncode == 0 and pdf.is_file(), f"soffice failed:\n{done.stdout}\n{done.stderr}"
    return pdf


def page_count(pdf: Path) -> int:
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, timeout=60, check=True).stdout
        return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes()))


def pdf_text(pdf: Path) -> str | None:
    """The whole text, white space removed; None without poppler's pdftotext."""
    pages = page_texts(pdf)
    return None if pages is None else "".join(pages)


def page_texts(pdf: Path) -> list[str] | None:
    """Each page's text with white space removed (text order follows the layout, not reading);
    None without poppler's pdftotext."""
    if not shutil.which("pdftotext"):
        return None
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, timeout=60, check=True).stdout
    pages = [re.sub(r"\s", "", page) for page in text.split("\f")]
    return pages[:-1] if pages and pages[-1] == "" else pages
