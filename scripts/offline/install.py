"""c315 离线安装：在本文件旁边（或命令行给出的文件夹）建一个 Python 虚拟环境，只用本文件夹
wheels/ 里的安装包安装 c315，不连网、不读本机的 pip 设置。install.bat（Windows）和 install.sh
（Linux）找到合适的 Python 后运行本文件。

    python install.py [安装到的文件夹]      默认：本文件旁边的 c315 文件夹

(The offline installer inside c315's bundle, run by install.bat / install.sh. Standard library only;
written for any Python from 3.6 so that a wrong one still gets the Chinese message, not a SyntaxError.)
"""

import json
import os
import subprocess
import sys
import sysconfig

HERE = os.path.dirname(os.path.abspath(__file__))
WINDOWS = os.name == "nt"
VERSION = "{}.{}".format(*sys.version_info[:2])


def say(text):
    try:
        print(text, flush=True)
    except UnicodeEncodeError:  # a console that cannot show Chinese: say it in ASCII at least
        print(text.encode("ascii", "replace").decode("ascii"), flush=True)


def fail(text):
    say("")
    say("安装没有完成：" + text)
    sys.exit(1)


def bundle():
    with open(os.path.join(HERE, "bundle.json"), encoding="utf-8") as handle:
        return json.load(handle)


def check_python(info):
    version = VERSION
    here = sysconfig.get_platform()
    if here == "win32" and info["python_platform"] == "win-amd64":
        fail(f"这个 Python（{sys.executable}）是 32 位的。c315 需要 64 位的 Python {' 或 '.join(info['pythons'])}，"
             "安装程序的名字里带 amd64。")
    if here != info["python_platform"]:
        fail("这个安装包是给 {} 的（{}），这台电脑上的 Python 是 {}。请使用对应的安装包。".format(info["platform_zh"], info["python_platform"], here))
    if version not in info["pythons"]:
        fail("需要 Python {}，而这个 Python 是 {}（{}）。请安装 Python {} 后重新运行。".format(" 或 ".join(info["pythons"]), version, sys.executable, info["pythons"][-1]))
    return "cp" + version.replace(".", "")


def target_folder():
    if len(sys.argv) > 2:
        fail("只需要一个参数：安装到的文件夹。")
    folder = sys.argv[1] if len(sys.argv) == 2 else os.path.join(HERE, "c315")
    folder = os.path.abspath(folder)
    if os.path.isfile(folder):
        fail(f"{folder} 是一个文件。请换一个文件夹。")
    if os.path.isdir(folder) and os.listdir(folder) and not os.path.isfile(os.path.join(folder, "pyvenv.cfg")):
        fail(f"文件夹 {folder} 里已有别的文件，为免覆盖没有动它。请换一个新文件夹，或删掉它后重新运行。")
    return folder


def venv_python(folder):
    if WINDOWS:
        return os.path.join(folder, "Scripts", "python.exe")
    return os.path.join(folder, "bin", "python")


def c315_program(folder):
    if WINDOWS:
        return os.path.join(folder, "Scripts", "c315.exe")
    return os.path.join(folder, "bin", "c315")


def quiet_environment():
    """No pip setting of this machine (an index, a proxy, extra folders) may take part."""
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("PIP_") and k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"))
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_NO_INDEX"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def make_venv(folder):
    if os.path.isfile(os.path.join(folder, "pyvenv.cfg")):
        say("c315 文件夹已存在，在原处更新。")
        if os.path.isfile(venv_python(folder)):
            return
    done = subprocess.run([sys.executable, "-m", "venv", folder], env=quiet_environment())
    if done.returncode != 0 or not os.path.isfile(venv_python(folder)):
        hint = ("请确认 Python 安装完整（安装时勾选了 pip）。" if WINDOWS else
                f"Debian/Ubuntu/统信/麒麟 上请先安装 python{VERSION}-venv（如 sudo apt install python{VERSION}-venv）。")
        fail(f"无法在 {folder} 建立 Python 虚拟环境。{hint}")


def venv_tag(folder, info):
    """The wheels to install are those of the environment's Python (an earlier install may have
    made it with another Python than the one running now)."""
    done = subprocess.run([venv_python(folder), "-c", "import sys; print('{}.{}'.format(*sys.version_info[:2]))"],
                          capture_output=True, env=quiet_environment())
    version = done.stdout.decode("ascii", "replace").strip()
    if done.returncode != 0 or version not in info["pythons"]:
        fail(f"{folder} 里已有的 Python 环境用不了（Python {version or '未知'}）。请删除这个文件夹后重新安装。")
    return "cp" + version.replace(".", "")


def install(folder, tag):
    requirements = os.path.join(HERE, f"requirements-{tag}.txt")
    wheels = os.path.join(HERE, "wheels")
    done = subprocess.run(
        [venv_python(folder), "-m", "pip", "install", "--quiet", "--no-index", "--find-links", wheels,
         "--require-hashes", "--only-binary", ":all:", "--no-warn-script-location", "-r", requirements],
        env=quiet_environment(),
    )
    if done.returncode != 0:
        fail("安装包没能装上（见上面 pip 的说明）。如果提示 hash 不符，说明复制时文件损坏了：请重新复制整个压缩包后再解压安装。")


def check(folder):
    program = c315_program(folder)
    done = subprocess.run([program, "--help"], capture_output=True, env=quiet_environment())
    if done.returncode != 0:
        say(done.stderr.decode("utf-8", "replace"))
        fail("c315 已安装，但试运行没有成功（见上面的说明）。")
    return program


def write_launcher(folder):
    """Windows: a double-clickable command prompt beside the c315 folder where ``c315`` works."""
    if not WINDOWS:
        return None
    launcher = os.path.join(os.path.dirname(folder), "c315命令行.bat")
    scripts = os.path.join(folder, "Scripts")
    try:  # cmd reads a .bat in the console's code page ("oem": 936 on a Chinese PC)
        body = ("@echo off\r\n"
                "rem Made by c315's install.bat: a command prompt where the c315 command works.\r\n"
                "cd /d \"%~dp0\"\r\n"
                "set \"PATH=" + scripts + ";%PATH%\"\r\n"
                "c315 --help\r\n"
                "cmd /k\r\n").encode("oem")
    except (UnicodeError, LookupError):  # a folder name that code page cannot write: no launcher
        return None
    with open(launcher, "wb") as handle:
        handle.write(body)
    return launcher


def main():
    info = bundle()
    check_python(info)
    folder = target_folder()
    say(f"c315 {info['version']} 离线安装：Python {VERSION}，安装到 {folder}")
    make_venv(folder)
    say("正在安装（不连网，约半分钟）……")
    install(folder, venv_tag(folder, info))
    program = check(folder)
    launcher = write_launcher(folder)
    say("")
    say(f"安装完成：{program}")
    if launcher:
        say(f"双击「{os.path.basename(launcher)}」打开命令行，输入 c315 demo 看一遍完整演示。")
    elif WINDOWS:
        say(f"打开命令行，输入 \"{program}\" demo 看一遍完整演示。")
    else:
        say("运行 {} demo 看一遍完整演示；或先 . {} 后直接用 c315。".format(program, os.path.join(folder, "bin", "activate")))
    say("说明见「使用说明.txt」。")


if __name__ == "__main__":
    main()
