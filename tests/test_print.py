"""Printed, each generated form is one page: LibreOffice converts one .xlsx and one .docx of each
attachment to PDF. Skipped cleanly where ``soffice`` is not installed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import cli_runner
from printed import needs_soffice, page_count, pdf_text, to_pdf

from campaign315.cli import app
from campaign315.common.files import safe_filename, shipped
from campaign315.spec.campaign import load_campaign
from campaign315.spec.forms import form_filename

pytestmark = pytest.mark.slow

CAMPAIGN = load_campaign(shipped("data") / "campaign.toml")
# The longest unit name is the hardest to keep on one page.
UNIT = max((unit.name for unit in CAMPAIGN.units), key=len)


@pytest.fixture(scope="module")
def forms(tmp_path_factory) -> Path:
    needs_soffice()
    out = tmp_path_factory.mktemp("print") / "forms"
    workspace = tmp_path_factory.mktemp("empty-workspace")
    result = cli_runner().invoke(app, ["generate-forms", "--out", str(out), "-d", UNIT, "-w", str(workspace)])
    assert result.exit_code == 0, result.output
    return out


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
