"""Reading tabular source formats into string frames that remember source line numbers.

Quarantine reports must name the line a steward can open in the source file, and real
CSVs have quoted multi-line cells, so line numbers come from the csv reader's own
physical line count, not from the row index.
"""
from __future__ import annotations

import csv
import io

import pandas as pd

from se_pipeline.sources.errors import SourceFormatError

LINE = "__line__"


def decode(raw: bytes, source: str, encoding: str | None = None) -> tuple[str, str]:
    """Decode bytes strictly: declared encoding, else UTF-8 (BOM aware), else cp1252.

    Never substitutes replacement characters: bytes that decode in none of these are a
    SourceFormatError naming the offending position.
    """
    candidates = [encoding] if encoding else ["utf-8-sig", "cp1252"]
    last: UnicodeDecodeError | None = None
    for enc in candidates:
        try:
            return raw.decode(enc), ("utf-8" if enc == "utf-8-sig" else enc)
        except UnicodeDecodeError as e:
            last = e
    names = " or ".join(c for c in candidates if c)
    position = f" ({last.reason} at byte {last.start})" if last else ""
    raise SourceFormatError(source, f"bytes are not valid {names}: {last}", public=f"bytes are not valid {names}{position}")


def read_csv_text(text: str, source: str, *, delimiter: str = ",") -> pd.DataFrame:
    """Parse CSV text into a frame of strings plus a `__line__` column (1-based physical line).

    Unnamed columns (empty header cells) get `_unnamed_<i>`; rows with more cells than
    the header keep the extra cells under `_extra_<i>` so nothing is lost silently.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise SourceFormatError(source, "empty CSV: no header line") from None
    except csv.Error as e:
        raise SourceFormatError(source, f"unreadable CSV header: {e}", public="unreadable CSV header (line 1)") from None
    names = [h.strip() if h.strip() else f"_unnamed_{i}" for i, h in enumerate(header)]
    width = len(names)
    rows: list[list[str]] = []
    lines: list[int] = []
    start = reader.line_num + 1
    try:
        for row in reader:
            if row and any(cell.strip() for cell in row):
                if len(row) < width:
                    row = row + [""] * (width - len(row))
                elif len(row) > width:
                    extra = len(row) - width
                    for i in range(extra):
                        name = f"_extra_{i}"
                        if name not in names:
                            names.append(name)
                            for r in rows:
                                r.append("")
                    width = len(names)
                    row = row + [""] * (width - len(row))
                rows.append(row)
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as e:
        raise SourceFormatError(source, f"CSV syntax error near line {reader.line_num}: {e}",
                                public=f"CSV syntax error near line {reader.line_num}") from None
    frame = pd.DataFrame(rows, columns=names, dtype="object") if rows else pd.DataFrame(columns=names, dtype="object")
    frame[LINE] = lines
    return frame
