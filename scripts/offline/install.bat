@echo off
rem c315 offline install for Windows (64-bit). Usage: install.bat [folder]
rem Default folder: c315 beside this file. Installs only from wheels\ beside it, never from the network.
rem The bundle builder writes this file in GBK with CRLF line ends: cmd reads it in the console's code page.
setlocal
set "PY="
py -3.12-64 -c "pass" >nul 2>&1 && set "PY=py -3.12-64"
if not defined PY py -3.11-64 -c "pass" >nul 2>&1 && set "PY=py -3.11-64"
if not defined PY python -c "pass" >nul 2>&1 && set "PY=python"
if not defined PY goto no_python
%PY% "%~dp0install.py" %*
set "STATUS=%ERRORLEVEL%"
if not defined C315_NO_PAUSE pause
exit /b %STATUS%

:no_python
echo 没有找到 Python。c315 需要 64 位的 Python 3.11 或 3.12：
echo 请先安装它（安装程序如 python-3.12.x-amd64.exe，可向信息科索取；安装时勾选 Add python.exe to PATH），
echo 然后再双击 install.bat。
if not defined C315_NO_PAUSE pause
exit /b 1
