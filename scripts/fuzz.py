"""``make fuzz``: the fuzz properties of ``tests/test_fuzz.py``, run far longer than CI runs them,
with fresh randomness each time.

    python scripts/fuzz.py                       # 20,000 examples per property
    python scripts/fuzz.py --examples 2000 -k xml
    python scripts/fuzz.py --seed 315            # the same draw again

Every example's bytes are written to ``--keep`` (default ``fuzz-findings/``) just before it is
ingested, so one that kills the process outright — a Rust abort in a reader, which no ``except``
catches — is left there, named after the property, to be looked at. A property that fails
normally is shrunk by hypothesis and printed. Either way, make the finding a case in
``tests/test_hostile.py``, then fix it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROPERTIES = ("test_mutated_bytes", "test_mutated_zip_entries", "test_mutated_xml_inside", "test_random_values_and_labels")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=20_000, help="examples per property (default 20000)")
    parser.add_argument("-k", dest="only", default="", help="run only the properties whose name contains this")
    parser.add_argument("--seed", type=int, help="hypothesis seed, to repeat a run")
    parser.add_argument("--keep", type=Path, default=ROOT / "fuzz-findings", help="where each example is written before it runs")
    options = parser.parse_args()

    failed = []
    for name in PROPERTIES:
        if options.only not in name:
            continue
        keep = options.keep / name
        keep.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "C315_FUZZ_EXAMPLES": str(options.examples), "C315_FUZZ_RANDOM": "1", "C315_FUZZ_KEEP": str(keep)}
        command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "--hypothesis-show-statistics",
                   f"tests/test_fuzz.py::{name}"]
        if options.seed is not None:
            command.append(f"--hypothesis-seed={options.seed}")
        print(f"== {name}: {options.examples} examples", flush=True)
        done = subprocess.run(command, cwd=ROOT, env=env)
        if done.returncode < 0 or done.returncode > 1:
            print(f"!! {name} died (exit {done.returncode}): the example that killed it is in {keep}", flush=True)
            failed.append(name)
        elif done.returncode == 1:
            failed.append(name)
        else:
            for leftover in keep.iterdir():
                leftover.unlink()
            keep.rmdir()
    if failed:
        print(f"findings in: {', '.join(failed)} — make each a case in tests/test_hostile.py", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
