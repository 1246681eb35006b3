"""``c315 verify``: the store checked against its archive. Every record has its file, every file
its record, and every file still holds the bytes its name — their SHA-256 — promises. Works
through the :class:`~campaign315.store.base.Store` interface alone, so it checks any backend.

>>> import tempfile
>>> from pathlib import Path
>>> from campaign315.store import open_store
>>> with open_store(Path(tempfile.mkdtemp())) as store:
...     verify_store(store)
[]
"""

from __future__ import annotations

from campaign315.spec.location import Location
from campaign315.spec.problems import Code, Problem, problem
from campaign315.store.base import Store


def verify_store(store: Store) -> list[Problem]:
    """Everything wrong between ``store``'s records and its archive, in the order of the keys
    (each problem's location names the archive key as a file); empty when they agree."""
    found: list[Problem] = []
    damage = store.integrity_check()
    if damage:
        found.append(problem(Code.DATABASE_DAMAGED, Location.file("c315.sqlite"), detail="；".join(damage[:5])))
    archive = store.archive
    keys = archive.keys()
    recorded: set[str] = set()
    digests: dict[str, str] = {}
    for record in store.archive_records():
        key = record.archive_key
        recorded.add(key)
        where = Location.file(key)
        if not archive.is_key_of(key, record.sha256):
            found.append(problem(Code.ARCHIVE_MISPLACED, where, record=record.id, filename=record.filename))
        if key not in keys:
            found.append(problem(Code.ARCHIVE_MISSING, where, record=record.id, filename=record.filename))
            continue
        digests[key] = digests.get(key) or archive.digest(key)
        if digests[key] != record.sha256:
            found.append(problem(Code.ARCHIVE_ALTERED, where))
    for key in sorted(keys - recorded):
        named = archive.named_sha256(key)
        if archive.is_temporary(key):
            found.append(problem(Code.ARCHIVE_TEMPORARY, Location.file(key)))
        elif named is None or archive.digest(key) != named:
            found.append(problem(Code.ARCHIVE_STRAY, Location.file(key)))
        else:
            found.append(problem(Code.ARCHIVE_UNRECORDED, Location.file(key)))
    return sorted(found, key=lambda p: (p.location.name, p.code))



