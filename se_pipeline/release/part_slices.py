"""A graph part's N-Triples made ready for the release's stores: each subject's lines
together, and a large part split into slices that share no subject.

The release writes each part from an Oxigraph store (`release.build.write_datasets`).

* **Subjects together.** A store gives its statements in the order they were loaded
  (reversed), so a subject whose lines are apart in the file (a parent enterprise that
  each of its outlets' records names, a record the links graph links several times)
  would be several JSON-LD node objects, where docs/partners.md promises one per subject
  and graph. A first pass finds such subjects (`scattered_subjects`); their lines are
  held back and written together at the end of their slice. Our writers put a record's
  lines together, so few are held.
* **Slices.** A store holds every statement in several indexes: the largest part's store
  was most of the release's memory at 10^6 enterprises (benchmarks/README.md). Written
  slice by slice, the part takes one slice's store at a time and the files hold the same
  statements. Every line goes to the slice of its subject (`#fragment` nodes with their
  record, so an enterprise's address is in its slice), so a statement written twice
  lands twice in the same slice and is merged there, and each subject's statements are
  in one store. A slice is chosen by CRC-32 of the subject: the same file gives the same
  slices, and so the same bytes, in every run (Python's `hash` of bytes changes per
  process).

A file this cannot handle safely is loaded as it is (`scattered_subjects` returns None):
one with a blank node anywhere (its label is local to one parse, and a slice is parsed
alone), a line whose subject is not an IRI, or a subject written with an escape (the same
IRI written two ways would land in two slices). Our writers produce none of these; the
check is a byte search, so a literal that merely holds `_:` makes a file go whole, which
is safe.
"""
from __future__ import annotations

import zlib
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO

from se_pipeline.files import line_blocks


def _key(subject: bytes) -> int:
    """A 64-bit key of a subject (CRC-32 and Adler-32), the same in every process. Two
    subjects that share a key are both held back and written together at their slice's
    end: still one node object each, and the same bytes in every run, only held in memory.
    Keys, not the subjects' bytes, are what the first pass keeps of a million subjects."""
    return zlib.crc32(subject) << 32 | zlib.adler32(subject)


def scattered_subjects(path: Path) -> set[int] | None:
    """The keys (`_key`) of the subjects whose lines in `path` are not all consecutive;
    None if the file cannot be handled safely (see the module)."""
    seen: set[int] = set()
    scattered: set[int] = set()
    subject = b"\0"  # `<subject>` of the previous line
    for block in line_blocks(path):
        if b"_:" in block:
            return None
        for line in block.split(b"\n"):
            if not line or line.startswith(subject):
                continue
            end = line.find(b">") + 1
            if not line.startswith(b"<") or not end or b"\\" in line[:end]:
                return None
            subject = line[:end]
            key = _key(subject)
            if key in seen:
                scattered.add(key)
            else:
                seen.add(key)
    return scattered


def split(path: Path, slices: int, folder: Path, scattered: set[int]) -> list[Path]:
    """`path`'s lines into `slices` files in `folder` by subject (see the module), in file
    order within each, the lines of `scattered` subjects (`scattered_subjects` of `path`)
    together at the end of their slice. No file is left behind if this fails."""
    folder.mkdir(parents=True, exist_ok=True)
    targets = [folder / f"{path.stem}.{k}.nt" for k in range(slices)]
    done = False
    try:
        with ExitStack() as stack:
            _route(path, [stack.enter_context(t.open("wb")) for t in targets], scattered)
        done = True
    finally:
        if not done:
            for target in targets:
                target.unlink(missing_ok=True)
    return targets


def _route(path: Path, outs: list[BinaryIO], scattered: set[int]) -> None:
    """Every line of `path` to `outs[crc32(subject) % len(outs)]`, those of `scattered`
    subjects held until the end, then each such subject's lines together."""
    n = len(outs)
    held: dict[bytes, tuple[int, list[bytes]]] = {}  # subject -> its slice, its lines (first seen first)
    subject = b"\0"  # `<subject>` of the previous line: where its lines go is known
    k = 0  # the slice of the subject's lines
    lines_held: list[bytes] | None = None  # where they go if it is held back
    for block in line_blocks(path):
        routed: list[list[bytes]] = [[] for _ in range(n)]
        for line in block.split(b"\n"):
            if not line:
                continue
            if not line.startswith(subject):
                subject = line[:line.find(b">") + 1]
                k = zlib.crc32(subject[1:-1].partition(b"#")[0]) % n
                lines_held = held.setdefault(subject, (k, []))[1] if _key(subject) in scattered else None
            (routed[k] if lines_held is None else lines_held).append(line)
        for out, lines in zip(outs, routed):
            if lines:
                out.write(b"\n".join(lines) + b"\n")
    for k, lines in held.values():
        outs[k].write(b"\n".join(lines) + b"\n")
