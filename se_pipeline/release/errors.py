"""Typed errors of the release stage."""


class ReleaseError(Exception):
    """A release could not be written or did not pass the release gate; `latest` is untouched."""
