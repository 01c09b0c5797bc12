"""`se-pipeline murmurations publish` against a loopback Index implementing the documented
contract (tests/access/murmurations_index_fake.py), the release's profiles hosted on a
loopback static server."""
from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path

import pytest

from se_pipeline.access.murmurations_index import IndexClient, clean, node_id, publish
from se_pipeline.cli import main
from tests.access.murmurations_index_fake import FakeIndex, running_index
from tests.release.ldes_helpers import CHANGED, REMOVED, TwoReleases, build_two_releases, static_server


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> TwoReleases:
    return build_two_releases(tmp_path_factory.mktemp("murmurations"))


def host(release: Path, site: Path) -> list[Path]:
    """Copy the release's profiles to the hosting folder (as a deployment would); returns them."""
    if site.exists():
        shutil.rmtree(site)
    shutil.copytree(release / "murmurations", site / "murmurations")
    for p in (site / "murmurations").iterdir():
        os.chmod(p, 0o644)
    return sorted((site / "murmurations").iterdir())


def run(release: Path, base: str, index_url: str, state: Path, sleeps: list[float], **kw: object):
    client = IndexClient(index_url, sleep=sleeps.append, rng=random.Random(1))
    return publish(release, base, index_url, apply=True, state_path=state, client=client, polls=5,
                   poll_interval_s=1.0, sleep=sleeps.append, **kw)  # type: ignore[arg-type]


def profile_of(release: Path, member_id: int) -> str:
    return next(p.name for p in (release / "murmurations").iterdir() if p.name.startswith(f"wfto--{member_id}--"))


def test_posts_reports_failures_skips_unchanged_and_deletes_withdrawn(releases: TwoReleases, tmp_path: Path) -> None:
    first, second = releases.first.path, releases.second.path
    site, state, index, sleeps = tmp_path / "site", tmp_path / "state.json", FakeIndex(), []
    profiles = host(first, site)
    broken = profiles[0]
    broken.write_text(json.dumps({**json.loads(broken.read_text()), "name": 5}))  # the Index's schema refuses it
    with static_server(site) as (base, _), running_index(index) as index_url:
        dry = publish(first, base, index_url, state_path=state)
        assert len(dry.planned_posts) == len(profiles) and index.log == [] and not state.exists()

        one = run(first, base, index_url, state, sleeps)
        assert sorted(one.posted) == sorted(f"{base.rstrip('/')}/murmurations/{p.name}" for p in profiles[1:])
        assert list(one.failed) == [f"{base.rstrip('/')}/murmurations/{broken.name}"]
        reason = next(iter(one.failed.values()))
        assert reason.startswith("validation_failed: Invalid Type: 5 is not of type 'string' (at /name)")
        assert sleeps == [1.0]  # one poll round after the first: validated -> posted

        index.log.clear()
        again = run(first, base, index_url, state, sleeps)
        assert len(again.unchanged) == len(profiles) - 1 and len(index.posts()) == 1  # only the failed one again

        # Release 2: 3 renamed, 1 withdrawn. Its old profile is still hosted: the Index refuses the delete.
        host(second, site)
        shutil.copyfile(first / "murmurations" / profile_of(first, REMOVED), site / "murmurations" / profile_of(first, REMOVED))
        index.log.clear()
        two = run(second, base, index_url, state, sleeps)
        renamed = {f"{base.rstrip('/')}/murmurations/{profile_of(second, int(r.rsplit('/', 1)[1]))}" for r in CHANGED}
        assert set(two.posted) == renamed | {f"{base.rstrip('/')}/murmurations/{broken.name}"}  # the broken one is fixed there
        gone = f"{base.rstrip('/')}/murmurations/{profile_of(first, REMOVED)}"
        assert two.failed == {gone: two.failed[gone]} and "Profile Still Exists" in two.failed[gone]
        assert two.deleted == []

        (site / "murmurations" / profile_of(first, REMOVED)).unlink()  # the withdrawn profile is no longer served
        three = run(second, base, index_url, state, sleeps)
        assert three.deleted == [gone] and three.failed == {} and three.posted == []
        assert index.nodes[node_id(gone)]["status"] == "deleted"
        saved = json.loads(state.read_text())
        assert gone not in saved["nodes"] and all(n["status"] == "posted" for n in saved["nodes"].values())


