"""Spreadsheet-safe CSV cells (CSV formula injection), both ways.

A partner who opens one of our CSVs in a spreadsheet must not run a formula an upstream
slipped into a name (`=HYPERLINK(…)`, `+cmd|' /C calc'!A0`, `@SUM(…)`). Following OWASP's
CSV-injection guidance, every cell whose first character is `=`, `+`, `-`, `@`, a tab or
a carriage return is prefixed with a single quote, which spreadsheets show as text.
The first character is looked for after any leading whitespace too, since a spreadsheet
or a later trimming step may drop it (`"  \\t=1+1"` must not become `=1+1`). Plain
numbers (`-0.1278`, `+44`) are left alone: they cannot be formulas, and coordinates must
stay numbers.

The prefix is reversible: a value that already starts with a quote gets one more when
the rest would be neutralised, so `original(safe_cell(v)) == v` for every `v` and a
value such as `'s-Hertogenbosch` is written and read unchanged. Every CSV we publish is
written through `safe_cell`/`safe_row`; our own importers read cells through `original`.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PREFIX = "'"
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def needs_prefix(value: str) -> bool:
    """Would a spreadsheet read `value` as a formula (or is it a quoted value that would
    be mistaken for a neutralised one)?"""
    if not value or _NUMBER.fullmatch(value):
        return False
    if value[0] in FORMULA_STARTS or value.lstrip(" \t\r\n\f\v")[:1] in FORMULA_STARTS:
        return True
    return value.startswith(PREFIX) and needs_prefix(value[1:])


def safe_cell(value: Any) -> Any:
    """`value` as it may be written to a published CSV (non-text values unchanged)."""
    return PREFIX + value if isinstance(value, str) and needs_prefix(value) else value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]


def original(cell: str) -> str:
    """The value `safe_cell` was given, from the cell it wrote."""
    return cell[1:] if cell.startswith(PREFIX) and needs_prefix(cell[1:]) else cell
