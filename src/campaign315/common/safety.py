"""Text that came from a return is written back out as inert text: never a formula, hyperlink or
DDE call in a spreadsheet, whatever office suite opens it. The text itself is kept exactly."""

from __future__ import annotations

# What a spreadsheet treats as the start of a formula (ASCII and full width), plus tab and CR.
ACTIVE_LEADS = ("=", "+", "-", "@", "＝", "＋", "－", "＠", "\t", "\r", "\n")


def looks_active(text: str) -> bool:
    """Would a spreadsheet run this text?

    >>> looks_active("=1+2"), looks_active(" ＝cmd|' /C calc'!A0"), looks_active("张涛")
    (True, True, False)
    """
    return text.lstrip(" ").startswith(ACTIVE_LEADS)


def set_cell(cell, value) -> None:
    """Write ``value`` into an openpyxl cell; a string is always stored as a string (never a
    formula), and one that looks active also gets Excel's quote prefix so an edit keeps it text."""
    if isinstance(value, str):
        cell.value = value
        cell.data_type = "s"
        if looks_active(value):
            cell.quotePrefix = True
    else:
        cell.value = value
