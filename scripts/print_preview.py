"""The picture of the printed district 附件2 that README shows (``docs/district-form.png``): the
.docx that ``make demo`` wrote to ``demo/summary/``, printed to PDF by LibreOffice, each page
rasterised by poppler's ``pdftoppm`` and the pages put side by side (the form, then its 附表).

Run after ``make demo`` on a machine with ``soffice`` and ``pdftoppm``::

    .venv/bin/python scripts/print_preview.py
"""

from __future__ import annotations

import argparse
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GAP = 16          # pixels of grey between pages
GREY = b"\xdd\xdd\xdd"


def read_ppm(path: Path) -> tuple[int, int, bytes]:
    """(width, height, RGB bytes) of a binary PPM (P6, maxval 255) as pdftoppm writes it."""
    data = path.read_bytes()
    fields, position = [], 0
    while len(fields) < 4:
        while data[position:position + 1].isspace():
            position += 1
        if data[position:position + 1] == b"#":
            position = data.index(b"\n", position) + 1
            continue
        end = position
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[position:end])
        position = end
    assert fields[0] == b"P6" and fields[3] == b"255", "not a P6 image"
    width, height = int(fields[1]), int(fields[2])
    return width, height, data[position + 1:position + 1 + width * height * 3]


def side_by_side(pages: list[tuple[int, int, bytes]]) -> tuple[int, int, bytes]:
    height = max(h for _, h, _ in pages)
    width = sum(w for w, _, _ in pages) + GAP * (len(pages) + 1)
    rows = []
    for y in range(height):
        row = [GREY * GAP]
        for w, h, pixels in pages:
            row.append(pixels[y * w * 3:(y + 1) * w * 3] if y < h else GREY * w)
            row.append(GREY * GAP)
        rows.append(b"".join(row))
    edge = GREY * width
    rows = [edge] * GAP + rows + [edge] * GAP
    return width, height + 2 * GAP, b"".join(rows)


def write_png(path: Path, width: int, height: int, pixels: bytes) -> None:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = b"".join(b"\x00" + pixels[y * width * 3:(y + 1) * width * 3] for y in range(height))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--summary", type=Path, default=ROOT / "demo" / "summary", help="where c315 summary wrote")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "district-form.png")
    parser.add_argument("--dpi", type=int, default=80)
    args = parser.parse_args(argv)
    soffice, pdftoppm = shutil.which("soffice"), shutil.which("pdftoppm")
    if not (soffice and pdftoppm):
        print("需要 LibreOffice（soffice）和 poppler-utils（pdftoppm）。", file=sys.stderr)
        return 2
    sources = sorted(args.summary.glob("*附件2*.docx"))
    if not sources:
        print(f"{args.summary} 里没有附件2 的 .docx：请先运行 make demo。", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        subprocess.run([soffice, f"-env:UserInstallation={(work / 'profile').as_uri()}", "--headless", "--norestore",
                        "--convert-to", "pdf", "--outdir", str(work), str(sources[0])],
                       check=True, capture_output=True, timeout=180)
        (pdf,) = work.glob("*.pdf")
        subprocess.run([pdftoppm, "-r", str(args.dpi), str(pdf), str(work / "page")], check=True, timeout=120)
        pages = [read_ppm(path) for path in sorted(work.glob("page*.ppm"))]
    write_png(args.out, *side_by_side(pages))
    print(f"{args.out}（{len(pages)} 页）")
    return 0


if __name__ == "__main__":
    sys.exit(main())
