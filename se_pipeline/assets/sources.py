"""Per-source Dagster assets and their checks, generated from the source registry.

For every source `<name>` (see `se_pipeline/sources/`; partners' catalogs of the run
config, `kind: dcat_catalog`, are sources too and get the same assets and checks):

* `<name>` — fetch -> parse -> canonical rows (group `sources`); falls back to the last
  good copy when the source fails, and says so. Its checks (`source_checks`) are reported
  with its materialisation, from what the step just did: `fetch_succeeded`,
  `record_count_vs_last_good` (blocking), `quarantine_share` (warning),
  `licence_present` (blocking);
* `<name>_graph` — RDF + SHACL gate; what passes becomes the source's last good copy
  (group `rdf`), with its check `shacl_conforms` (blocking).

A failed blocking check fails its asset's step, so nothing downstream of it (the graph,
the links, the release) runs. A fetch is retried only by the HTTP client
(`acquire.http`), never again here. Only wiring lives here; the stage logic is in
`sources.ingest` and `gate.source`.
"""

import inspect
from datetime import timedelta
from typing import Any, Callable

import dagster as dg

from se_pipeline.acquire.http import HttpClient
from se_pipeline.gate.source import GateOutcome, gate_source
from se_pipeline.quarantine import read_quarantine
from se_pipeline.resources import ApiKey, SettingsResource, api_key_resource_name
from se_pipeline.sources.ingest import IngestOutcome, ingest
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


def with_api_key_parameter(fn: Callable[..., Any], resource_key: str | None) -> Callable[..., Any]:
    """`fn` with its `**api_key` replaced by one typed parameter `<resource_key>: ApiKey`
    (or by nothing for a source without a key). Dagster hands a resource to the parameter
    named after its key, and a source's key resource is named after its environment
    variable (`resources.api_key_resource_name`), so the name is only known per source."""
    signature = inspect.signature(fn)
    fixed = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    if resource_key:
        fixed.append(inspect.Parameter(resource_key, inspect.Parameter.KEYWORD_ONLY, annotation=ApiKey))
    fn.__signature__ = signature.replace(parameters=fixed)  # type: ignore[attr-defined]
    return fn


def source_checks(spec: SourceSpec) -> list[dg.AssetCheckSpec]:
    """The checks a source's asset reports with its materialisation (`source_check_results`)."""
    key = dg.AssetKey(spec.name)
    return [
        dg.AssetCheckSpec("fetch_succeeded", asset=key, description=(
            "Fails when this run could not fetch or parse the source; the release then republishes "
            "the source's last good copy and marks it stale.")),
        dg.AssetCheckSpec("record_count_vs_last_good", asset=key, blocking=True, description=(
            f"Stops the source when its record count drops by more than {spec.drop_threshold:.0%} "
            "against its last good copy, until a steward approves (`se-pipeline approve <source>`).")),
        dg.AssetCheckSpec("quarantine_share", asset=key, description=(
            f"Warns when more than {QUARANTINE_WARN_SHARE:.0%} of the source's records are quarantined.")),
        dg.AssetCheckSpec("licence_present", asset=key, blocking=True, description=(
            "Publishing data without its licence and attribution would be wrong: blocks the source.")),
    ]


def source_check_results(spec: SourceSpec, outcome: IngestOutcome, state: SourceState) -> list[dg.AssetCheckResult]:
    """The results of `source_checks` for this run's `outcome`. Besides the outcome they
    need the last good copy's record count and a steward's approval, which live with the
    source's state."""
    name = spec.name
    good_rows = int(read_json(state.good / "status.json").get("rows", 0))
    rows = outcome.rows if outcome.ok else good_rows
    approved = read_json(state.approval).get("rows")
    count_ok = outcome.disabled or rows >= good_rows * (1 - spec.drop_threshold) or approved == rows
    considered = outcome.rows + outcome.quarantined
    share = outcome.quarantined / considered if considered else 0.0
    # A partner's licence is what its catalog says (this run's, else its last good copy's).
    said = spec.published_as(outcome.notes if "publisher" in outcome.notes
                             else read_json(state.good / "status.json").get("notes"))
    licence, attribution = said["licence"], said["attribution"]
    publishes = not outcome.disabled and (outcome.ok or state.has_good())
    licensed = not publishes or (licence.startswith(("http://", "https://")) and bool(attribution.strip()))
    return [
        dg.AssetCheckResult(
            check_name="fetch_succeeded", passed=outcome.ok, severity=dg.AssetCheckSeverity.ERROR,
            description=None if outcome.ok else f"stale: {outcome.error}",
            metadata={"error": outcome.error or "", "last_good_rows": good_rows}),
        dg.AssetCheckResult(
            check_name="record_count_vs_last_good", passed=count_ok,
            description=None if count_ok else (
                f"{name}: {rows} records against {good_rows} in the last good copy "
                f"(more than {spec.drop_threshold:.0%} fewer); held back until approved with "
                f"`se-pipeline approve {name}`"),
            metadata={"rows": rows, "last_good_rows": good_rows, "approved_rows": approved or 0}),
        dg.AssetCheckResult(
            check_name="quarantine_share", passed=share <= QUARANTINE_WARN_SHARE, severity=dg.AssetCheckSeverity.WARN,
            metadata={"share": share, "quarantined": outcome.quarantined, "published": outcome.rows}),
        dg.AssetCheckResult(
            check_name="licence_present", passed=licensed,
            metadata={"licence": licence, "attribution": attribution}),
    ]


