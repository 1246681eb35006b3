"""The few exceptions that mean "cannot go on". Bad data in a return is never raised: it becomes
a :class:`campaign315.problems.Problem` in a report."""


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
