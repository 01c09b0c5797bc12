"""A large graph part's N-Triples split into slices that share no subject.

The release writes each part from an Oxigraph store (`release.build.write_datasets`), and
a store holds every statement in several indexes: the largest part's store was most of
the release's memory at 10^6 enterprises (benchmarks/README.md). Written slice by slice,
the part takes one slice's store at a time and the files hold the same statements:

* every line goes to the slice of its subject (`#fragment` nodes with their record, so an
  enterprise's address is in its slice), so a statement written twice lands twice in the
  same slice and is merged there, and each subject's statements are in one store, as
  when the part was one store (a grouped graph, as our sources' are, gives one JSON-LD
  node object per subject either way);
* a slice is chosen by CRC-32 of the subject: the same file gives the same slices, and
  so the same bytes, in every run (Python's `hash` of bytes changes per process).

A file this cannot split safely is not split (`split` returns None): one with a blank
node anywhere (its label is local to one parse, and a slice is parsed alone), a line
whose subject is not an IRI, or a subject written with an escape (the same IRI written
two ways would land in two slices). Our writers produce none of these; the check is a
byte search, so a literal that merely holds `_:` makes a file go whole, which is safe.
"""
from __future__ import annotations

import zlib
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO

from se_pipeline.files import line_blocks


def split(path: Path, slices: int, folder: Path) -> list[Path] | None:
    """`path`'s lines into `slices` files in `folder` by subject (see the module), in
    file order within each; None, and no files left, if the file cannot be split."""
    folder.mkdir(parents=True, exist_ok=True)
    targets = [folder / f"{path.stem}.{k}.nt" for k in range(slices)]
    done = False
    try:
        with ExitStack() as stack:
            done = _route(path, [stack.enter_context(t.open("wb")) for t in targets])
    finally:
        if not done:
            for target in targets:
                target.unlink(missing_ok=True)
    return targets if done else None


def _route(path: Path, outs: list[BinaryIO]) -> bool:
    """Every line of `path` to `outs[crc32(subject) % len(outs)]`; False as soon as the
    file is found not splittable."""
    n = len(outs)
    subject_end = b"\0"  # `<subject>` of the previous line: its slice is known
    slice_of_previous = 0
    for block in line_blocks(path):
        if b"_:" in block:
            return False
        routed: list[list[bytes]] = [[] for _ in range(n)]
        for line in block.split(b"\n"):
            if not line:
                continue
            if not line.startswith(subject_end):
                end = line.find(b">") + 1
                subject = line[1:end - 1]
                if not line.startswith(b"<") or not end or b"\\" in subject:
                    return False
                subject_end = line[:end]
                slice_of_previous = zlib.crc32(subject.partition(b"#")[0]) % n
            routed[slice_of_previous].append(line)
        for out, lines in zip(outs, routed):
            if lines:
                out.write(b"\n".join(lines) + b"\n")
    return True
