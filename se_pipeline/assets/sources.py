"""Per-source Dagster assets and their checks, generated from the source registry.

For every source `<name>` (see `se_pipeline/sources/`):

* `<name>` — fetch -> parse -> canonical rows (group `sources`); falls back to the last
  good copy when the source fails, and says so (check `fetch_succeeded`);
* `<name>_graph` — RDF + SHACL gate; what passes becomes the source's last good copy
  (group `rdf`).

Only wiring lives here; the stage logic is in `sources.ingest` and `gate.source`.
"""

from datetime import timedelta
from typing import Any

import dagster as dg

from se_pipeline.acquire.errors import AcquireError
from se_pipeline.gate.source import gate_source
from se_pipeline.quarantine import read_quarantine
from se_pipeline.resources import api_key_resource_name
from se_pipeline.sources.ingest import ingest
from se_pipeline.sources.registry import SourceSpec, all_sources
from se_pipeline.state import SourceState, frame_rows, read_json

CADENCE_WINDOW = {
    "daily": timedelta(days=2), "weekly": timedelta(days=9), "monthly": timedelta(days=35),
    "quarterly": timedelta(days=100),
}
QUARANTINE_WARN_SHARE = 0.2


def _markdown_table(rows: list[dict[str, Any]], columns: list[str], limit: int = 25) -> str:
    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")[:120]

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(r.get(c, "")) for c in columns) + " |" for r in rows[:limit]]
    if len(rows) > limit:
        lines.append(f"| … {len(rows) - limit} more | " + " | " * (len(columns) - 1))
    return "\n".join(lines)


