"""Typed errors of the source stage (parsing a source's own format)."""


class SourceError(Exception):
    """A source cannot be used this run; the message says which source and why."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source


class SourceFormatError(SourceError):
    """The bytes are not in the format the adapter reads (unparseable, wrong columns)."""


class MappingError(SourceError):
    """A source's mapping file is inconsistent with the canonical schema or the data."""
