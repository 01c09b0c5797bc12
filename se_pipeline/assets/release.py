"""The `release` asset: publish every source's last good graph as a versioned release; and
`partner_exports`, which it moves in when they were made from the same data."""

import time
from typing import Any

import dagster as dg

from se_pipeline.gate.release_shacl import start_release_validation
from se_pipeline.identity.links_rdf import LINKS_GRAPH
from se_pipeline.identity.stage import links_path
from se_pipeline.release.build import GraphPart, build_release
from se_pipeline.release import ledger
from se_pipeline.release.exports import staging as exports_staging
from se_pipeline.release.inputs import exports_unchanged_since, release_inputs, unchanged_since
from se_pipeline.resources import SettingsResource
from se_pipeline.run import LARGE_MEMORY
from se_pipeline.sources.registry import all_sources
from se_pipeline.state import SourceState

GRAPH_ASSETS = [dg.AssetKey(f"{name}_graph") for name in all_sources()]

# A new release when any source's graph updated (e.g. `refresh_<name>` ran) and every
# blocking check upstream passed; evaluated by the `release_automation` sensor, which only
# runs while the Dagster daemon runs. `eager()` also waits until no dependency is missing
# or in progress, so one release follows a burst of refreshes.
RELEASE_AUTOMATION = dg.AutomationCondition.eager() & dg.AutomationCondition.all_deps_blocking_checks_passed()


@dg.asset(
    name="partner_exports",
    op_tags=LARGE_MEMORY,
    group_name="release",
    deps=GRAPH_ASSETS,
    kinds={"csv", "json"},
    automation_condition=RELEASE_AUTOMATION,
    description=(
        "Standard CSV + vocabs.json (Mykomap), Murmurations profiles and GeoJSON from every source's last good "
        "rows, staged under output/work/ for the next release, which moves them in (or writes them itself if the "
        "data changed since)."
    ),
)
def partner_exports(settings: SettingsResource) -> dg.MaterializeResult:
    run_settings = settings.load()
    sources = [s.name for s in all_sources().values()
               if run_settings.enabled(s.name) and SourceState.of(run_settings.state_dir, s.name).has_good()]
    same_as = exports_unchanged_since(run_settings.latest, run_settings, sources)
    if same_as is not None:
        # Nothing to stage: unless the release is forced, there is no new release; if it
        # is (or the links changed), it links the unchanged profiles from `latest`.
        return dg.MaterializeResult(metadata={
            "files": 0, "sources": ", ".join(sources) or "none", "unchanged_since": same_as})
    t0 = time.perf_counter()
    earlier = ledger.latest_ledger(run_settings)
    files = exports_staging.stage(run_settings.output_dir, run_settings.state_dir, sources, run_settings.base_iri,
                                  previous=(earlier[0], earlier[1] / ledger.PROFILES) if earlier else None)
    return dg.MaterializeResult(metadata={
        "files": files, "sources": ", ".join(sources) or "none",
        "path": dg.MetadataValue.path(str(exports_staging.staged_dir(run_settings.output_dir))),
        "seconds": round(time.perf_counter() - t0, 2),
    })


class ReleaseConfig(dg.Config):
    """Run config of the `release` step (in the Dagster UI's launchpad:
    `ops: {release: {config: {force: true}}}`; `se-pipeline run --force`)."""

    force: bool = False
    """Make a new release even when nothing it is made from changed since `latest`."""


@dg.asset(
    name="release",
    op_tags=LARGE_MEMORY,
    group_name="release",
    deps=[*GRAPH_ASSETS, dg.AssetKey("enterprise_links"), dg.AssetKey("partner_exports")],
    kinds={"rdf"},
    automation_condition=RELEASE_AUTOMATION,
    description=(
        "Write-once release under output/releases/<id>/ (Turtle, JSON-LD, N-Quads, catalog, SHACL report, "
        "quarantine, checksums), re-read by independent parsers, then `output/latest` switched atomically."
    ),
)
def release(context: dg.AssetExecutionContext, settings: SettingsResource, config: ReleaseConfig) -> dg.MaterializeResult:
    run_settings = settings.load()
    specs = [s for s in all_sources().values() if run_settings.enabled(s.name)]
    links = links_path(run_settings)
    extra = [GraphPart(LINKS_GRAPH, links)] if links.is_file() and links.stat().st_size else []
    inputs = release_inputs(run_settings, [s.name for s in specs], links if extra else None)
    same_as = None if config.force else unchanged_since(run_settings.latest, inputs)
    if same_as is not None:
        context.log.info(f"nothing changed since release {same_as}: no new release, latest kept")
        return dg.MaterializeResult(metadata={
            "release_id": same_as, "new_release": False, "unchanged_since": same_as,
            "path": dg.MetadataValue.path(str(run_settings.latest.resolve())),
        })
    result = build_release(run_settings, specs, extra_parts=extra, validate=start_release_validation, inputs=inputs)
    stale = [s.name for s in result.sources if s.stale]
    if stale:
        context.log.warning(f"published with last good data for stale sources: {', '.join(stale)}")
    metadata: dict[str, Any] = {
        "release_id": result.release_id,
        "new_release": True,
        "path": dg.MetadataValue.path(str(result.path)),
        "triples": result.triples,
        "dagster/row_count": result.entities,
        "stale_sources": ", ".join(stale) or "none",
        "per_source": dg.MetadataValue.md("\n".join(
            ["| source | triples | enterprises | quarantined | stale |", "|---|---|---|---|---|"]
            + [f"| {s.name} | {s.triples} | {s.entities} | {s.quarantined} | {s.stale} |" for s in result.sources])),
        "seconds": dg.MetadataValue.json(result.seconds),
        "partner_exports": "staged by partner_exports, moved in" if result.exports_staged else "written by the release",
        # Enterprises whose documents / profiles were rendered, or hard-linked from the previous release.
        "reuse": dg.MetadataValue.json(result.reuse),
    }
    return dg.MaterializeResult(metadata=metadata)


defs = dg.Definitions(assets=[partner_exports, release])
