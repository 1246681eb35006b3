"""The few exceptions that mean "cannot go on". Bad data in a return is never raised: it becomes
a :class:`campaign315.spec.problems.Problem` in a report."""


class C315Error(Exception):
    """A user-facing failure: the message is Chinese and names what to fix. Exit status 2 when the
    call itself is wrong (usage), 1 otherwise."""

    exit_code = 1


class CampaignFileError(C315Error):
    """The campaign file is missing or malformed."""


class UsageError(C315Error):
    """The command line names something that does not exist (a unit, a folder, a date)."""

    exit_code = 2


class WouldOverwrite(C315Error):
    """A file c315 would write already exists and may hold someone's work."""


class StoreProblem(C315Error):
    """The store cannot be written or read: the disk is full, the folder is not writable, another
    program holds it, or it was written by a newer c315. The message says what happened, that
    nothing received was lost, and what to do."""


NOTHING_LOST = "已收的文件都已完整入库，没有收完的文件原样留在原处，什么也没有丢失"
RERUN = "重新运行同一命令即可继续（已收过的文件会自动跳过）"


IN_USE = "文件正被其他程序打开，请关闭后重试"
"""What a file held open by Excel or WPS means on Windows: opening it fails with a sharing violation,
which Python raises as ``PermissionError``."""
_SHARING_VIOLATIONS = (32, 33)  # ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION


def refused_reason(exc: PermissionError, *, writing: bool = False) -> str:
    """Why the system refused to read (or write) a file, in Chinese. Windows says "sharing
    violation" only through ``winerror``, and not even that when the C runtime opened the file
    (``os.open``, ``open``), so a plain refusal names both causes, the likelier one on an office PC
    first.

    >>> refused_reason(PermissionError(13, "Permission denied"))
    '文件正被其他程序打开，请关闭后重试；如果没有打开，则是没有读取权限'
    """
    if getattr(exc, "winerror", None) in _SHARING_VIOLATIONS:
        return IN_USE
    return f"{IN_USE}；如果没有打开，则是没有{'写入' if writing else '读取'}权限"
