"""Fuzzing ingest with hypothesis: real generated-and-filled returns with their bytes flipped,
inserted, deleted and cut; their zip entries shuffled, dropped, doubled and renamed; the XML
inside mutated and zipped again; and random values and labels typed into them.

Whatever comes in, ``ingest_file`` returns: accepted (and then every quantity stored is a whole
number ≥ 0, or None), rejected with an error from the catalogue, or a duplicate — it never
raises and never hangs.

CI runs a small, fixed set of examples. ``scripts/fuzz.py`` (``make fuzz``) runs the same
properties for as long as asked, with fresh randomness; what it finds becomes a case in
``test_hostile.py``. Settings come from the environment so both share this file:

- ``C315_FUZZ_EXAMPLES``: examples per property (default: the CI budget of each).
- ``C315_FUZZ_RANDOM``: set to draw new examples each run instead of the fixed CI ones.
- ``C315_FUZZ_KEEP``: a folder; each example's bytes are written there before it is ingested,
  so one that kills the process outright (a Rust abort) is left behind to look at.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import GOOD_QUANTITIES, GOOD_REMARKS, GOOD_ROSTER
from fill import blank, fill_roster, fill_stats
from guards import deadline
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from zipkit import read_parts, rezip

from campaign315.common.files import shipped
from campaign315.intake.ingest import FileResult, ingest_file
from campaign315.spec.campaign import load_campaign
from campaign315.spec.problems import Code
from campaign315.store import Store, open_store

EXAMPLES = int(os.environ.get("C315_FUZZ_EXAMPLES") or 0)
RANDOM = bool(os.environ.get("C315_FUZZ_RANDOM"))
KEEP = os.environ.get("C315_FUZZ_KEEP")
EXAMPLE_SECONDS = 120
"""After this long one example did not just take long: ingest hung."""
CODES = frozenset(str(code) for code in Code)
FILLER = {"filler": "张涛", "phone": "13682055679"}


def fuzz_settings(ci_examples: int):
    return settings(
        max_examples=EXAMPLES or ci_examples,
        deadline=None,
        derandomize=not RANDOM,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )


# --- what every example starts from and ends in ---------------------------------------------

CAMPAIGN = load_campaign(shipped("data") / "campaign.toml")
SEEDS = ("stats.xlsx", "stats.docx", "roster.xlsx", "roster.docx")


class Seeds(dict):
    """The clean returns, by name (shown short: hypothesis prints its arguments)."""

    def __repr__(self) -> str:
        return f"Seeds({', '.join(self)})"


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> Seeds:
    """The clean returns every mutation starts from, by name."""
    root = tmp_path_factory.mktemp("seeds")
    made = Seeds()
    for fmt in ("xlsx", "docx"):
        made[f"stats.{fmt}"] = fill_stats(blank(root / f"s{fmt}", "办公室", "stats", fmt), GOOD_QUANTITIES,
                                          remarks=GOOD_REMARKS, **FILLER).read_bytes()
        made[f"roster.{fmt}"] = fill_roster(blank(root / f"r{fmt}", "劝业场市场监管所", "roster", fmt), GOOD_ROSTER,
                                            **FILLER).read_bytes()
    return made


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    with open_store(tmp_path_factory.mktemp("fuzz-store")) as opened:
        yield opened


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    """Where each example is written to be ingested (or ``C315_FUZZ_KEEP``)."""
    folder = Path(KEEP) if KEEP else tmp_path_factory.mktemp("examples")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def ingests_cleanly(data: bytes, name: str, landing: Path, store: Store) -> list[FileResult]:
    """The property itself: ingest the bytes as a file called ``name``; each return found in it is
    accepted with valid values, rejected with a catalogued error, or a duplicate — and nothing is
    raised."""
    path = landing / f"example{Path(name).suffix}"
    path.write_bytes(data)
    with deadline(EXAMPLE_SECONDS):
        results = ingest_file(path, CAMPAIGN, store)
    assert results
    for result in results:
        _judged(result, store)
    for archived in Path(store.where).rglob(f"{results[0].sha256}*") if results[0].sha256 else ():
        archived.unlink()  # the archive is not under test here, and a long run would fill the disk
    return results


def _judged(result: FileResult, store: Store) -> None:
    assert result.outcome in ("accepted", "rejected", "duplicate")
    for found in result.problems:
        assert found.code in CODES and found.severity == Code(found.code).severity and found.message
    errors = [p for p in result.problems if p.severity == "error"]
    if result.outcome == "rejected":
        assert errors
    if result.outcome == "accepted":
        assert not errors
        record = stored(store, result.sha256, result.attachment)
        for line in store.stats_lines([record])[record]:
            assert line.quantity is None or (type(line.quantity) is int and line.quantity >= 0), line
        for entry in store.roster_entries([record])[record]:
            assert entry.name.strip()


def stored(store: Store, sha256: str, attachment: str | None) -> int:
    """The id of the accepted return with this SHA-256 and attachment, just recorded: received now,
    it is the latest of its unit and form (asked that way: a long run holds tens of thousands)."""
    (record,) = [r for r in store.latest_returns(CAMPAIGN.id, None) if (r.sha256, r.attachment) == (sha256, attachment)]
    assert record.outcome == "accepted"
    return record.id


# --- bytes -----------------------------------------------------------------------------------

position = st.floats(min_value=0, max_value=1, exclude_max=True)
byte_edit = st.one_of(
    st.tuples(st.just("flip"), position, st.integers(1, 255)),
    st.tuples(st.just("insert"), position, st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("delete"), position, st.integers(1, 4096)),
    st.tuples(st.just("truncate"), position, st.just(0)),
)


def edit_bytes(data: bytes, edits) -> bytes:
    buffer = bytearray(data)
    for kind, where, amount in edits:
        at = int(where * len(buffer)) if buffer else 0
        if kind == "flip" and buffer:
            buffer[at] ^= amount
        elif kind == "insert":
            buffer[at:at] = amount
        elif kind == "delete":
            del buffer[at:at + amount]
        elif kind == "truncate":
            del buffer[at:]
    return bytes(buffer)


@fuzz_settings(60)
@given(seed=st.sampled_from(SEEDS), edits=st.lists(byte_edit, min_size=1, max_size=4))
def test_mutated_bytes(seeds, landing, store, seed, edits):
    ingests_cleanly(edit_bytes(seeds[seed], edits), seed, landing, store)


# --- zip entries -----------------------------------------------------------------------------

zip_edit = st.one_of(
    st.tuples(st.just("drop"), position),
    st.tuples(st.just("double"), position),
    st.tuples(st.just("rename"), position, st.sampled_from(["xl/worksheets/sheet9.xml", "word/Document.xml", "x", "../x.xml", ""])),
    st.tuples(st.just("swap"), position, position),
)


@fuzz_settings(30)
@given(seed=st.sampled_from(SEEDS), edits=st.lists(zip_edit, max_size=4), shuffle=st.randoms(use_true_random=False),
       stored=st.booleans())
def test_mutated_zip_entries(seeds, landing, store, seed, edits, shuffle, stored):
    entries = list(read_parts(seeds[seed]).items())
    shuffle.shuffle(entries)
    for kind, where, *more in edits:
        if not entries:
            break
        at = int(where * len(entries))
        if kind == "drop":
            del entries[at]
        elif kind == "double":
            entries.insert(at, entries[at])
        elif kind == "rename" and more[0]:
            entries[at] = (more[0], entries[at][1])
        elif kind == "swap":
            other = int(more[0] * len(entries))
            entries[at], entries[other] = entries[other], entries[at]
    data = rezip(entries, zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
    ingests_cleanly(data, seed, landing, store)


# --- the XML inside --------------------------------------------------------------------------

# Fragments that have broken readers before, or that a careless writer might leave.
TOKENS = [
    b'<!DOCTYPE x [<!ENTITY a "b">]>', b"&a;", b"&#0;", b"&#xD800;", b"<![CDATA[", b"]]>", b"<!--", b"-->",
    b'<c r="XFD1048576"><v>1</v></c>', b'<c r="A1048576" t="inlineStr"><is><t>x</t></is></c>', b'<row r="1048576">',
    b'<c><v>1</v></c>', b' uniqueCount="4294967295"', b'<w:gridSpan w:val="99999"/>', b"<w:vMerge/>", b"<f>1/0</f>",
    b"<v>1e309</v>", b"<v>-1</v>", b"<v>NaN</v>", b"<v>99999</v>", b' t="s"', b' t="e"', b' t="d"', b' r="ZZZZ0"',
    b' s="9999"', b"</row>", b"</c>", b"<w:tc>", b"</w:tc>", b"<w:tr>", b"</w:tbl>", b"<w:p>", b"\xff\xfe", b"\x00",
    b"<", b">", b"&", b'"', "填报部门：".encode(), "办公室".encode(), b"_x0000_", b"_xD800_",
]
xml_edit = st.one_of(
    byte_edit,
    st.tuples(st.just("insert"), position, st.sampled_from(TOKENS)),
    st.tuples(st.just("insert"), position, st.sampled_from(TOKENS).map(lambda t: t * 4096)),
)


@fuzz_settings(60)
@given(seed=st.sampled_from(SEEDS), part=position, edits=st.lists(xml_edit, min_size=1, max_size=4))
def test_mutated_xml_inside(seeds, landing, store, seed, part, edits):
    parts = read_parts(seeds[seed])
    names = sorted(name for name in parts if name.endswith((".xml", ".rels")))
    name = names[int(part * len(names))]
    parts[name] = edit_bytes(parts[name], edits)
    ingests_cleanly(rezip(parts), seed, landing, store)


# --- values and labels, typed -----------------------------------------------------------------

ITEMS = [item.key for item in CAMPAIGN.attachments.stats.items]
typed_text = st.text(st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="\t\n"), max_size=30)
typed_value = st.one_of(
    st.none(),
    st.integers(-(10**22), 10**22),
    st.floats(allow_nan=True, allow_infinity=True),
    typed_text,
    st.dates(dt.date(1900, 3, 1), dt.date(9999, 12, 31)),
)


@fuzz_settings(40)
@given(fmt=st.sampled_from(["xlsx", "docx"]),
       quantities=st.dictionaries(st.sampled_from(ITEMS), typed_value, max_size=6),
       labels=st.dictionaries(st.sampled_from(ITEMS), typed_text, max_size=2),
       unit=st.one_of(st.none(), typed_text, st.sampled_from(["办公室", "广告科", " 办 公 室 ", "\u202e办公室"])))
def test_random_values_and_labels(seeds, landing, store, tmp_path_factory, fmt, quantities, labels, unit):
    folder = tmp_path_factory.mktemp("typed")
    path = folder / f"typed.{fmt}"
    path.write_bytes(seeds[f"stats.{fmt}"])
    fill_stats(path, quantities, labels=labels, unit=unit)
    (result,) = ingests_cleanly(path.read_bytes(), path.name, landing, store)
    shutil.rmtree(folder)
    if result.outcome != "accepted":
        return
    record = stored(store, result.sha256, result.attachment)
    lines = {line.key: line for line in store.stats_lines([record])[record]}
    for key, value in quantities.items():
        if type(value) is int and 0 <= value < 2**53 and key not in labels:
            assert lines[key].quantity == value, (key, value, lines[key])
