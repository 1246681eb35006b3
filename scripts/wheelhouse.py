"""``make wheelhouse``: the offline install bundles — one zip per platform that a collector carries
on a USB stick to an office PC with no internet, then runs ``install.bat`` (or ``install.sh``).

    python scripts/wheelhouse.py                              # dist/c315-<version>-offline-win_amd64.zip and …-linux_x86_64.zip
    python scripts/wheelhouse.py --platform linux_x86_64      # one platform
    python scripts/wheelhouse.py --check dist/c315-0.1.0-offline-win_amd64.zip
    python scripts/wheelhouse.py --try dist/c315-0.1.0-offline-linux_x86_64.zip --python python3.11

A bundle holds, in one folder ``c315-<version>-offline-<platform>/``: ``wheels/`` (the c315 wheel
built from this checkout and every dependency as a wheel for that platform and for CPython 3.11
and 3.12, fetched with ``pip download --only-binary=:all: --platform … --python-version …``
through this machine's configured package index), ``requirements-cp311.txt`` /
``requirements-cp312.txt`` (each wheel installed, pinned with its SHA-256, so a file damaged on the
stick is refused by name), ``bundle.json``, ``install.py`` with ``install.bat`` or ``install.sh``
(from ``scripts/offline/``) and ``使用说明.txt``.

The completeness check (also ``--check``) walks each Python's dependency tree from
``campaign315`` the way the target's pip will: every ``Requires-Dist`` whose marker holds on that
platform and Python (evaluated with ``packaging`` in the target's marker environment, not this
machine's) must be met by a wheel in the bundle whose tags the target accepts. ``pip download``
itself evaluates markers for the machine it runs on, so it misses a dependency only another
platform needs (typer needs ``colorama`` on Windows): the builder downloads what the check finds
missing until nothing is, and drops wheels no target needs.

``--try`` unpacks a bundle into a folder whose path has Chinese characters and spaces, runs its
installer with the package index unreachable (in a network namespace with no network where
``unshare -n`` is allowed; in any case the installer gives pip ``--no-index`` and
``PIP_NO_INDEX=1`` and ignores this machine's pip settings), the same again over its own install,
and then ``c315 demo`` with the installed c315. CI runs it on the Linux bundle.
"""

from __future__ import annotations

import argparse
import contextlib
import email.parser
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import NormalizedName, canonicalize_name, parse_wheel_filename
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
OFFLINE = ROOT / "scripts" / "offline"
PYTHONS = ("3.11", "3.12")
PROJECT = canonicalize_name("campaign315")


@dataclass(frozen=True)
class Platform:
    """A platform a bundle is made for: the wheel tags it accepts (best first) and the marker
    environment its pip evaluates ``Requires-Dist`` in."""

    name: str                      # in the zip's name
    title: str                     # in Chinese, for the installer's messages
    python_platform: str           # sysconfig.get_platform() there
    wheel_platforms: tuple[str, ...]
    markers: dict[str, str]
    installer: str                 # install.bat / install.sh
    windows: bool


PLATFORMS = {
    "win_amd64": Platform(
        "win_amd64", "Windows 64 位", "win-amd64", ("win_amd64",),
        {"os_name": "nt", "sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64",
         "platform_release": "10", "platform_version": "10.0.19045"},
        "install.bat", True),
    # manylinux2014 (glibc 2.17) and older: every dependency has such wheels, and they run on any
    # Linux from CentOS 7 on, 统信 UOS and 麒麟 included.
    "linux_x86_64": Platform(
        "linux_x86_64", "Linux x86_64", "linux-x86_64",
        ("manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux_2_12_x86_64", "manylinux2010_x86_64",
         "manylinux_2_5_x86_64", "manylinux1_x86_64"),
        {"os_name": "posix", "sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64",
         "platform_release": "", "platform_version": ""},
        "install.sh", False),
}


def version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def bundle_name(platform: Platform) -> str:
    return f"c315-{version()}-offline-{platform.name}"


# --- the completeness check ------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One platform and one CPython version: what its pip would accept and how it reads markers."""

    platform: Platform
    python: str

    @property
    def tag(self) -> str:
        return "cp" + self.python.replace(".", "")

    def accepts(self) -> set[Tag]:
        major, minor = (int(part) for part in self.python.split("."))
        platforms = list(self.platform.wheel_platforms)
        return set(cpython_tags((major, minor), abis=[self.tag], platforms=platforms)) | set(
            compatible_tags((major, minor), interpreter=self.tag, platforms=platforms))

    def environment(self, extra: str = "") -> dict[str, str]:
        return {**self.platform.markers, "implementation_name": "cpython", "platform_python_implementation": "CPython",
                "python_version": self.python, "python_full_version": f"{self.python}.0",
                "implementation_version": f"{self.python}.0", "extra": extra}


