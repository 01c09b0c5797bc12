"""Typed errors of the identity stage, so callers (Dagster assets, the CLI) can tell a
steward's typo in `identity/decisions.yaml` from a bug."""
from __future__ import annotations


class IdentityError(Exception):
    """Base class of every error raised by `se_pipeline.identity`."""


class DecisionsError(IdentityError):
    """The curated decisions file is unreadable or one entry is invalid.

    `entry` is the 1-based position of the offending entry (0 for file-level problems),
    so the message points the steward at the exact item to fix.
    """

    def __init__(self, path: str, entry: int, reason: str) -> None:
        self.path = path
        self.entry = entry
        self.reason = reason
        where = f"{path}, entry {entry}" if entry else path
        super().__init__(f"{where}: {reason}")


class LinkFrameError(IdentityError):
    """A frame handed to the matcher or to the history functions lacks required columns."""
