"""How `se-pipeline run` deals the sources out to lanes (the runs themselves: test_cli.py)."""
from __future__ import annotations

from pathlib import Path

import dagster as dg

from se_pipeline.definitions import build_definitions
from se_pipeline.lanes import _source_assets, _stages, _weight, deal, enabled_assets
from se_pipeline.settings import Settings
from se_pipeline.sources.registry import all_sources


def test_heaviest_sources_go_first_to_the_lightest_lane() -> None:
    weights = {"big": 900, "mid": 500, "small": 400, "tiny": 10, "none": 0}
    assert deal(weights, 2) == [["big", "tiny"], ["mid", "small", "none"]]
    assert deal(weights, 1) == [["big", "mid", "small", "tiny", "none"]]


def test_each_source_lane_holds_the_source_and_its_graph_and_the_rest_is_links_exports_and_release(tmp_path: Path) -> None:
    defs = build_definitions(None, str(tmp_path))
    by_source = _source_assets(defs)
    assert set(by_source) == set(all_sources())
    assert all(sorted(k.to_user_string() for k in keys) == sorted([name, f"{name}_graph"])
               for name, keys in by_source.items())
    sourced = {k for keys in by_source.values() for k in keys}
    rest = set(defs.resolve_asset_graph().get_all_asset_keys()) - sourced
    assert rest == {dg.AssetKey("enterprise_links"), dg.AssetKey("partner_exports"), dg.AssetKey("release")}


def test_disabled_sources_steps_are_not_run(tmp_path: Path) -> None:
    defs = build_definitions(None, str(tmp_path))
    every = set(defs.resolve_asset_graph().get_all_asset_keys())
    on = set(all_sources()) - {"wfto", "ica"}
    kept = set(enabled_assets(defs, on))
    assert every - kept == {dg.AssetKey(k) for k in ("wfto", "wfto_graph", "ica", "ica_graph")}
    stages = _stages(defs, {name: 1 for name in all_sources()}, on)
    dealt = {k for here, away in stages for k in here + away}
    assert dealt == kept  # every other asset once, in some stage
    assert sum(len(here) + len(away) for here, away in stages) == len(kept)


def test_a_sources_weight_is_its_last_good_graph_else_its_local_input(tmp_path: Path) -> None:
    spec = all_sources()["coops_uk"]
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * 5000)
    settings = Settings(output_dir=tmp_path / "out", sources={"coops_uk": {"url": big.as_uri()}, "wfto": {"enabled": False}})
    assert _weight(spec, settings) == 5000
    assert _weight(all_sources()["wfto"], settings) == 0                    # disabled
    assert _weight(all_sources()["dotcoop"], settings) == all_sources()["dotcoop"].sample.stat().st_size
    good = settings.state_dir / "coops_uk" / "good"
    good.mkdir(parents=True)
    (good / "graph.nt").write_bytes(b"y" * 123)
    assert _weight(spec, settings) == 123
    remote = Settings(output_dir=tmp_path / "o2", sources={"coops_uk": {"url": "https://example.org/x.csv"}})
    assert _weight(spec, remote) == 0


def test_a_worker_that_dies_is_a_failed_lane_that_says_why(tmp_path: Path) -> None:
    from se_pipeline.lanes import _Worker

    bad = tmp_path / "bad.yaml"
    bad.write_text("sources: [not, a, mapping]\n")
    worker = _Worker(tmp_path, str(bad), tmp_path / "out")
    worker.start([dg.AssetKey("coops_uk")])
    outcome = worker.result()
    worker.stop()
    assert not outcome.success and outcome.release is None
    assert "sources lane worker exited (1)" in outcome.problems[0]
    assert "sources: expected a mapping (key: value)" in outcome.problems[0]  # its error, from its log


def test_the_worker_exits_once_no_later_stage_needs_it(monkeypatch) -> None:
    """Its memory (the links' frames) must not be held beside the release."""
    from se_pipeline import lanes

    calls: list[str] = []

    class FakeWorker:
        def start(self, keys):
            calls.append(f"start {keys}")

        def result(self):
            calls.append("result")
            return lanes.Outcome(True)

        def stop(self, *, now=False):
            calls.append("stop")

    monkeypatch.setattr(lanes, "_stages", lambda defs, w, e: [(["a"], ["b"]), (["c"], ["d"]), (["e"], []), (["f"], [])])
    monkeypatch.setattr(lanes, "_execute", lambda defs, keys, instance: calls.append(f"run {keys}") or lanes.Outcome(True))
    assert lanes._run_stages(None, {}, set(), FakeWorker(), None).success
    assert calls == ["start ['b']", "run ['a']", "result", "start ['d']", "run ['c']", "result", "stop",
                     "run ['e']", "run ['f']"]
