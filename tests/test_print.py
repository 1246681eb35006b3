"""Printed, each generated form is one page: LibreOffice converts one .xlsx and one .docx of each
attachment to PDF. Skipped cleanly where ``soffice`` is not installed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import cli_runner

from campaign315.cli import app
from campaign315.common.files import safe_filename, shipped
from campaign315.spec.campaign import load_campaign
from campaign315.spec.forms import form_filename

pytestmark = pytest.mark.slow

CAMPAIGN = load_campaign(shipped("data") / "campaign.toml")
# The longest unit name is the hardest to keep on one page.
UNIT = max((unit.name for unit in CAMPAIGN.units), key=len)
SOFFICE = shutil.which("soffice")


@pytest.fixture(scope="module")
def forms(tmp_path_factory) -> Path:
    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) is not on PATH: printed page count not checked")
    out = tmp_path_factory.mktemp("print") / "forms"
    workspace = tmp_path_factory.mktemp("empty-workspace")
    result = cli_runner().invoke(app, ["generate-forms", "--out", str(out), "-d", UNIT, "-w", str(workspace)])
    assert result.exit_code == 0, result.output
    return out


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
    if not shutil.which("pdftotext"):
        return None
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, timeout=60, check=True).stdout
    return re.sub(r"\s", "", text)


@pytest.mark.parametrize("fmt", ["xlsx", "docx"])
@pytest.mark.parametrize("attachment", ["roster", "stats"])
def test_generated_form_prints_on_exactly_one_page(forms, tmp_path, attachment, fmt):
    spec = CAMPAIGN.spec(attachment)
    source = forms / safe_filename(UNIT) / safe_filename(form_filename(spec, UNIT, fmt))
    pdf = to_pdf(source, tmp_path)
    assert page_count(pdf) == 1
    text = pdf_text(pdf)
    if text is not None:  # what printed is the notice's table for this unit
        assert spec.title in text
        assert "填报部门" in text and UNIT in text  # text order follows the layout, not reading
        labels = [*spec.columns] if attachment == "roster" else [item.label for item in spec.items if item.label]
        for label in labels:
            assert re.sub(r"\s", "", label) in text
