"""Our event stream replayed by an LDES client written by others: the TREE community's
`ldes-client` (npm), installed by `make test` into tests/release/ldes-client/.

Skipped when node or the package is absent (`make test` installs it wherever npm is)."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pyoxigraph as ox
import pytest

from se_pipeline.acquire.http import HttpClient
from se_pipeline.acquire.ldes import read_changes
from se_pipeline.acquire.policy import SourcePolicy
from se_pipeline.release.ldes import VERSION_OF
from tests.release.ldes_helpers import CHANGED, WITHDRAWN, TwoReleases, build_two_releases, static_server

HERE = Path(__file__).resolve().parent / "ldes-client"
REPLAY = HERE / "replay.mjs"  # the client as a library, printing strict N-Quads
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None or not (HERE / "node_modules" / "ldes-client" / "package.json").is_file(),
                                reason="node or the npm ldes-client is not installed (make test installs it)")


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> TwoReleases:
    return build_two_releases(tmp_path_factory.mktemp("ldes-client"))


def replay(url: str, *args: str) -> dict[str, set[ox.Quad]]:
    """Members the client emits: member IRI -> its statements (member graph). The client
    makes a state folder under the temporary directory and leaves it: its own, removed after."""
    with tempfile.TemporaryDirectory(prefix="ldes-client-") as scratch:
        done = subprocess.run([NODE, str(REPLAY), url, *args], capture_output=True, timeout=120, check=True, cwd=HERE,
                              env={**os.environ, "TMPDIR": scratch})
    quads = list(ox.parse(done.stdout, format=ox.RdfFormat.N_QUADS))
    members = {q.subject.value for q in quads if q.predicate.value == VERSION_OF and q.graph_name == ox.DefaultGraph()}
    return {m: {q for q in quads if q.graph_name == ox.NamedNode(m)} for m in members}


def ours(url: str, **kw: object) -> dict[str, set[ox.Quad]]:
    client = HttpClient(allow_http=True, allow_private_addresses=True, max_retries=0)
    changes = read_changes(url, http=client, policy=SourcePolicy(allowed_hosts=["127.0.0.1"]), **kw)  # type: ignore[arg-type]
    assert changes.problems == []
    return {m.iri: {ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(m.iri)) for t in m.statements}
            for m in changes.members}


def test_the_client_replays_every_member_with_the_same_statements(releases: TwoReleases) -> None:
    with static_server(releases.output) as (base, _):
        url = f"{base}latest/changes.ttl"
        theirs, mine = replay(url), ours(url)
    assert len(theirs) == releases.first.entities + 4
    assert theirs == mine


def test_the_client_prunes_the_pages_it_has_seen_with_our_relations(releases: TwoReleases) -> None:
    first_time = "2026-12-01T09:00:00Z"  # release 1's members (ldes_helpers.ISSUED)
    with static_server(releases.output) as (base, requests):
        theirs = replay(f"{base}latest/changes.ttl", first_time)
    assert {m.split("#v-")[0] for m in theirs} == CHANGED | {WITHDRAWN}
    assert not any(f"/changes/{releases.first.release_id}/" in r for r in requests)  # release 1's page never fetched
