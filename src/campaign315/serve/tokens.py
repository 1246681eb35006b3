"""Who may use ``c315 serve``: unit links and collector tokens, kept in ``.c315/serve-tokens.json``.

Tokens are server credentials, not campaign data, so they live in a small file of their own beside
the store rather than in it: the Store interface (and the PostgreSQL backend written for it) stays
about returns, and ``c315 verify`` / the schema upgrades never meet them. The file holds only the
SHA-256 of each token, never a token, and is written atomically with mode 0600.

A unit's link must print the same each time ``c315 serve links`` runs (it has been sent to the
department), so a unit token is derived — HMAC-SHA256 of the campaign, the unit and a generation
number under a random key kept in the same 0600 file — and only its hash is recorded. Revoking a
unit token bumps that unit's generation: the next ``links`` prints a new link, the old one fails.
A collector token is random, shown once, and only its hash kept. Tokens are compared by hash with
:func:`hmac.compare_digest`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from campaign315.common.errors import C315Error

TOKENS_FILE = "serve-tokens.json"


@dataclass(frozen=True)
class Holder:
    """Who a token belongs to: the collector (``unit`` None) or one unit."""

    role: str  # "collector" or "unit"
    unit: str | None = None

    @property
    def is_collector(self) -> bool:
        return self.role == "collector"

    @property
    def logged_as(self) -> str:
        """How a request of this holder is named in the log (never the token)."""
        return "汇总人" if self.is_collector else f"部门:{self.unit}"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class Tokens:
    """The tokens of one workspace's ``.c315/`` folder, read afresh on each call (``c315 serve
    token --revoke`` in another terminal takes effect on the next request)."""

    def __init__(self, store_dir: Path, campaign_id: str):
        self.path = Path(store_dir) / TOKENS_FILE
        self.campaign_id = campaign_id

    # --- the file ---

    def _load(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            data = {}
        except (OSError, ValueError) as exc:
            raise C315Error(f"无法读取令牌文件 {self.path}（{exc}）。可删除它后重新运行 c315 serve links，"
                            "各部门的链接会全部更换。") from None
        data.setdefault("key", "")
        data.setdefault("generations", {})
        data.setdefault("tokens", [])
        return data

    def _save(self, data: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".tokens-", dir=self.path.parent)
        try:
            os.chmod(name, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, ensure_ascii=False, indent=1)
            os.replace(name, self.path)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise

    def _keyed(self) -> dict:
        data = self._load()
        if not data["key"]:
            data["key"] = secrets.token_hex(32)
            self._save(data)
        return data

    def key_for(self, purpose: str) -> bytes:
        """A key for one purpose (the collector's sessions, say), derived from the file's key — made
        now if the file has none yet, so the process starting the server should ask first, before
        any worker does."""
        return hmac.new(bytes.fromhex(self._keyed()["key"]), f"c315 serve: {purpose}".encode(), hashlib.sha256).digest()

    # --- units ---

    def _derive(self, data: dict, unit: str) -> str:
        generation = data["generations"].get(unit, 0)
        message = f"{self.campaign_id}\n{unit}\n{generation}".encode()
        return hmac.new(bytes.fromhex(data["key"]), message, hashlib.sha256).hexdigest()[:40]

    def unit_tokens(self, units: list[str]) -> dict[str, str]:
        """Each unit's current token (recorded by hash the first time it is handed out)."""
        data = self._keyed()
        known = {entry["sha256"] for entry in data["tokens"]}
        found = {}
        changed = False
        for unit in units:
            token = self._derive(data, unit)
            found[unit] = token
            if digest(token) not in known:
                data["tokens"].append(self._entry(token, "unit", unit))
                changed = True
        if changed:
            self._save(data)
        return found

    # --- collectors ---

    def new_collector_token(self) -> str:
        """A new collector token: shown once, kept only as its hash."""
        data = self._keyed()
        token = secrets.token_urlsafe(32)
        data["tokens"].append(self._entry(token, "collector", None))
        self._save(data)
        return token

    def _entry(self, token: str, role: str, unit: str | None) -> dict:
        return {"sha256": digest(token), "role": role, "unit": unit,
                "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "revoked_at": None}

    # --- checking and revoking ---

    def holder(self, token: str | None) -> Holder | None:
        """Whose token this is; None for no token, an unknown one or a revoked one."""
        if not token:
            return None
        wanted = digest(token)
        found = None
        for entry in self._load()["tokens"]:
            if hmac.compare_digest(entry["sha256"], wanted) and entry["revoked_at"] is None:
                found = entry  # no early return: every entry is compared
        if found is None:
            return None
        return Holder(found["role"], found["unit"])

    def revoke(self, token: str) -> Holder:
        """Revoke a token; a unit's next link is a new one. Raises when the token is unknown."""
        data = self._load()
        wanted = digest(token.strip())
        for entry in data["tokens"]:
            if hmac.compare_digest(entry["sha256"], wanted) and entry["revoked_at"] is None:
                entry["revoked_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
                if entry["role"] == "unit":
                    data["generations"][entry["unit"]] = data["generations"].get(entry["unit"], 0) + 1
                self._save(data)
                return Holder(entry["role"], entry["unit"])
        raise C315Error("没有这个令牌（或它已被吊销）。")
