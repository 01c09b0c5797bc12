"""Static documents for every enterprise IRI, so a plain web server can dereference them.

For `<base><source>/<id>` this writes `<target>/id/<source>/<id>.ttl`, `.jsonld` and
`.html` (the same documents `se-pipeline serve` answers at `/id/<source>/<id>`). The
file name is the IRI's last path segment as-is (record ids are percent-encoded with only
RFC 3986 unreserved characters kept, so a segment never holds `/`). docs/serving.md
shows the nginx / Apache content negotiation that maps `/id/<source>/<id>` to them.

From the graphs' files (`--part`, as the release build runs it) documents are written one
record at a time, straight from its source's file (`access.doc_partitions`), so memory
follows what the routing pass keeps (names, links, labels), not a source's graph; from a
published `dataset.nq.gz` (`--dataset`) the whole release is loaded into a store.

With `--index` and `--previous` (the release build passes `latest` and its ledger,
`release.ledger`), an enterprise whose `record_key` is unchanged gets hard links to the
previous release's files instead of new ones, without its lines being parsed or
described, and a source whose `source_key` is unchanged is linked whole without reading
its file: a release costs what changed.
"""
from __future__ import annotations

import argparse
import functools
import gzip
import hashlib
import json
import multiprocessing
import os
import shutil
import sys
from pathlib import Path
from typing import Callable, Iterable, Mapping, TextIO
from urllib.parse import quote

import pyoxigraph as ox

from se_pipeline import child_processes
from se_pipeline.access.describe import (
    Description, describe, enterprise_iris, is_typed, to_html, to_jsonld, to_turtle,
)
from se_pipeline.access.doc_partitions import ConceptLabels, NotGrouped, Routed, SourcePart, owner, route, source_parts
from se_pipeline.access.pages import DEFAULT_LANG, LANGS, file_name
from se_pipeline.code_digest import code_digest
from se_pipeline.files import save_digests, write_file
from se_pipeline.namespaces import OWL
from se_pipeline.runtime import run_in_background, tune_gc

_SAME_AS = OWL + "sameAs"
EXTENSIONS = {"ttl": "text/turtle", "jsonld": "application/ld+json", "html": "text/html"}


def release_store(dataset_nq_gz: Path) -> ox.Store:
    """An in-memory store of a published release's N-Quads."""
    store = ox.Store()
    with gzip.open(dataset_nq_gz, "rb") as f:
        store.load(f, format=ox.RdfFormat.N_QUADS)
    return store


def documents_salt(base_iri: str, langs: tuple[str, ...]) -> str:
    """What every document of a release is made with besides its own description: the
    code (templates, catalogues, writers: `code_digest`), the base IRI and the languages."""
    return hashlib.sha256(f"{code_digest()}\0{base_iri}\0{','.join(langs)}".encode("utf-8")).hexdigest()


def document_key(d: Description) -> str:
    """The key of an enterprise described from a store (`write_static_documents`: a source
    whose file does not keep its records together), where there are no lines to take
    `record_key` from. Everything its documents are made from, as a digest: its statements
    (its own, those other graphs hold about it, the identity links touching it), the
    labels of the concepts it points at, the names of the records linked to it. With
    `documents_salt`, equal keys mean byte-equal documents."""
    h = hashlib.blake2b(d.iri.encode("utf-8"), digest_size=16)
    h.update(ox.serialize(d.statements, format=ox.RdfFormat.N_TRIPLES))  # one line per statement, in order
    h.update(b"\0" + _KEY_JSON.encode(d.labels).encode("utf-8"))
    h.update(b"\0" + _KEY_JSON.encode(d.same_as).encode("utf-8"))
    return h.hexdigest()


#: What `document_key` writes the labels and names with (made once, not per record).
_KEY_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True)
_SAME_AS_LINE = f"> <{_SAME_AS}> <".encode("utf-8")


