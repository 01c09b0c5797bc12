"""The `enterprise_links` asset: one enterprise, one identity across sources and releases."""

import dagster as dg

from se_pipeline.assets.release import GRAPH_ASSETS
from se_pipeline.identity.stage import link_sources
from se_pipeline.resources import SettingsResource
from se_pipeline.run import LARGE_MEMORY
from se_pipeline.sources.registry import all_sources


@dg.asset(
    name="enterprise_links",
    op_tags=LARGE_MEMORY,
    group_name="identity",
    deps=GRAPH_ASSETS,
    kinds={"pandas", "rdf"},
    automation_condition=dg.AutomationCondition.eager(),
    description=(
        "owl:sameAs links between the per-source records of one enterprise (registry ids, website domain, "
        "name + place), each with evidence and score; curated decisions in identity/decisions.yaml win."
    ),
)
def enterprise_links(settings: SettingsResource) -> dg.MaterializeResult:
    run_settings = settings.load()
    outcome = link_sources(run_settings, [s for s in all_sources() if run_settings.enabled(s)])
    links = outcome.links
    same = links[links["decision"] == "same"] if len(links) else links
    uncertain = links[links["decision"] == "uncertain"] if len(links) else links
    by_evidence = same.groupby("evidence").size().to_dict() if len(same) else {}
    table = ["| record a | record b | evidence | score |", "|---|---|---|---|"] + [
        f"| {r.source_a}:{r.record_a} | {r.source_b}:{r.record_b} | {r.evidence} | {r.score:.2f} |"
        for r in uncertain.head(50).itertuples()
    ]
    return dg.MaterializeResult(metadata={
        "dagster/row_count": len(same),
        "same_links": len(same),
        "uncertain_links": len(uncertain),
        "enterprises_in_several_sources": outcome.clusters,
        "by_evidence": dg.MetadataValue.json({k: int(v) for k, v in by_evidence.items()}),
        "uncertain_pairs_to_review": dg.MetadataValue.md("\n".join(table)),
        "triples": outcome.triples,
        "reused": dg.MetadataValue.bool(outcome.reused),
    })
