"""How text typed into a form is compared: full-width folded, spaces and invisible characters gone.

>>> squash(" 张  涛 ")
'张涛'
>>> squash("３场")
'3场'
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Zero-width and direction marks people paste in from chat apps and web pages.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad]")
_SPACE = re.compile(r"\s+")
# The notice writes 3•15 and 3·15; Word and WPS turn one into another.
_DOTS = str.maketrans({"·": "•", "・": "•", "∙": "•", "‧": "•", "⋅": "•"})


def visible(text: str) -> str:
    """Invisible marks removed and ends stripped; otherwise exactly as typed."""
    return _INVISIBLE.sub("", text).strip()


@lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """NFKC (full-width digits and letters to ASCII), invisible marks removed, ends stripped.
    Remembered for the last few thousand texts: a form's labels come back in every return, so
    each is folded once per run, not once per comparison."""
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).translate(_DOTS).strip()


@lru_cache(maxsize=8192)
def squash(text: str) -> str:
    """:func:`fold`, then every space removed — for labels, names and unit names (remembered as
    :func:`fold` is)."""
    return _SPACE.sub("", fold(text))