def record_key(iri: str, lines: list[bytes], extras: list[ox.Triple], incoming: list[str],
               names: Mapping[str, str]) -> str:
    """Everything an enterprise's documents are made from but the labels of the concepts
    they show, as a digest, from what `SourcePart.records` gives without parsing its lines:
    its lines in its source's file, the statements other graphs hold about it, the IRIs
    that point at it by `owl:sameAs` and the names of every record linked to it either
    way. With `documents_salt` and the labels its source's documents used unchanged
    (`DocumentReuse.labels_same`), equal keys mean byte-equal documents: the key is taken
    for every enterprise of a source that changed, and only those whose key changed are
    described (parsed, their pages made)."""
    h = hashlib.blake2b(iri.encode("utf-8"), digest_size=16)
    h.update(b"\n".join(lines))
    h.update(b"\0")
    linked = set(incoming)
    for t in extras:
        h.update(str(t).encode("utf-8") + b"\n")
        if t.predicate.value == _SAME_AS and type(t.object) is ox.NamedNode:
            linked.add(t.object.value)
    same_as = [line for line in lines if _SAME_AS_LINE in line]
    if same_as:  # rare in a source's own file (links are a graph of their own)
        linked.update(t.object.value for t in ox.parse(b"\n".join(same_as), format=ox.RdfFormat.N_TRIPLES)
                      if t.predicate.value == _SAME_AS and type(t.object) is ox.NamedNode)
    h.update(b"\0" + "\n".join(incoming).encode("utf-8"))
    for other in sorted(linked):
        h.update(f"\0{other}\t{names.get(other, '')}".encode("utf-8"))
    return h.hexdigest()


def source_key(part: SourcePart, salt: str, names_digest: str) -> str:
    """Everything a source's documents are made from but concept labels, as one digest:
    the bytes of its graph file, what the routing pass found for it in other graphs (in
    file order), and the names of the records its records are linked with
    (`names_digest` of `linked_names`). Equal to the previous release's, and the labels
    of the concepts it used then unchanged (`labels_digest`), every one of its
    enterprises' keys is too, and its documents are linked without reading its file (see
    `DocumentReuse.link_source`). Nothing another source holds enters it unless this
    source's documents show it, so a change elsewhere leaves it linked whole."""
    h = hashlib.blake2b(f"{salt}\0{part.segment}\0".encode("utf-8"), digest_size=16)
    if part.path is not None:
        with open(part.path, "rb") as f:
            h.update(hashlib.file_digest(f, "sha256").digest())
    for q in part.routed.extras.get(part.segment, ()):
        h.update(b"\n" + str(q).encode("utf-8"))
    h.update(b"\0" + names_digest.encode("ascii"))
    return h.hexdigest()


def names_digest(names: Mapping[str, str]) -> str:
    """A digest of linked records' names (any order in, one out)."""
    h = hashlib.blake2b(digest_size=16)
    for iri in sorted(names):
        h.update(f"{iri}\t{names[iri]}\n".encode("utf-8"))
    return h.hexdigest()


def linked_names(routed: Routed, base_iri: str) -> dict[str, dict[str, str]]:
    """{source segment: {IRI: name}} of the records each source's records are linked with
    by `owl:sameAs` (either way, from any graph): the only names its documents show. The
    routing pass sends every such statement to the source of each of its ends, so the
    lists it routed hold them all, whichever file they are in."""
    ends: dict[str, set[str]] = {}
    for quads in routed.extras.values():
        for q in quads:
            if q.predicate.value == _SAME_AS and isinstance(q.object, ox.NamedNode):
                pair = (q.subject.value, q.object.value)
                for iri in pair:
                    segment = owner(iri, base_iri)
                    if segment is not None:
                        ends.setdefault(segment, set()).update(pair)
    return {segment: {iri: routed.names[iri] for iri in iris if iri in routed.names} for segment, iris in ends.items()}


def labels_digest(label_quads: list[ox.Quad], concepts: Iterable[str]) -> str:
    """A digest of the data's `skos:prefLabel` statements (in routed order: the order
    labels are picked in) about `concepts` (those a source's documents found labels for),
    and of which IRIs the data labels at all (an IRI that gains a label shows it); our
    vocabulary's labels are the code's (`documents_salt`)."""
    wanted = set(concepts)
    h = hashlib.blake2b(digest_size=16)
    labelled: set[str] = set()
    for q in label_quads:
        labelled.add(q.subject.value)
        if q.subject.value in wanted:
            h.update(b"\n" + str(q).encode("utf-8"))
    h.update(b"\0" + "\n".join(sorted(labelled)).encode("utf-8"))
    return h.hexdigest()


