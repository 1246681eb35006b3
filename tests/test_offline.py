"""The offline bundle (``make wheelhouse``, scripts/wheelhouse.py) and ``c315 demo``'s folder rules.

The completeness check is tried on small wheels made here, each case a way a real bundle goes
wrong: a dependency only Windows needs (typer's colorama), one only an older Python needs, one an
extra asks for, a binary wheel for the wrong Python or platform, a version or Requires-Python that
does not fit. Building real bundles needs the package index: CI does it (``.ci/run``), installs the
Linux bundle with the index unreachable and runs ``c315 demo`` from it."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import cli_runner

from campaign315.cli import app
from campaign315.demo import MARKER

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("wheelhouse", ROOT / "scripts" / "wheelhouse.py")
wheelhouse = importlib.util.module_from_spec(_spec)
sys.modules["wheelhouse"] = wheelhouse  # dataclasses look their module up while the class is made
_spec.loader.exec_module(wheelhouse)

WINDOWS = wheelhouse.PLATFORMS["win_amd64"]
LINUX = wheelhouse.PLATFORMS["linux_x86_64"]


def make_wheel(folder: Path, name: str, version: str, tag: str = "py3-none-any", requires: tuple[str, ...] = (),
               requires_python: str = "") -> Path:
    """A wheel with only its METADATA — all the check reads."""
    dist = f"{name.replace('-', '_')}-{version}"
    path = folder / f"{dist}-{tag}.whl"
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {requirement}" for requirement in requires]
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr(f"{dist}.dist-info/METADATA", "\n".join(lines) + "\n")
        wheel.writestr(f"{dist}.dist-info/WHEEL", f"Wheel-Version: 1.0\nTag: {tag}\n")
    return path


def check(folder: Path, platform, python: str):
    return wheelhouse.closure(wheelhouse.read_wheels(folder), wheelhouse.Target(platform, python))


def missing(found) -> list[str]:
    return sorted(str(requirement) for requirement, _ in found.missing)


@pytest.fixture
def wheels(tmp_path) -> Path:
    folder = tmp_path / "wheels"
    folder.mkdir()
    make_wheel(folder, "campaign315", "0.1.0", requires=("typer>=0.12", "lxml>=4.9", "tzdata; python_version < '3.12'"))
    make_wheel(folder, "typer", "0.29.2", requires=('colorama; platform_system == "Windows"', "rich[jupyter]>=13"))
    make_wheel(folder, "rich", "15.0.0", requires=('ipywidgets; extra == "jupyter"', 'pygments; extra == "never-asked"'))
    make_wheel(folder, "ipywidgets", "8.0")
    make_wheel(folder, "tzdata", "2026.6", tag="py2.py3-none-any")
    for python in ("311", "312"):
        make_wheel(folder, "lxml", "6.1.3", tag=f"cp{python}-cp{python}-win_amd64")
        make_wheel(folder, "lxml", "6.1.3", tag=f"cp{python}-cp{python}-manylinux2014_x86_64.manylinux_2_17_x86_64")
    return folder


def test_a_dependency_only_windows_needs_is_missed_on_windows_alone(wheels):
    assert missing(check(wheels, WINDOWS, "3.11")) == ['colorama; platform_system == "Windows"']
    linux = check(wheels, LINUX, "3.11")
    assert linux.complete
    assert set(linux.chosen) == {"campaign315", "typer", "rich", "ipywidgets", "tzdata", "lxml"}
    make_wheel(wheels, "colorama", "0.4.6", tag="py2.py3-none-any")
    assert check(wheels, WINDOWS, "3.11").complete


def test_markers_are_read_for_the_target_python_and_extras_asked(wheels):
    make_wheel(wheels, "colorama", "0.4.6", tag="py2.py3-none-any")
    on_311, on_312 = check(wheels, WINDOWS, "3.11"), check(wheels, WINDOWS, "3.12")
    assert "tzdata" in on_311.chosen and "tzdata" not in on_312.chosen   # python_version < '3.12'
    assert "ipywidgets" in on_312.chosen                                 # rich[jupyter] asks for it
    assert "pygments" not in on_312.chosen                               # an extra nobody asks for
    (wheels / "ipywidgets-8.0-py3-none-any.whl").unlink()
    assert missing(check(wheels, WINDOWS, "3.12")) == ['ipywidgets; extra == "jupyter"']


def test_a_binary_wheel_counts_only_for_its_python_and_platform(wheels):
    make_wheel(wheels, "colorama", "0.4.6", tag="py2.py3-none-any")
    (wheels / "lxml-6.1.3-cp312-cp312-win_amd64.whl").unlink()
    assert check(wheels, WINDOWS, "3.11").complete
    assert missing(check(wheels, WINDOWS, "3.12")) == ["lxml>=4.9"]
    assert check(wheels, LINUX, "3.12").complete
    chosen = check(wheels, LINUX, "3.12").chosen["lxml"].path.name
    assert "cp312" in chosen and "manylinux" in chosen


def test_a_linux_wheel_too_new_for_the_bundles_glibc_does_not_count(wheels):
    for python in ("311", "312"):
        (wheels / f"lxml-6.1.3-cp{python}-cp{python}-manylinux2014_x86_64.manylinux_2_17_x86_64.whl").unlink()
        make_wheel(wheels, "lxml", "6.1.3", tag=f"cp{python}-cp{python}-manylinux_2_28_x86_64")
    assert missing(check(wheels, LINUX, "3.11")) == ["lxml>=4.9"]


def test_a_version_or_requires_python_that_does_not_fit_is_missing(wheels):
    make_wheel(wheels, "colorama", "0.4.6", tag="py2.py3-none-any")
    (wheels / "typer-0.29.2-py3-none-any.whl").unlink()
    make_wheel(wheels, "typer", "0.9.0", requires=("rich",))
    assert missing(check(wheels, WINDOWS, "3.12")) == ["typer>=0.12"]
    make_wheel(wheels, "typer", "0.30.0", requires_python=">=3.13")
    assert missing(check(wheels, WINDOWS, "3.12")) == ["typer>=0.12"]
    make_wheel(wheels, "typer", "0.29.2", requires=('colorama; platform_system == "Windows"', "rich>=99"))
    found = check(wheels, WINDOWS, "3.12")
    assert found.chosen["typer"].version.public == "0.29.2"
    assert missing(found) == ["rich>=99"]
    # the project asks for rich itself first: rich 15 is chosen, then typer's rich>=99 conflicts with it
    make_wheel(wheels, "campaign315", "0.1.0", requires=("rich>=13", "typer>=0.12", "lxml>=4.9"))
    found = check(wheels, WINDOWS, "3.12")
    assert missing(found) == [] and not found.complete
    assert found.conflicts == ["typer 0.29.2 needs rich>=99, but rich-15.0.0-py3-none-any.whl is the one installed"]


def test_no_project_wheel_is_never_complete(tmp_path):
    (tmp_path / "w").mkdir()
    make_wheel(tmp_path / "w", "typer", "0.29.2")
    found = check(tmp_path / "w", LINUX, "3.12")
    assert not found.complete and missing(found) == ["campaign315"]


# --- what a bundle holds besides wheels -----------------------------------------------------------


def test_the_windows_installer_is_gbk_with_crlf_and_the_guide_opens_in_notepad(tmp_path):
    folder = tmp_path / "c315-win"
    folder.mkdir()
    wheelhouse.write_payload(folder, WINDOWS)
    batch = (folder / "install.bat").read_bytes()
    assert b"\r\n" in batch and b"\n" not in batch.replace(b"\r\n", b"")
    text = batch.decode("gbk")
    assert "没有找到 Python" in text
    for line in text.splitlines():  # commands stay ASCII: only what cmd echoes is Chinese
        if not line.startswith(("echo ", "rem ")):
            assert line.isascii(), line
    assert '"%~dp0install.py" %*' in text
    guide = (folder / "使用说明.txt").read_bytes()
    assert guide.startswith(b"\xef\xbb\xbf") and b"\n" not in guide.replace(b"\r\n", b"")
    guide_text = guide.decode("utf-8-sig")
    assert "install.bat" in guide_text and "c315 demo" in guide_text and "卸载" in guide_text
    assert f"c315 {wheelhouse.version()}" in guide_text
    info = json.loads((folder / "bundle.json").read_text(encoding="utf-8"))
    assert info == {"version": wheelhouse.version(), "platform": "win_amd64", "platform_zh": "Windows 64 位",
                    "python_platform": "win-amd64", "pythons": ["3.11", "3.12"]}


def test_the_linux_installer_is_executable_in_the_zip(tmp_path):
    folder = tmp_path / "c315-linux"
    folder.mkdir()
    wheelhouse.write_payload(folder, LINUX)
    (folder / "wheels").mkdir()
    make_wheel(folder / "wheels", "campaign315", "0.1.0")
    wheelhouse.write_zip(folder, tmp_path / "bundle.zip")
    with zipfile.ZipFile(tmp_path / "bundle.zip") as bundle:
        modes = {info.filename: info.external_attr >> 16 for info in bundle.infolist()}
        stored = {info.filename: info.compress_type for info in bundle.infolist()}
    assert modes["c315-linux/install.sh"] == 0o755
    assert modes["c315-linux/使用说明.txt"] == 0o644
    assert stored["c315-linux/wheels/campaign315-0.1.0-py3-none-any.whl"] == zipfile.ZIP_STORED
    assert "sh install.sh" in (folder / "使用说明.txt").read_text(encoding="utf-8")


def test_check_zip_refuses_a_bundle_whose_pins_do_not_match_its_wheels(tmp_path, wheels):
    make_wheel(wheels, "colorama", "0.4.6", tag="py2.py3-none-any")
    folder = tmp_path / "c315-0.1.0-offline-win_amd64"
    folder.mkdir()
    wheelhouse.write_payload(folder, WINDOWS)
    for path in wheels.iterdir():
        (folder / "wheels").mkdir(exist_ok=True)
        (folder / "wheels" / path.name).write_bytes(path.read_bytes())
    for python in wheelhouse.PYTHONS:
        target = wheelhouse.Target(WINDOWS, python)
        found = wheelhouse.closure(wheelhouse.read_wheels(folder / "wheels"), target)
        wheelhouse.write_requirements(folder / f"requirements-{target.tag}.txt", found)
    for path in (folder / "wheels").glob("lxml-*manylinux*"):
        path.unlink()  # a Windows bundle carries no Linux wheels
    wheelhouse.write_zip(folder, tmp_path / "good.zip")
    assert wheelhouse.check_zip(tmp_path / "good.zip")
    pins = folder / "requirements-cp312.txt"
    pins.write_text(pins.read_text(encoding="utf-8").replace("typer==0.29.2", "typer==0.29.1"), encoding="utf-8")
    wheelhouse.write_zip(folder, tmp_path / "bad.zip")
    assert not wheelhouse.check_zip(tmp_path / "bad.zip")


# --- install.py refuses what it should, in Chinese -------------------------------------------------


def _bundle_for(tmp_path: Path, platform) -> Path:
    folder = tmp_path / "离线 安装包"
    folder.mkdir()
    wheelhouse.write_payload(folder, platform)
    return folder


def test_install_py_says_which_platform_the_bundle_is_for(tmp_path):
    folder = _bundle_for(tmp_path, WINDOWS)
    done = subprocess.run([sys.executable, folder / "install.py"], capture_output=True, text=True, encoding="utf-8")
    assert done.returncode == 1
    assert "安装没有完成：这个安装包是给 Windows 64 位 的" in done.stdout and "Traceback" not in done.stderr
    assert not (folder / "c315").exists()


def test_install_py_never_installs_over_a_folder_of_other_files(tmp_path):
    folder = _bundle_for(tmp_path, LINUX)
    someone = tmp_path / "工作"
    someone.mkdir()
    (someone / "报表.xlsx").write_bytes(b"mine")
    done = subprocess.run([sys.executable, folder / "install.py", someone], capture_output=True, text=True, encoding="utf-8")
    assert done.returncode == 1
    assert "里已有别的文件" in done.stdout
    assert [p.name for p in someone.iterdir()] == ["报表.xlsx"]


# --- c315 demo's folder ---------------------------------------------------------------------------


def test_demo_refuses_a_folder_that_holds_the_users_files(tmp_path):
    folder = tmp_path / "我的 文件"
    folder.mkdir()
    (folder / "汇总.xlsx").write_bytes(b"keep me")
    result = cli_runner().invoke(app, ["demo", str(folder)])
    assert result.exit_code == 2
    assert result.stderr.startswith("错误：文件夹") and "演示不会动它们" in result.stderr
    assert [(p.name, p.read_bytes()) for p in folder.iterdir()] == [("汇总.xlsx", b"keep me")]


def test_demo_refuses_a_file(tmp_path):
    (tmp_path / "demo").write_text("x", encoding="utf-8")
    result = cli_runner().invoke(app, ["demo", str(tmp_path / "demo")])
    assert result.exit_code == 2 and "是一个文件" in result.stderr


def test_demo_empties_only_a_folder_it_marked(tmp_path, monkeypatch):
    import campaign315.demo as demo

    folder = tmp_path / "demo"
    demo._prepare(folder)
    assert [p.name for p in folder.iterdir()] == [MARKER]
    (folder / "forms").mkdir()
    (folder / "forms" / "old.xlsx").write_bytes(b"old")
    demo._prepare(folder)  # an earlier demo: emptied and marked again
    assert [p.name for p in folder.iterdir()] == [MARKER]