def shacl_check_result(outcome: GateOutcome) -> dg.AssetCheckResult:
    """`shacl_conforms` for this run's gate. Only a graph gated in this run can fail: a
    stale, unchanged or disabled source publishes its last good copy (which passed the
    gate) or nothing at all."""
    passed = outcome.status != "rejected"
    return dg.AssetCheckResult(
        check_name="shacl_conforms", passed=passed,
        description=None if passed else "graph violates the shapes after quarantine; see violations",
        metadata={"quarantined_by_shapes": outcome.quarantined_by_shapes,
                  "violations": dg.MetadataValue.md(outcome.violations_markdown or "none")},
    )


def _source_assets(spec: SourceSpec) -> list[dg.AssetsDefinition]:
    name = spec.name
    key_resource = api_key_resource_name(spec.api_key_env) if spec.api_key_env else None

    def source_asset(context: dg.AssetExecutionContext, settings: SettingsResource, http: HttpClient,
                     **api_key: ApiKey) -> dg.MaterializeResult:
        run_settings = settings.load()
        secret = api_key[key_resource].api_key if key_resource else None
        outcome = ingest(spec, run_settings, http, secret)
        state = SourceState.of(run_settings.state_dir, name)
        quarantine = read_quarantine(state.run / "quarantine.csv") if outcome.ok else []
        metadata: dict[str, Any] = {
            "dagster/row_count": outcome.rows,
            "quarantined": outcome.quarantined,
            "dropped_values": outcome.dropped,
            "stale": not outcome.ok,
            "not_modified": outcome.not_modified,
            "source_url": (outcome.fetches[0].get("url") if outcome.fetches
                           else run_settings.source_options(name).get("url")) or spec.sample_url,
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
        if "harvest" in outcome.notes:  # a partner's: dump or stream, pages, records left out, why a stream was not followed
            metadata["harvest"] = dg.MetadataValue.json(outcome.notes["harvest"])
        return dg.MaterializeResult(metadata=metadata, check_results=source_check_results(spec, outcome, state))

    source = dg.asset(
        name=name,
        group_name="sources",
        description=f"{spec.title}: fetched, parsed and mapped to the canonical table. {spec.attribution}",
        kinds={"python", "pandas"},
        metadata={"licence": dg.MetadataValue.url(spec.licence), "homepage": dg.MetadataValue.url(spec.homepage),
                  "publisher": spec.publisher, "cadence": spec.cadence},
        tags={"source_kind": spec.kind},
        check_specs=source_checks(spec),
        freshness_policy=dg.FreshnessPolicy.time_window(fail_window=CADENCE_WINDOW.get(spec.cadence, timedelta(days=9))),
    )(with_api_key_parameter(source_asset, key_resource))

    @dg.asset(
        name=f"{name}_graph",
        group_name="rdf",
        deps=[source],
        description=f"{spec.title} as RDF (ESSGlobal-aligned), through the SHACL gate; what passes becomes last good.",
        kinds={"rdf", "shacl"},
        check_specs=[dg.AssetCheckSpec("shacl_conforms", asset=f"{name}_graph", blocking=True, description=(
            "The graph this source publishes conforms to shapes/ (violating records were quarantined). "
            "Blocks the release if not."))],
    )
    def graph_asset(context: dg.AssetExecutionContext, settings: SettingsResource) -> dg.MaterializeResult:
        run_settings = settings.load()
        outcome = gate_source(name, run_settings)
        context.log.info(f"{name}: {outcome.message}")
        metadata: dict[str, Any] = {**outcome.as_metadata(), "seconds": dg.MetadataValue.json(outcome.seconds)}
        if outcome.violations_markdown:
            metadata["violations"] = dg.MetadataValue.md(outcome.violations_markdown)
        state = SourceState.of(run_settings.state_dir, name)
        if state.has_good():
            metadata["dagster/row_count"] = frame_rows(state.good / "canonical.parquet")
        return dg.MaterializeResult(metadata=metadata, check_results=[shacl_check_result(outcome)])

    return [source, graph_asset]


def build_source_defs() -> dg.Definitions:
    return dg.Definitions(assets=[a for spec in all_sources().values() for a in _source_assets(spec)])


defs = build_source_defs()