class DocumentReuse:
    """Hard links to the previous release's documents of enterprises whose key
    (`record_key`; `document_key` for a source described from a store) is unchanged, and
    the index (`release.ledger`) the next release compares with.

    `previous` is the previous release folder and `previous_index` its ledger's
    `documents/` folder (None: nothing to reuse, every document is written); `index` is
    this release's. Per source, `<source>.tsv` starts with the salt and the source's key
    (`source_key`, tab-separated) and then holds one line per enterprise: its file name,
    key and the SHA-256 of its files (Turtle, JSON-LD, then the HTML of each language).
    `<source>.concepts` (JSON) lists the concepts its documents found labels for, and the
    `labels_digest` of them: a source whose file is unchanged uses the same concepts, so
    only their labels (and which IRIs have any) need to be the same for it to be linked whole."""

    def __init__(self, index: Path, salt: str, previous: Path | None = None, previous_index: Path | None = None) -> None:
        self.index, self.salt = index, salt
        self.previous, self.previous_index = previous, previous_index
        self.linked = self.written = 0
        self._before: dict[str, tuple[str, str]] = {}
        self._out: TextIO | None = None
        self._segment = self._source_key = ""
        self._labels: Callable[[Iterable[str]], str] | None = None
        self._concepts_before: list[str] = []
        self.source_unchanged = False
        #: Whether the concepts the previous release's documents of the source used have
        #: the labels they had then: an enterprise is linked only then (`link`).
        self.labels_same = False
        #: Concepts the source's documents found labels for (None: not known, e.g.
        #: described from a store); filled by the caller's `labels_of`.
        self.used: set[str] | None = set()

    def begin(self, segment: str, key: str = "", labels: Callable[[Iterable[str]], str] | None = None) -> None:
        """Start a source (its `source_key`, and `labels`: the `labels_digest` of given
        concepts): read its previous index (one source's at a time), open its new one.
        `source_unchanged` then says whether the previous release's documents of the
        source were made from the same key and the same labels of the concepts they used."""
        self.end()
        self._segment, self._source_key, self._labels = segment, key, labels
        self._before = {}
        self._concepts_before = []
        self.used = set()
        self.source_unchanged = self.labels_same = False
        if self.previous is not None and self.previous_index is not None:
            try:
                with open(self.previous_index / f"{segment}.tsv", encoding="utf-8") as lines:
                    salt, _, before = next(lines, "").rstrip("\n").partition("\t")
                    if salt == self.salt:
                        for line in lines:
                            name, enterprise_key, sums = line.rstrip("\n").split("\t")
                            self._before[name] = (enterprise_key, sums)
                        self.labels_same = self._same_labels()
                        self.source_unchanged = bool(key) and before == key and self.labels_same
            except (OSError, ValueError):
                self._before = {}
                self.source_unchanged = self.labels_same = False
        if self.labels_same:
            # An enterprise linked again uses the concepts it used then: they stay listed
            # (a concept no longer used stays too, which at worst describes the source again).
            self.used = set(self._concepts_before)
        self.index.mkdir(parents=True, exist_ok=True)
        self._out = open(self.index / f"{segment}.tsv", "w", encoding="utf-8")
        self._out.write(f"{self.salt}\t{key}\n")

    def _same_labels(self) -> bool:
        """Whether the concepts the previous release's documents of the source used have
        the labels they had then (`<source>.concepts`)."""
        if self._labels is None or self.previous_index is None:
            return False
        try:
            kept = json.loads((self.previous_index / f"{self._segment}.concepts").read_text(encoding="utf-8"))
            concepts, digest = list(kept["concepts"]), kept["labels"]
        except (OSError, ValueError, KeyError, TypeError):
            return False
        self._concepts_before = concepts
        return self._labels(concepts) == digest

    def restart(self) -> None:
        """The source is described again from the start (`NotGrouped`, or a whole-source
        link that failed): forget its lines, and compare record by record."""
        linked, written = self.linked, self.written
        self.begin(self._segment, self._source_key, self._labels)
        self.linked, self.written = linked, written

    def link_source(self, target_dir: Path, suffixes: list[str], digests: dict[str, str]) -> int:
        """Hard-link every enterprise's files of an unchanged source (`source_unchanged`)
        from the previous release, with their digests (into `digests`), without reading
        the source's file; returns how many enterprises. Raises OSError if a file cannot
        be linked (the caller removes what `digests` holds and goes record by record)."""
        assert self.previous is not None
        folder = target_dir / "id" / self._segment
        folder.mkdir(parents=True, exist_ok=True)
        earlier = f"{self.previous}/id/{self._segment}"
        for name, (key, sums) in self._before.items():
            files = sums.split(",")
            if len(files) != len(suffixes):
                raise OSError(f"{self._segment}/{name}: {len(files)} digests for {len(suffixes)} files")
            for suffix, digest in zip(suffixes, files):
                path = f"{folder}/{name}{suffix}"
                os.link(f"{earlier}/{name}{suffix}", path)
                digests[path] = digest
            self.record(name, key, files)
        self.linked += len(self._before)
        self.used = set(self._concepts_before)  # its file is unchanged: the same concepts
        return len(self._before)

    def end(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None
            if self._labels is not None and self.used is not None:
                concepts = sorted(self.used)
                (self.index / f"{self._segment}.concepts").write_text(
                    json.dumps({"concepts": concepts, "labels": self._labels(concepts)}), encoding="utf-8")

    def link(self, name: str, key: str, stem: str, suffixes: list[str]) -> list[str] | None:
        """The digests of the record's files, hard-linked from the previous release, if
        its key is the one recorded there and every file could be linked; else None."""
        before = self._before.get(name)
        if before is None or before[0] != key or self.previous is None or not self.labels_same:
            return None
        sums = before[1].split(",")
        if len(sums) != len(suffixes):
            return None
        folder = self.previous / "id" / self._segment
        done: list[str] = []
        try:
            for suffix in suffixes:
                os.link(f"{folder}/{name}{suffix}", stem + suffix)
                done.append(stem + suffix)
        except OSError:  # a file gone from the previous release: render the record
            for path in done:
                os.unlink(path)
            return None
        self.linked += 1
        return sums

    def record(self, name: str, key: str, sums: list[str]) -> None:
        assert self._out is not None, "begin(segment) first"
        self._out.write(f"{name}\t{key}\t{','.join(sums)}\n")


def write_static_documents(store: ox.Store, target_dir: Path, base_iri: str,
                           digests: dict[str, str] | None = None, *, only: str | None = None,
                           names: Mapping[str, str] | None = None,
                           label_cache: dict[str, dict[str, str]] | None = None, read_only: bool = False,
                           langs: tuple[str, ...] = LANGS, reuse: DocumentReuse | None = None) -> int:
    """Write Turtle, JSON-LD and HTML for every record IRI under `base_iri` in `store` (of
    source `only`, if given); returns how many records. `names` and `label_cache` go to
    `describe`; `digests`, `read_only`, `langs` and `reuse` as for `write_documents`."""
    base = base_iri if base_iri.endswith("/") else base_iri + "/"
    labels = {} if label_cache is None else label_cache
    iris = (iri for iri in enterprise_iris(store, base)
            if only is None or iri[len(base):].rpartition("/")[0] == only)
    return write_documents((describe(store, iri, labels, names) for iri in iris), target_dir, base,
                           digests, read_only=read_only, langs=langs, reuse=reuse)


def document_suffixes(langs: tuple[str, ...]) -> list[str]:
    """The endings of an enterprise's files, in the order the ledger lists their digests."""
    return [".ttl", ".jsonld", *(file_name(".html", lang) for lang in langs)]


def write_documents(descriptions: Iterable[Description], target_dir: Path, base_iri: str,
                    digests: dict[str, str] | None = None, *, read_only: bool = False,
                    langs: tuple[str, ...] = LANGS, reuse: DocumentReuse | None = None) -> int:
    """Write Turtle, JSON-LD and HTML for each description of a record (a typed IRI
    `<base><source>/<id>`; others are passed over); returns how many records. `digests`
    receives each written file's path and SHA-256; `read_only` creates new files
    read-only (see `files.write_file`). The HTML is written once per language of `langs`
    (`<id>.html` in English, `<id>.<lang>.html`: `pages.file_name`): each language is
    one more page per record, which is most of the documents' writing time, so a
    deployment can narrow `langs` (`--langs`; docs/serving.md).

    With `reuse` (read-only files, the descriptions of one source, after `reuse.begin`),
    an enterprise whose `document_key` is unchanged since the previous release gets hard
    links to that release's files instead of being rendered, and every enterprise's key
    and digests go to the new index."""
    suffixes = document_suffixes(langs)
    alternates = _pages(langs)
    sums = {} if digests is None else digests
    if not base_iri.endswith("/"):
        base_iri += "/"
    count = 0
    folders: dict[str, str] = {}  # source -> its folder, made once (not a Path per record)
    for d in descriptions:
        if not is_typed(d) or not d.iri.startswith(base_iri):
            continue
        source, _, name = d.iri[len(base_iri):].rpartition("/")
        if not source or not name or name in (".", ".."):
            continue
        folder = folders.get(source)
        if folder is None:
            made = target_dir / "id" / source
            made.mkdir(parents=True, exist_ok=True)
            folder = folders[source] = str(made)
        stem = f"{folder}/{name}"
        count += 1
        if reuse is not None:
            key = document_key(d)
            linked = reuse.link(name, key, stem, suffixes)
            if linked is not None:
                sums.update(zip((stem + suffix for suffix in suffixes), linked))
                reuse.record(name, key, linked)
                continue
        _write_pages(d, base_iri, stem, name, alternates, sums, read_only)
        if reuse is not None:
            reuse.written += 1
            reuse.record(name, key, [sums[stem + suffix] for suffix in suffixes])
    return count


def _pages(langs: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(language, ending) of each of an enterprise's pages: `to_html`'s `alternates`."""
    return tuple((lang, file_name(".html", lang)) for lang in langs)


def _write_pages(d: Description, base_iri: str, stem: str, name: str, alternates: tuple[tuple[str, str], ...],
                 sums: dict[str, str], read_only: bool) -> None:
    """An enterprise's Turtle, JSON-LD and HTML (a page per language of `alternates`) at
    `stem` + their endings (`document_suffixes`), their SHA-256 into `sums`."""
    link = quote(name, safe="")
    sums[stem + ".ttl"] = write_file(stem + ".ttl", to_turtle(d), read_only=read_only)
    sums[stem + ".jsonld"] = write_file(stem + ".jsonld", to_jsonld(d), read_only=read_only)
    formats = {"Turtle": f"{link}.ttl", "JSON-LD": f"{link}.jsonld"}
    for lang, suffix in alternates:
        sums[stem + suffix] = write_file(stem + suffix, to_html(
            d, base_iri, formats=formats, lang=lang, alternates=alternates, link=link), read_only=read_only)


def write_source_records(part: SourcePart, target_dir: Path, labels_of: Callable[[str], dict[str, str]],
                         sums: dict[str, str], langs: tuple[str, ...], reuse: DocumentReuse) -> int:
    """`write_documents` of one source's records, read-only, with `reuse` (after
    `reuse.begin`) keyed by `record_key`: an enterprise whose key is the one the previous
    release recorded is linked without its lines being parsed or described, the others
    are described and written; every enterprise's key and digests go to the new index."""
    suffixes = document_suffixes(langs)
    alternates = _pages(langs)
    base_iri = part.base_iri
    folder = target_dir / "id" / part.segment
    folder.mkdir(parents=True, exist_ok=True)
    root = f"{folder}/"
    skip = len(base_iri) + len(part.segment) + 1
    count = 0
    for iri, lines, extras, incoming in part.records():
        name = iri[skip:]
        if not name or name in (".", "..") or "/" in name:  # not one file name: not a record of the source
            continue
        stem = root + name
        key = record_key(iri, lines, extras, incoming, part.routed.names)
        linked = reuse.link(name, key, stem, suffixes)
        if linked is not None:
            count += 1
            sums.update(zip((stem + suffix for suffix in suffixes), linked))
            reuse.record(name, key, linked)
            continue
        d = part.describe(iri, lines, extras, incoming, labels_of)
        if not is_typed(d):
            continue
        count += 1
        _write_pages(d, base_iri, stem, name, alternates, sums, read_only=True)
        reuse.written += 1
        reuse.record(name, key, [sums[stem + suffix] for suffix in suffixes])
    return count


def write_source_documents(part: SourcePart, target_dir: Path, labels: ConceptLabels,
                           digests: dict[str, str], langs: tuple[str, ...] = LANGS,
                           reuse: DocumentReuse | None = None, key: str = "",
                           labels_key: Callable[[Iterable[str]], str] | None = None) -> int:
    """One source's documents, read-only, record by record from its file; if its file
    does not keep a record's statements together, the files written so far are removed
    and the source is described from a store of it instead (same documents, more memory).
    `digests` receives the SHA-256 of each file kept; `reuse` as for `write_documents`,
    and with the source's `key` (`source_key`) equal to the previous release's, every
    document is linked from it without reading the file (`labels_key`: the
    `labels_digest` of given concepts, as `DocumentReuse.begin` takes it)."""
    written: dict[str, str] = {}
    labels_of: Callable[[str], dict[str, str]] = labels
    if reuse is not None:
        reuse.begin(part.segment, key, labels_key)

        def labels_of(concept: str) -> dict[str, str]:
            found = labels(concept)
            if found and reuse.used is not None:
                reuse.used.add(concept)
            return found

        if reuse.source_unchanged:
            try:
                n = reuse.link_source(target_dir, document_suffixes(langs), written)
                digests.update(written)
                reuse.end()
                return n
            except OSError as e:
                for path in written:
                    os.unlink(path)
                written.clear()
                print(f"static documents: {part.segment}: {e}; comparing record by record", file=sys.stderr)
                reuse.restart()
    try:
        if reuse is not None:
            return write_source_records(part, target_dir, labels_of, written, langs, reuse)
        return write_documents(part.descriptions(labels_of), target_dir, part.base_iri, written, read_only=True,
                               langs=langs)
    except NotGrouped as e:
        for path in written:
            os.unlink(path)
        written.clear()
        if reuse is not None:
            reuse.restart()
            reuse.used = None  # the store's description looks its labels up itself
        print(f"static documents: {e}; describing <{part.graph}> from a store instead", file=sys.stderr)
        return write_static_documents(part.store(), target_dir, part.base_iri, written, only=part.segment,
                                      names=part.routed.names, label_cache=labels.cache, read_only=True,
                                      langs=langs, reuse=reuse)
    finally:
        digests.update(written)
        if reuse is not None:
            reuse.end()


def _langs(text: str) -> tuple[str, ...]:
    """`--langs`: a comma-separated list of languages pages are made in, English first."""
    langs = tuple(dict.fromkeys(x.strip() for x in text.split(",") if x.strip()))
    unknown = [x for x in langs if x not in LANGS]
    if unknown or not langs:
        raise argparse.ArgumentTypeError(f"languages must be among {','.join(LANGS)}, not {text!r}")
    return (DEFAULT_LANG, *(x for x in langs if x != DEFAULT_LANG))


def main(argv: list[str] | None = None) -> int:
    """`python -m se_pipeline.access.static_docs TARGET_DIR BASE_IRI (--dataset NQ_GZ | --part GRAPH NT ... [--writers N]) [--digests FILE]`.

    The release build runs this in a child process from the start of the build, on the
    graphs' N-Triples files (see `se_pipeline.release.build`); a module entry point rather
    than multiprocessing, so no caller's `__main__` is ever re-imported (its own writers
    are forked from it: `in_forked_processes`). Files are created read-only, as the
    release's files end up.
    """
    parser = argparse.ArgumentParser(prog="python -m se_pipeline.access.static_docs", description=main.__doc__)
    parser.add_argument("target_dir", type=Path)
    parser.add_argument("base_iri")
    inputs = parser.add_mutually_exclusive_group(required=True)
    inputs.add_argument("--dataset", type=Path, help="a release's dataset.nq.gz")
    inputs.add_argument("--part", nargs=2, action="append", metavar=("GRAPH", "NT"),
                        help="a named graph and its N-Triples file (repeatable)")
    parser.add_argument("--digests", type=Path, help="write the SHA-256 of every file written here")
    parser.add_argument("--writers", type=int, default=1, metavar="N",
                        help="with --part: share the sources out among N processes, this one and N-1 forked from "
                             "it once the files are routed (default 1)")
    parser.add_argument("--langs", type=_langs, default=LANGS, metavar="en,fr,...",
                        help="languages of the HTML pages (default: all of " + ",".join(LANGS) + ")")
    parser.add_argument("--index", type=Path, metavar="DIR",
                        help="with --part: write each enterprise's document key and digests here, per source")
    parser.add_argument("--previous", nargs=2, type=Path, metavar=("RELEASE_DIR", "INDEX_DIR"),
                        help="with --index: hard-link the documents of enterprises whose key is the one in "
                             "INDEX_DIR (that release's index) from RELEASE_DIR")
    parser.add_argument("--stats", type=Path, help="with --index: write {linked, written} enterprise counts (JSON)")
    args = parser.parse_args(argv)
    if args.writers < 1:
        parser.error("--writers must be at least 1")
    child_processes.die_with_parent()
    tune_gc()
    run_in_background()
    if args.dataset:
        if args.digests:
            args.digests.write_bytes(b"")
        digests: dict[str, str] = {}
        write_static_documents(release_store(args.dataset), args.target_dir, args.base_iri, digests, read_only=True, langs=args.langs)
        if args.digests:
            save_digests(digests, args.digests, append=True)
        return 0
    base = args.base_iri if args.base_iri.endswith("/") else args.base_iri + "/"
    parts = [(g, Path(p)) for g, p in args.part]
    routed = route(parts, base)
    labels = ConceptLabels(routed.labels)
    names = linked_names(routed, base) if args.index else {}
    labels_key = functools.partial(labels_digest, routed.labels) if args.index else None

    def write_share(i: int) -> None:
        """Writer i's sources; its digests and counts to the given files (i = 0) or beside
        them (`.i`, merged into them by writer 0)."""
        reuse = None
        if args.index:
            earlier, earlier_index = args.previous or (None, None)
            reuse = DocumentReuse(args.index, documents_salt(base, args.langs), earlier, earlier_index)
        digests_file = _share_file(args.digests, i)
        if digests_file:
            digests_file.write_bytes(b"")
        for part in source_parts(parts, base, (i, args.writers), routed):
            digests: dict[str, str] = {}
            key = "" if reuse is None else source_key(part, reuse.salt, names_digest(names.get(part.segment, {})))
            write_source_documents(part, args.target_dir, labels, digests, args.langs, reuse, key, labels_key)
            if digests_file:  # one source's digests held at a time (10^6 enterprises: 3x10^6 files)
                save_digests(digests, digests_file, append=True)
        stats_file = _share_file(args.stats, i)
        if reuse is not None and stats_file:
            stats_file.write_text(json.dumps({"linked": reuse.linked, "written": reuse.written}), encoding="utf-8")

    in_forked_processes(args.writers, write_share)
    for i in range(1, args.writers):
        _merge_share(args, i)
    return 0


def _share_file(path: Path | None, i: int) -> Path | None:
    return path if path is None or i == 0 else path.with_name(f"{path.name}.{i}")


def _merge_share(args: argparse.Namespace, i: int) -> None:
    """Writer i's digests appended to writer 0's file, and its counts added to writer 0's."""
    if args.digests:
        part = _share_file(args.digests, i)
        with open(args.digests, "ab") as out, open(part, "rb") as f:
            shutil.copyfileobj(f, out, 1 << 20)
        part.unlink()
    if args.stats and args.index:
        part = _share_file(args.stats, i)
        mine = json.loads(args.stats.read_text(encoding="utf-8"))
        theirs = json.loads(part.read_text(encoding="utf-8"))
        args.stats.write_text(json.dumps({k: mine[k] + theirs[k] for k in mine}), encoding="utf-8")
        part.unlink()


def in_forked_processes(n: int, work: Callable[[int], None]) -> None:
    """`work(i)` for i = 1 … n-1 in processes forked from this one, and `work(0)` in this one.

    Forked once the files are routed, the writers share the routing (copy-on-write)
    instead of each routing every file again (benchmarks/README.md, "2026-12-05 (second
    session): 10^6 again, and the documents' files routed once"). A forked writer dies
    with this process (`child_processes.die_with`); if this one fails, they are stopped;
    if one of them fails, this one fails."""
    context = multiprocessing.get_context("fork")
    me = os.getpid()

    def forked(i: int) -> None:
        child_processes.die_with(me)
        work(i)

    others = [context.Process(target=forked, args=(i,), name=f"static documents writer {i}/{n}", daemon=True)
              for i in range(1, n)]
    for p in others:
        p.start()
    try:
        work(0)
    except BaseException:
        for p in others:
            p.kill()
            p.join()
        raise
    for p in others:
        p.join()
    failed = [f"{p.name} (exit {p.exitcode})" for p in others if p.exitcode != 0]
    if failed:
        raise RuntimeError(f"{', '.join(failed)} failed: see its traceback above")


if __name__ == "__main__":
    sys.exit(main())
