"""What a terminal that is not Unicode can show.

A Windows console shows every character (Python writes to it through the console's own Unicode
interface), but output sent to a file or a pipe on a Chinese Windows PC — or any console told
``PYTHONIOENCODING=gbk`` — is GBK, which has no ``•`` (the notice's ``3•15``). Writing one there
would end the command with ``UnicodeEncodeError``. :func:`tolerate_narrow_streams` makes such a
character a stand-in GBK has (``3·15``), or ``?`` — never an error.

>>> import io
>>> stream = io.TextIOWrapper(io.BytesIO(), encoding="gbk")
>>> tolerate_narrow_streams(stream)
>>> _ = stream.write("2020年3•15活动 ✓ ☎"); stream.flush()
>>> stream.buffer.getvalue().decode("gbk")
'2020年3·15活动 √ ?'
"""

from __future__ import annotations

import codecs
import sys

ERRORS = "c315-stand-in"
"""The name of the error handler registered here (for ``TextIOWrapper.reconfigure(errors=…)``)."""

STAND_INS = {"•": "·", "∙": "·", "‧": "·", "⋅": "·", "・": "·", "✓": "√", "✔": "√", "✗": "×", "✘": "×", "\ufffd": "?"}
"""Characters c315 prints that GBK lacks, and what a narrow terminal shows instead."""


def _stand_in(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    shown = []
    for character in error.object[error.start:error.end]:
        stand_in = STAND_INS.get(character, "?")
        try:
            stand_in.encode(error.encoding)
        except (UnicodeEncodeError, LookupError):
            stand_in = "?"
        shown.append(stand_in)
    return "".join(shown), error.end


codecs.register_error(ERRORS, _stand_in)


def tolerate_narrow_streams(*streams) -> None:
    """Give each text stream (default: stdout and stderr) that is not UTF the stand-in error handler,
    keeping its encoding; a UTF stream, or one that cannot be reconfigured, is left as it is."""
    for stream in streams or (sys.stdout, sys.stderr):
        encoding = getattr(stream, "encoding", None)
        if not encoding or not hasattr(stream, "reconfigure"):
            continue
        try:
            if codecs.lookup(encoding).name.startswith("utf"):
                continue
            stream.reconfigure(errors=ERRORS)
        except (LookupError, ValueError, OSError):  # an unknown codec, a closed or detached stream
            continue