@dataclass
class Wheel:
    path: Path
    name: NormalizedName
    version: Version
    tags: frozenset[Tag]
    requires: list[Requirement]
    requires_python: SpecifierSet

    @classmethod
    def read(cls, path: Path) -> Wheel:
        name, version, _build, tags = parse_wheel_filename(path.name)
        with zipfile.ZipFile(path) as archive:
            metadata_name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
            metadata = email.parser.BytesParser().parsebytes(archive.read(metadata_name), headersonly=True)
        requires = [Requirement(text) for text in metadata.get_all("Requires-Dist") or []]
        return cls(path, name, version, frozenset(tags), requires, SpecifierSet(metadata.get("Requires-Python") or ""))


@dataclass
class Closure:
    """What one target installs (name → wheel) and every requirement the bundle cannot meet."""

    target: Target
    chosen: dict[NormalizedName, Wheel] = field(default_factory=dict)
    missing: list[tuple[Requirement, str]] = field(default_factory=list)   # (requirement, needed by)
    conflicts: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing and not self.conflicts and PROJECT in self.chosen


def closure(wheels: list[Wheel], target: Target, root: Requirement | None = None) -> Closure:
    """Walk the dependency tree from ``root`` (campaign315) as the target's pip would: a requirement
    counts when its marker holds in the target's environment (with the extras asked of its
    package); it is met by the newest wheel of its name and version whose tags the target
    accepts and whose Requires-Python admits the target's Python."""
    accepted = target.accepts()
    python = Version(f"{target.python}.0")
    usable: dict[NormalizedName, list[Wheel]] = {}
    for wheel in wheels:
        if wheel.tags & accepted and wheel.requires_python.contains(python, prereleases=True):
            usable.setdefault(wheel.name, []).append(wheel)
    found = Closure(target)
    queue: list[tuple[Requirement, str]] = [(root or Requirement(PROJECT), "")]
    visited: set[tuple[NormalizedName, frozenset[str]]] = set()
    while queue:
        requirement, needed_by = queue.pop(0)
        name = canonicalize_name(requirement.name)
        chosen = found.chosen.get(name)
        if chosen is not None:
            if not requirement.specifier.contains(chosen.version, prereleases=True):
                found.conflicts.append(f"{needed_by} needs {requirement}, but {chosen.path.name} is the one installed")
                continue
        else:
            candidates = [w for w in usable.get(name, []) if requirement.specifier.contains(w.version, prereleases=True)]
            if not candidates:
                found.missing.append((requirement, needed_by))
                continue
            chosen = found.chosen[name] = max(candidates, key=lambda w: w.version)
        extras = frozenset(canonicalize_name(extra) for extra in requirement.extras)
        if (name, extras) in visited:
            continue
        visited.add((name, extras))
        for dependency in chosen.requires:
            if _applies(dependency, target, extras):
                queue.append((dependency, f"{chosen.name} {chosen.version}"))
    return found


def _applies(requirement: Requirement, target: Target, extras: frozenset[str]) -> bool:
    marker: Marker | None = requirement.marker
    if marker is None:
        return True
    return any(marker.evaluate(target.environment(extra)) for extra in ("", *extras))


def read_wheels(folder: Path) -> list[Wheel]:
    return [Wheel.read(path) for path in sorted(folder.glob("*.whl"))]


# --- building --------------------------------------------------------------------------------


def build_c315_wheel(out: Path) -> Path:
    isolation = ["--no-isolation"] if importlib.util.find_spec("hatchling") else []
    _run([sys.executable, "-m", "build", "--wheel", *isolation, "--outdir", out, ROOT], "build the c315 wheel")
    (wheel,) = out.glob("campaign315-*.whl")
    return wheel


def download(requirements: list[str], target: Target, into: Path) -> None:
    """``pip download`` of the requirements and their dependencies, binary wheels only, for the target."""
    platforms = [arg for tag in target.platform.wheel_platforms for arg in ("--platform", tag)]
    _run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--only-binary=:all:",
          *platforms, "--python-version", target.python, "--implementation", "cp", "--abi", target.tag,
          "--dest", into, *requirements], f"download wheels for {target.platform.name} / CPython {target.python}", capture=True)


