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
