"""A day of upstream change in the synthetic data: one source's records changed, added, withdrawn.

    python -m benchmarks.mutate DATA_DIR SEED SHARE [--source coops_uk]

DATA_DIR is what `benchmarks.synth` wrote. SHARE (0.01 = 1 %) of the source's records is
touched, in three equal parts: a third changed (new name and street), a third withdrawn
(its row removed), a third added (a new record: a row of the file under a new id and
name). Which records, and what they become, depend only on (the file, SEED, SHARE), so a
benchmark replays the same days; SEED = the day. The file keeps its format (header,
BOM, line ends), so the source's own adapter reads it as it read the original.

The tabular sources (`coops_uk`, `dotcoop`, `standard_csv`, `fairtrade`) can be mutated.
"""
from __future__ import annotations

import argparse
import csv
import io
import random
from dataclasses import dataclass
from pathlib import Path

from benchmarks.synth import WRITERS, CsvWriter, _sample

TABULAR = {name: cls for name, cls in WRITERS.items() if issubclass(cls, CsvWriter)}
#: New ids start far above any id `synth` gives (it numbers records from 0 per source).
NEW_ID_BASE = 50_000_000


@dataclass(frozen=True)
class Mutation:
    changed: int
    added: int
    withdrawn: int
    records: int
    """Records in the file after the change."""


def mutate(data_dir: Path, seed: int, share: float, source: str = "coops_uk") -> Mutation:
    """Change, add and withdraw `share` of `source`'s records in `data_dir` (in place)."""
    if source not in TABULAR:
        raise ValueError(f"{source}: only {', '.join(sorted(TABULAR))} can be mutated")
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], got {share}")
    writer = TABULAR[source]
    path = data_dir / _sample(source).name
    raw = path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    newline = "\r\n" if b"\r\n" in raw[:4000] else "\n"
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    header, records = rows[0], rows[1:]
    col = {c: i for i, c in enumerate(header) if c}
    id_at, name_at = col[writer.id_col], col[writer.name_col]
    street_at = col.get(writer.street_col) if writer.street_col else None

    rnd = random.Random(f"{source}:{seed}:{share}")
    each = max(1, round(len(records) * share / 3))
    touched = rnd.sample(range(len(records)), min(len(records), 2 * each))
    changed, withdrawn = set(touched[:each]), set(touched[each:])
    out: list[list[str]] = []
    for i, row in enumerate(records):
        if i in withdrawn:
            continue
        if i in changed:
            row = list(row)
            row[name_at] = f"{row[name_at]} (renamed on day {seed})"
            if street_at is not None:
                row[street_at] = f"{rnd.randint(1, 400)} Moved Street"
        out.append(row)
    templates = [r for i, r in enumerate(records) if i not in withdrawn] or records
    for k in range(each):
        row = list(rnd.choice(templates))
        row[id_at] = writer.make_id(NEW_ID_BASE + seed * 100_000 + k)
        row[name_at] = f"Day {seed} New Co-operative {k}"
        out.append(row)

    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        w = csv.writer(f, lineterminator=newline, quoting=csv.QUOTE_MINIMAL)
        w.writerow(header)
        w.writerows(out)
    return Mutation(changed=len(changed), added=each, withdrawn=len(withdrawn), records=len(out))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("seed", type=int)
    ap.add_argument("share", type=float, help="share of the source's records touched (0.01 = 1 %%)")
    ap.add_argument("--source", default="coops_uk", choices=sorted(TABULAR))
    args = ap.parse_args(argv)
    m = mutate(args.data_dir, args.seed, args.share, args.source)
    print(f"{args.source}: {m.changed} changed, {m.added} added, {m.withdrawn} withdrawn -> {m.records} records")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
