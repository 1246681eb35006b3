"""The collector's way in to the board — the one-time login link and the session it starts —
shared by every worker process of one ``c315 serve`` without any memory they share.

- **The login link.** The process that starts the server makes a random secret before any worker
  starts, prints it in the link and keeps only its SHA-256, as the name of an empty file in
  ``.c315/serve-login/``. Using the link removes that file: a file is removed exactly once, whichever
  process asks first (``unlink`` on POSIX, ``DeleteFile`` on Windows; the others are told it is not
  there), so the link opens one session across all the workers. Starting a server again removes the
  links it printed before that were never used.
- **The session.** The cookie holds its expiry and a random nonce, signed with HMAC-SHA256 under a
  key derived from the one kept in ``serve-tokens.json`` (:meth:`Tokens.key_for`), so any worker can
  check it. The CSRF token the board's posts carry is an HMAC of the session, so every worker derives
  the same one. Signatures are compared with :func:`hmac.compare_digest`.

>>> sessions = Sessions(b"k" * 32)
>>> cookie = sessions.issue(now=1_000)
>>> sessions.valid(cookie, now=1_001), sessions.valid(cookie, now=1_000 + SESSION_SECONDS)
(True, False)
>>> sessions.valid(cookie[:-1] + ("0" if cookie[-1] != "0" else "1"), now=1_001)  # signature changed
False
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import time
from pathlib import Path

LOGIN_DIR = "serve-login"
"""The folder of ``.c315/`` holding the SHA-256 of each login link not yet used."""
SESSION_SECONDS = 12 * 3600
"""How long a collector's session lasts: one working day, then the board asks for a new link."""
_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,128}")
"""What a login secret or a session nonce can look like (token_urlsafe's alphabet)."""
_COOKIE = re.compile(r"([0-9]{1,12})\.([A-Za-z0-9_-]{16,128})\.([0-9a-f]{64})")
"""A session cookie: its expiry (Unix seconds), a random nonce, the HMAC of both."""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def new_login(store_dir: Path) -> str:
    """A new one-time login secret (for the link ``/login?once=SECRET``), kept only as its hash.
    Links printed by an earlier start of the server and never used stop working."""
    folder = Path(store_dir) / LOGIN_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.iterdir():
        stale.unlink(missing_ok=True)
    secret = secrets.token_urlsafe(32)
    marker = folder / _digest(secret)
    marker.touch(mode=0o600, exist_ok=False)
    return secret


def use_login(store_dir: Path, secret: str | None) -> bool:
    """Use a login secret: True the first time, in whichever process, False ever after (and for
    anything that is not a secret :func:`new_login` made)."""
    if not secret or not _SHAPE.fullmatch(secret):
        return False
    try:
        os.unlink(Path(store_dir) / LOGIN_DIR / _digest(secret))  # the one step that can succeed once
    except OSError:  # not there: never made, or another request (of any worker) used it first
        return False
    return True


class Sessions:
    """Signed collector sessions under one key: issued by whichever worker served the login,
    checked by any worker."""

    def __init__(self, key: bytes, lifetime: int = SESSION_SECONDS):
        self.key, self.lifetime = key, lifetime

    def _mac(self, purpose: str, body: str) -> str:
        return hmac.new(self.key, f"{purpose}\n{body}".encode("ascii"), hashlib.sha256).hexdigest()

    def issue(self, now: float | None = None) -> str:
        """A new session's cookie value: ``EXPIRES.NONCE.SIGNATURE``."""
        expires = int((time.time() if now is None else now) + self.lifetime)
        body = f"{expires}.{secrets.token_urlsafe(24)}"
        return f"{body}.{self._mac('session', body)}"

    def valid(self, cookie: str | None, now: float | None = None) -> bool:
        """Is this a session this server signed, not yet expired?"""
        found = _COOKIE.fullmatch(cookie or "")
        if found is None:
            return False
        expires, nonce, signature = found.groups()
        if not hmac.compare_digest(self._mac("session", f"{expires}.{nonce}"), signature):
            return False
        return int(expires) > (time.time() if now is None else now)

    def csrf(self, cookie: str) -> str:
        """The CSRF token of a session (the same in every worker)."""
        return self._mac("csrf", cookie)

    def csrf_ok(self, cookie: str | None, sent: str | None) -> bool:
        """Does a cookie-authenticated post carry its valid session's CSRF token?"""
        if not sent or not self.valid(cookie):
            return False
        return hmac.compare_digest(self.csrf(cookie).encode(), sent.encode("utf-8", "surrogatepass"))