def _source_assets(spec: SourceSpec) -> list[Any]:
    keys = {"settings", "http"} | ({api_key_resource_name(spec.api_key_env)} if spec.api_key_env else set())
    name = spec.name

    @dg.asset(
        name=name,
        group_name="sources",
        description=f"{spec.title}: fetched, parsed and mapped to the canonical table. {spec.attribution}",
        required_resource_keys=keys,
        kinds={"python", "pandas"},
        metadata={"licence": dg.MetadataValue.url(spec.licence), "homepage": dg.MetadataValue.url(spec.homepage),
                  "publisher": spec.publisher, "cadence": spec.cadence},
        tags={"source_kind": spec.kind},
        retry_policy=dg.RetryPolicy(max_retries=2, delay=10, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS),
        freshness_policy=dg.FreshnessPolicy.time_window(fail_window=CADENCE_WINDOW.get(spec.cadence, timedelta(days=9))),
    )
    def source_asset(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        settings = context.resources.settings.load()
        secret = getattr(context.resources, api_key_resource_name(spec.api_key_env)).api_key if spec.api_key_env else None
        outcome = ingest(spec, settings, context.resources.http, secret)
        if not outcome.ok and outcome.transient and context.retry_number < 2:
            raise AcquireError(name, f"transient failure, retrying: {outcome.error}")
        state = SourceState.of(settings.state_dir, name)
        quarantine = read_quarantine(state.run / "quarantine.csv") if outcome.ok else []
        metadata: dict[str, Any] = {
            "dagster/row_count": outcome.rows,
            "quarantined": outcome.quarantined,
            "dropped_values": outcome.dropped,
            "stale": not outcome.ok,
            "not_modified": outcome.not_modified,
            "source_url": (outcome.fetches[0].get("url") if outcome.fetches else settings.source_options(name).get("url")) or spec.sample_url,
            "seconds": dg.MetadataValue.json(outcome.seconds),
        }
        if outcome.fetches:
            metadata["fetch"] = dg.MetadataValue.json(outcome.fetches)
        if outcome.error:
            metadata["error"] = outcome.error
            context.log.warning(f"{name} failed this run; the release keeps its last good copy: {outcome.error}")
        if quarantine:
            metadata["quarantine"] = dg.MetadataValue.md(_markdown_table(
                [q.__dict__ for q in quarantine], ["record_id", "line", "field", "reason"]))
        unmapped = outcome.notes.get("unmapped")
        if unmapped:
            metadata["unmapped_codes"] = dg.MetadataValue.json(unmapped)
        return dg.MaterializeResult(metadata=metadata)

    @dg.asset_check(asset=source_asset, name="fetch_succeeded", required_resource_keys={"settings"}, description=(
        "Fails when this run could not fetch or parse the source; the release then republishes "
        "the source's last good copy and marks it stale."))
    def fetch_succeeded(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        settings = context.resources.settings.load()
        state = SourceState.of(settings.state_dir, name)
        status = read_json(state.run / "status.json")
        good = read_json(state.good / "status.json")
        return dg.AssetCheckResult(
            passed=bool(status.get("ok")),
            severity=dg.AssetCheckSeverity.ERROR,
            description=None if status.get("ok") else f"stale: {status.get('error')}",
            metadata={"error": status.get("error") or "", "last_good_rows": good.get("rows", 0)},
        )

    @dg.asset_check(asset=source_asset, name="record_count_vs_last_good", required_resource_keys={"settings"}, blocking=True, description=(
        f"Holds the source back when its record count drops by more than {spec.drop_threshold:.0%} "
        "against its last good copy, until a steward approves (`se-pipeline approve <source>`)."))
    def record_count(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        settings = context.resources.settings.load()
        state = SourceState.of(settings.state_dir, name)
        status = read_json(state.run / "status.json")
        good_rows = int(read_json(state.good / "status.json").get("rows", 0))
        rows = int(status.get("rows", 0)) if status.get("ok") else good_rows
        approved = read_json(state.approval).get("rows")
        floor = good_rows * (1 - spec.drop_threshold)
        passed = bool(status.get("disabled")) or rows >= floor or approved == rows
        return dg.AssetCheckResult(
            passed=passed,
            description=None if passed else (
                f"{name}: {rows} records against {good_rows} in the last good copy "
                f"(more than {spec.drop_threshold:.0%} fewer); held back until approved with "
                f"`se-pipeline approve {name}`"),
            metadata={"rows": rows, "last_good_rows": good_rows, "approved_rows": approved or 0},
        )

    @dg.asset_check(asset=source_asset, name="quarantine_share", required_resource_keys={"settings"}, description=(
        f"Warns when more than {QUARANTINE_WARN_SHARE:.0%} of the source's records are quarantined."))
    def quarantine_share(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        settings = context.resources.settings.load()
        status = read_json(SourceState.of(settings.state_dir, name).run / "status.json")
        rows, quarantined = int(status.get("rows", 0)), int(status.get("quarantined", 0))
        share = quarantined / (rows + quarantined) if rows + quarantined else 0.0
        return dg.AssetCheckResult(
            passed=share <= QUARANTINE_WARN_SHARE, severity=dg.AssetCheckSeverity.WARN,
            metadata={"share": share, "quarantined": quarantined, "published": rows},
        )

    @dg.asset_check(asset=source_asset, name="licence_present", blocking=True, description=(
        "Publishing data without its licence and attribution would be wrong: blocks the source."))
    def licence_present(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        ok = spec.licence.startswith(("http://", "https://")) and bool(spec.attribution.strip())
        return dg.AssetCheckResult(passed=ok, metadata={"licence": spec.licence, "attribution": spec.attribution})

    @dg.asset(
        name=f"{name}_graph",
        group_name="rdf",
        deps=[source_asset],
        description=f"{spec.title} as RDF (ESSGlobal-aligned), through the SHACL gate; what passes becomes last good.",
        required_resource_keys={"settings"},
        kinds={"rdf", "shacl"},
    )
    def graph_asset(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        settings = context.resources.settings.load()
        outcome = gate_source(name, settings)
        context.log.info(f"{name}: {outcome.message}")
        metadata: dict[str, Any] = {**outcome.as_metadata(), "seconds": dg.MetadataValue.json(outcome.seconds)}
        if outcome.violations_markdown:
            metadata["violations"] = dg.MetadataValue.md(outcome.violations_markdown)
        state = SourceState.of(settings.state_dir, name)
        if state.has_good():
            metadata["dagster/row_count"] = frame_rows(state.good / "canonical.parquet")
        return dg.MaterializeResult(metadata=metadata)

    @dg.asset_check(asset=graph_asset, name="shacl_conforms", required_resource_keys={"settings"}, blocking=True, description=(
        "The graph this source publishes conforms to shapes/ (violating records were quarantined). "
        "Blocks the release if not."))
    def shacl_conforms(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        settings = context.resources.settings.load()
        state = SourceState.of(settings.state_dir, name)
        # Only a graph gated in this run can fail: a stale, unchanged or disabled source
        # publishes its last good copy (which passed the gate) or nothing at all.
        gate = read_json(state.run / "gate.json") if read_json(state.run / "status.json").get("ok") else {}
        passed = bool(gate.get("conforms_after")) if gate else True
        return dg.AssetCheckResult(
            passed=passed,
            description=None if passed else "graph violates the shapes after quarantine; see violations",
            metadata={"quarantined_by_shapes": gate.get("quarantined", 0),
                      "violations": dg.MetadataValue.md(gate.get("violations_markdown") or "none")},
        )

    return [source_asset, fetch_succeeded, record_count, quarantine_share, licence_present, graph_asset, shacl_conforms]


def build_source_defs() -> dg.Definitions:
    assets, checks = [], []
    for spec in all_sources().values():
        for d in _source_assets(spec):
            (checks if isinstance(d, dg.AssetChecksDefinition) else assets).append(d)
    return dg.Definitions(assets=assets, asset_checks=checks)


defs = build_source_defs()