def test_rate_limits_and_5xx_are_retried_waiting_what_the_index_asks(releases: TwoReleases, tmp_path: Path) -> None:
    site, sleeps = tmp_path / "site", []
    profiles = host(releases.second.path, site)
    index = FakeIndex(script={"POST": [(429, {"Retry-After": "3"}, b'{"errors":[{"status":429,"title":"Too Many Requests"}]}')],
                              "GET": [(503, {}, b"busy"), (429, {"Retry-After": "100000"}, b"")]})
    with static_server(site) as (base, _), running_index(index) as index_url:
        out = run(releases.second.path, base, index_url, tmp_path / "s.json", sleeps)
    assert len(out.posted) == len(profiles) and out.failed == {}
    assert len(index.posts()) == len(profiles) + 1  # the 429 was retried once
    assert sleeps[0] == 3.0  # Retry-After honoured
    assert 60.0 in sleeps  # a Retry-After of 100000 s is capped


def test_failures_are_reported_per_profile_with_the_index_reason(releases: TwoReleases, tmp_path: Path) -> None:
    site, sleeps = tmp_path / "site", []
    profiles = host(releases.second.path, site)
    urls = lambda base: [f"{base.rstrip('/')}/murmurations/{p.name}" for p in profiles]  # noqa: E731
    index = FakeIndex()
    with static_server(site) as (base, _), running_index(index) as index_url:
        index.fail_posts, index.post_fails = {urls(base)[0]}, {urls(base)[1]}
        (site / "murmurations" / profiles[2].name).unlink()  # not hosted: the Index cannot read it
        out = run(releases.second.path, base, index_url, tmp_path / "s.json", sleeps)
    first, second, third = urls(base)[:3]
    assert out.failed[first] == "not accepted: Database Error: Error when trying to add a node."
    assert index.posts().count("/v2/nodes") >= 5 and len(index.posts()) == len(profiles) + 4  # 5 attempts, bounded
    assert out.failed[second].startswith("post_failed: The system will automatically re-post")
    assert out.failed[third].startswith("validation_failed: Profile Not Found")
    assert len(out.posted) == len(profiles) - 3


def test_a_hostile_index_answer_is_reported_cleanly(releases: TwoReleases, tmp_path: Path) -> None:
    site, sleeps = tmp_path / "site", []
    host(releases.second.path, site)
    long = "\x1b[31mred\x07 " + "x" * 5000
    index = FakeIndex(script={"POST": [(400, {}, json.dumps({"errors": [{"title": long, "detail": "d"}]}).encode()),
                                       (200, {}, b"<html>not json</html>")]})
    with static_server(site) as (base, _), running_index(index) as index_url:
        out = run(releases.second.path, base, index_url, tmp_path / "s.json", sleeps)
    reasons = list(out.failed.values())
    assert len(reasons) == 2
    assert all("\x1b" not in r and "\x07" not in r and len(r) < 700 for r in reasons)
    assert any(r == "not accepted: HTTP 200 (body is not JSON)" for r in reasons)
    assert clean("a\nb\x00c") == "a b c"


def test_cli_dry_run_and_argument_errors(releases: TwoReleases, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    latest = releases.output / "latest"
    assert main(["murmurations", "publish", "--release", str(latest), "--base-url", "https://data.example.org/se",
                 "--index", "https://index.example.org"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("would post https://data.example.org/se/murmurations/wfto--")
    assert out[-1] == f"dry run: would post {len(list((latest / 'murmurations').iterdir()))}, would delete 0, " \
                      "unchanged 0 (add --apply to do it)"
    assert not (releases.output / "state" / "murmurations").exists()  # a dry run writes nothing
    assert main(["murmurations", "publish", "--release", str(latest), "--base-url", "https://d.example.org",
                 "--index", "http://index.example.org"]) == 2
    assert "must use https" in capsys.readouterr().err
    assert main(["murmurations", "publish", "--release", str(tmp_path), "--base-url", "https://d.example.org",
                 "--index", "https://i.example.org", "--state", str(tmp_path / "s.json")]) == 2
    assert "no murmurations/ folder" in capsys.readouterr().err


@pytest.mark.parametrize("state_text, message", [("{not json", "unreadable state file"),
                                                 ('{"index": "https://other.example.org", "nodes": {}}', "not a state file of index")])
def test_a_state_file_that_is_not_ours_is_refused(releases: TwoReleases, tmp_path: Path, state_text: str, message: str) -> None:
    from se_pipeline.access.murmurations_index import PublishError

    state = tmp_path / "s.json"
    state.write_text(state_text)
    with pytest.raises(PublishError, match=message):
        publish(releases.second.path, "https://d.example.org", "https://i.example.org", state_path=state)


@pytest.mark.parametrize("url", ["https://user:pw@d.example.org", "ftp://d.example.org", "javascript:alert(1)", "http://d.example.org"])
def test_urls_with_credentials_other_schemes_or_plain_http_are_refused(releases: TwoReleases, tmp_path: Path, url: str) -> None:
    from se_pipeline.access.murmurations_index import PublishError

    with pytest.raises(PublishError, match="--base-url"):
        publish(releases.second.path, url, "https://i.example.org", state_path=tmp_path / "s.json")
