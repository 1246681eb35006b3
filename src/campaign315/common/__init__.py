"""What every step stands on and nothing of c315 is above: the few exceptions that mean "cannot go
on" (``errors``), text folding (``text``), atomic file writes and the shipped folders (``files``),
inert text for spreadsheets (``safety``), the Chinese words for c315's own codes (``words``), the
one template loader (``templates``) and the named fault points tests use (``faults``)."""