def fill(wheels_dir: Path, c315: Path, targets: list[Target]) -> list[Closure]:
    """Download every target's wheels, then what the completeness check finds missing, until
    nothing is (or a round brings nothing new: then the closures say what could not be had)."""
    for target in targets:
        download([str(c315)], target, wheels_dir)
    while True:
        closures = [closure(read_wheels(wheels_dir), target) for target in targets]
        wanted = {(found.target.python, f"{req.name}{req.specifier}"): found.target
                  for found in closures for req, _ in found.missing}
        if not wanted:
            return closures
        before = {path.name for path in wheels_dir.glob("*.whl")}
        for (_, requirement), target in sorted(wanted.items()):
            print(f"  {target.platform.name} / CPython {target.python}: pip download missed {requirement} "
                  f"(a dependency on that platform only); fetching it")
            with contextlib.suppress(SystemExit):  # not to be had: the closures below say so
                download([requirement], target, wheels_dir)
        if {path.name for path in wheels_dir.glob("*.whl")} == before:
            return [closure(read_wheels(wheels_dir), target) for target in targets]


def build(platform: Platform, dist: Path, c315: Path) -> Path:
    name = bundle_name(platform)
    work = Path(tempfile.mkdtemp(prefix="c315-wheelhouse-"))
    try:
        folder = work / name
        wheels_dir = folder / "wheels"
        wheels_dir.mkdir(parents=True)
        shutil.copy2(c315, wheels_dir / c315.name)
        targets = [Target(platform, python) for python in PYTHONS]
        closures = fill(wheels_dir, wheels_dir / c315.name, targets)
        report(closures)
        if not all(found.complete for found in closures):
            raise SystemExit(f"{name}: incomplete, no bundle written.")
        needed = {wheel.path.name for found in closures for wheel in found.chosen.values()}
        for path in wheels_dir.glob("*.whl"):
            if path.name not in needed:
                print(f"  dropped {path.name}: no target installs it")
                path.unlink()
        for found in closures:
            write_requirements(folder / f"requirements-{found.target.tag}.txt", found)
        write_payload(folder, platform)
        dist.mkdir(parents=True, exist_ok=True)
        out = dist / f"{name}.zip"
        write_zip(folder, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def write_requirements(path: Path, found: Closure) -> None:
    target = found.target
    lines = [f"# c315 {version()} for CPython {target.python} on {target.platform.name}: every wheel install.py",
             "# installs from wheels/, pinned with its SHA-256 (pip install --require-hashes).", ""]
    for name in sorted(found.chosen, key=lambda n: (n != PROJECT, n)):
        wheel = found.chosen[name]
        digest = hashlib.sha256(wheel.path.read_bytes()).hexdigest()
        lines.append(f"{wheel.name}=={wheel.version} --hash=sha256:{digest}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")


def write_payload(folder: Path, platform: Platform) -> None:
    """The installer, its instructions and bundle.json, in the platform's encodings and line ends."""
    info = {"version": version(), "platform": platform.name, "platform_zh": platform.title,
            "python_platform": platform.python_platform, "pythons": list(PYTHONS)}
    (folder / "bundle.json").write_text(json.dumps(info, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    shutil.copy2(OFFLINE / "install.py", folder / "install.py")
    guide = (OFFLINE / f"使用说明-{'windows' if platform.windows else 'linux'}.txt").read_text(encoding="utf-8")
    guide = guide.replace("{version}", version())
    installer = (OFFLINE / platform.installer).read_text(encoding="utf-8")
    if platform.windows:
        # Notepad of every Windows version reads UTF-8 with a BOM; cmd reads a .bat in the console's
        # code page, which is GBK (936) on a Chinese PC.
        (folder / "使用说明.txt").write_bytes(b"\xef\xbb\xbf" + guide.replace("\n", "\r\n").encode("utf-8"))
        (folder / platform.installer).write_bytes(installer.replace("\n", "\r\n").encode("gbk"))
    else:
        (folder / "使用说明.txt").write_text(guide, encoding="utf-8", newline="\n")
        (folder / platform.installer).write_text(installer, encoding="utf-8", newline="\n")


def write_zip(folder: Path, out: Path) -> None:
    """Every file under one top folder; wheels stored (they are zips already), text deflated;
    install.sh executable when unpacked with unzip."""
    partial = out.with_suffix(".zip.part")
    with zipfile.ZipFile(partial, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if not path.is_file():
                continue
            info = zipfile.ZipInfo(f"{folder.name}/{path.relative_to(folder).as_posix()}", date_time=(2020, 3, 15, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED if path.suffix == ".whl" else zipfile.ZIP_DEFLATED
            info.external_attr = (0o755 if path.suffix == ".sh" else 0o644) << 16
            archive.writestr(info, path.read_bytes())
    partial.replace(out)


def report(closures: list[Closure]) -> None:
    for found in closures:
        target = found.target
        state = "complete" if found.complete else "INCOMPLETE"
        print(f"  {target.platform.name} / CPython {target.python}: {len(found.chosen)} wheels, {state}")
        for requirement, needed_by in found.missing:
            print(f"    missing: {requirement} (needed by {needed_by or 'the bundle'})")
        for conflict in found.conflicts:
            print(f"    conflict: {conflict}")


# --- checking a zip --------------------------------------------------------------------------


def check_zip(path: Path) -> bool:
    """The completeness check on a built bundle, and that its pinned requirements are what it
    holds (names, versions and SHA-256) and its installer and instructions are there."""
    work = Path(tempfile.mkdtemp(prefix="c315-check-"))
    try:
        with zipfile.ZipFile(path) as archive:
            archive.extractall(work)
        (folder,) = work.iterdir()
        info = json.loads((folder / "bundle.json").read_text(encoding="utf-8"))
        platform = PLATFORMS[info["platform"]]
        wheels = read_wheels(folder / "wheels")
        closures = [closure(wheels, Target(platform, python)) for python in info["pythons"]]
        print(f"{path.name}: {len(wheels)} wheels, {path.stat().st_size / 1024 / 1024:.1f} MiB")
        report(closures)
        ok = all(found.complete for found in closures)
        for found in closures:
            pinned = _pinned(folder / f"requirements-{found.target.tag}.txt")
            expected = {wheel.name: (str(wheel.version), hashlib.sha256(wheel.path.read_bytes()).hexdigest())
                        for wheel in found.chosen.values()}
            if pinned != expected:
                print(f"    requirements-{found.target.tag}.txt does not match the wheels the check chose")
                ok = False
        for needed in (platform.installer, "install.py", "使用说明.txt"):
            if not (folder / needed).is_file():
                print(f"    {needed} is missing")
                ok = False
        unused = {w.path.name for w in wheels} - {w.path.name for found in closures for w in found.chosen.values()}
        if unused:
            print(f"    wheels no target installs: {', '.join(sorted(unused))}")
            ok = False
        return ok
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _pinned(path: Path) -> dict[NormalizedName, tuple[str, str]]:
    pinned = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            requirement, _, digest = line.partition(" --hash=sha256:")
            name, _, exact = requirement.partition("==")
            pinned[canonicalize_name(name)] = (exact, digest.strip())
    return pinned


# --- trying a bundle offline -----------------------------------------------------------------


def try_offline(path: Path, pythons: list[str], demo: bool) -> None:
    """Unpack, install with the package index unreachable, and run c315 from the installed copy."""
    work = Path(tempfile.mkdtemp(prefix="c315-try-")) / "离线 安装包"
    work.mkdir()
    with zipfile.ZipFile(path) as archive:
        for member in archive.infolist():
            archive.extract(member, work)
            mode = member.external_attr >> 16
            if mode:
                os.chmod(work / member.filename, mode)
    (folder,) = work.iterdir()
    offline = _offline_prefix()
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "C315_WORKSPACE")}
    env.update(PIP_NO_INDEX="1", PIP_INDEX_URL="http://127.0.0.1:9/simple", PIP_FIND_LINKS="", PYTHONIOENCODING="utf-8")
    for number, python in enumerate(pythons):
        installed = folder / f"c315 {number}"
        print(f"$ PYTHON={python} sh install.sh '{installed.name}'   # {'no network' if offline else 'PIP_NO_INDEX=1'}", flush=True)
        _run([*offline, "sh", folder / "install.sh", installed], "install offline", env={**env, "PYTHON": python}, cwd=folder)
        if number == 0:  # the same bundle again over its own install: updated in place
            print(f"$ PYTHON={python} sh install.sh '{installed.name}'   # again", flush=True)
            _run([*offline, "sh", folder / "install.sh", installed], "install again", env={**env, "PYTHON": python}, cwd=folder)
        c315 = installed / "bin" / "c315"
        where = _run([installed / "bin" / "python", "-c", "import campaign315, sys; print(campaign315.__file__)"],
                     "find the installed c315", env=env, capture=True).strip()
        if not Path(where).is_relative_to(installed):
            raise SystemExit(f"the installed c315 is not the one imported: {where}")
        if demo and number == len(pythons) - 1:
            print(f"$ {c315} demo '演示 目录'", flush=True)
            _run([*offline, c315, "demo", "演示 目录"], "c315 demo", env=env, cwd=folder)
            _check_demo(folder / "演示 目录")
        else:
            _run([*offline, c315, "generate-forms", "--out", "空白 表", "-d", "办公室"], "c315 generate-forms", env=env, cwd=folder)
    shutil.rmtree(work.parent, ignore_errors=True)


def find_pythons() -> list[str]:
    """One interpreter of each CPython version a bundle is for, found on PATH or under pyenv."""
    candidates = [shutil.which(f"python{version}") for version in PYTHONS] + [shutil.which("python3"), sys.executable]
    pyenv = shutil.which("pyenv")
    if pyenv:
        root = subprocess.run([pyenv, "root"], capture_output=True, text=True).stdout.strip()
        candidates += sorted(str(p) for p in Path(root).glob("versions/3.1*/bin/python3") if root)
    found: dict[str, str] = {}
    for candidate in filter(None, candidates):
        done = subprocess.run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                              capture_output=True, text=True)
        version = done.stdout.strip()
        if done.returncode == 0 and version in PYTHONS:
            found.setdefault(version, candidate)
    return [found[version] for version in PYTHONS if version in found]


def _check_demo(demo: Path) -> None:
    """The layout README promises: 72 blank forms, the 35 sample returns, a summary, feedback."""
    counts = {name: sum(1 for p in (demo / name).rglob("*") if p.is_file()) for name in ("forms", "returned", "summary", "feedback")}
    print(f"  {demo.name}/: " + ", ".join(f"{name}/ {count} files" for name, count in counts.items()))
    samples = sum(1 for p in (ROOT / "data" / "samples" / "returned").iterdir() if p.is_file())  # what the wheel ships
    if counts["forms"] != 72 or counts["returned"] != samples or not counts["summary"] or not counts["feedback"]:
        raise SystemExit(f"c315 demo did not write what it should: {counts}")


def _offline_prefix() -> list[str]:
    """``unshare -n`` (a network namespace with nothing in it) where this machine allows one."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n"]
    print("  (unshare -n is not allowed here: the install is kept off the index by PIP_NO_INDEX=1 and --no-index)")
    return []


def _run(args: list, what: str, *, env: dict | None = None, cwd: Path | None = None, capture: bool = False) -> str:
    done = subprocess.run([str(a) for a in args], env=env, cwd=cwd, text=True, capture_output=capture)
    if done.returncode != 0:
        if done.stdout or done.stderr:
            print((done.stdout or "") + (done.stderr or ""), file=sys.stderr)
        raise SystemExit(f"could not {what} (exit {done.returncode}): {' '.join(str(a) for a in args)}")
    return done.stdout or ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--platform", action="append", choices=sorted(PLATFORMS), help="default: every platform")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--check", type=Path, nargs="+", metavar="ZIP", help="check built bundles, build nothing")
    parser.add_argument("--try", dest="trial", type=Path, metavar="ZIP", help="install a Linux bundle offline and run c315")
    parser.add_argument("--python", action="append", help="with --try: the Python(s) to install with "
                                                          "(default: each CPython 3.11 and 3.12 found)")
    parser.add_argument("--no-demo", action="store_true", help="with --try: run generate-forms instead of c315 demo")
    args = parser.parse_args()
    if args.trial:
        try_offline(args.trial, args.python or find_pythons(), demo=not args.no_demo)
        return
    if args.check:
        sys.exit(0 if all([check_zip(path) for path in args.check]) else 1)
    platforms = [PLATFORMS[name] for name in args.platform or PLATFORMS]
    built = []
    with tempfile.TemporaryDirectory(prefix="c315-wheel-") as scratch:
        c315 = build_c315_wheel(Path(scratch))
        for platform in platforms:
            print(f"{bundle_name(platform)}:", flush=True)
            built.append(build(platform, args.dist, c315))
    print()
    if not all([check_zip(path) for path in built]):
        raise SystemExit("a bundle failed its check")
    for path in built:
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} ({path.stat().st_size / 1024 / 1024:.1f} MiB)")


if __name__ == "__main__":
    main()
