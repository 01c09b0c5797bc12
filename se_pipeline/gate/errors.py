"""Errors of the SHACL gate.

Kept apart from `shacl.py` so callers (Dagster assets, the release) can catch them
without importing pyshacl.
"""
from __future__ import annotations


class GateError(Exception):
    """The gate's input is unusable as a whole (e.g. the N-Triples do not parse).

    Distinct from a *violation*: violations quarantine single enterprises and the rest
    goes on; a GateError means nothing of this run can be trusted, so the source keeps
    its last good copy.
    """
