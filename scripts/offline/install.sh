#!/bin/sh
# c315 离线安装（Linux）：sh install.sh [安装到的文件夹]   默认：本文件旁边的 c315 文件夹。
# 只用本文件夹 wheels/ 里的安装包，不连网。PYTHON=/路径/python3.12 sh install.sh 可指定用哪个 Python。
here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${PYTHON:-}" ]; then
  exec "$PYTHON" "$here/install.py" "$@"
fi
for python in python3.12 python3.11 python3; do
  if command -v "$python" >/dev/null 2>&1 && "$python" -c 'import sys; sys.exit(sys.version_info[:2] not in ((3, 11), (3, 12)))' 2>/dev/null; then
    exec "$python" "$here/install.py" "$@"
  fi
done
echo "没有找到 Python 3.11 或 3.12。请先安装（如 sudo apt install python3.11 python3.11-venv），再运行 sh install.sh。" >&2
exit 1
