"""Sensors: refresh a source when its upstream changed; build a release when a source did.

`<name>_upstream_changed` (one per source) asks upstream cheaply whether anything changed
since what we last saw, and requests a `refresh_<name>` run only when it did:

* `https://` URLs: a conditional GET through the shared `HttpClient` resource (allowlist,
  robots.txt, timeouts, byte cap) with the ETag / Last-Modified we last saw — `304 Not
  Modified` costs no body. A server without validators is compared by the sha256 of what
  it sends. (The client has no HEAD: many open-data servers answer HEAD wrongly anyway.)
* `file://` URLs (bundled samples, manual exports): the file's size and mtime, then its
  sha256 only when those moved.

What "last seen" means: the sensor's cursor (JSON, per URL: token, ETag, Last-Modified,
sha256, size, mtime); on the first tick, the last good fetch (`state/<source>/good/
fetch.json`). A source with neither only records a baseline. The `RunRequest`'s
`run_key` is `<name>:<token>` (ETag or sha256), so one upstream change is requested once.
A source switched off in the config, or one that cannot be probed (unreachable, not on
the allowlist), is skipped with the reason shown on the tick.

`release_automation` evaluates the `AutomationCondition` on `release` (see
`assets/release.py`): a re-run of one source leads to a new release, once every blocking
check upstream passed.

Sensors run only while the Dagster daemon runs (`dagster dev` starts one). Those of
sources that need an API key are STOPPED by default, like their schedules.
"""
import hashlib
import json
from typing import Any, Optional

import dagster as dg

from se_pipeline.acquire.errors import AcquireError
from se_pipeline.acquire.fetch import is_local, local_path
from se_pipeline.acquire.http import HttpClient
from se_pipeline.acquire.policy import SourcePolicy
from se_pipeline.files import sha256_file
from se_pipeline.assets.sources import with_api_key_parameter
from se_pipeline.resources import ApiKey, SettingsResource, api_key_resource_name
from se_pipeline.sources.ingest import policy_for, redact, source_urls
from se_pipeline.sources.registry import SourceSpec, all_sources
from se_pipeline.state import SourceState, read_json

# How often to ask upstream, by publication cadence (seconds).
CADENCE_INTERVAL = {"daily": 3600, "weekly": 3 * 3600, "monthly": 6 * 3600, "quarterly": 12 * 3600}


class UpstreamUnavailable(Exception):
    """The upstream could not be probed (missing file, network error, refused URL)."""


def _token(etag: Optional[str], sha256: Optional[str]) -> str:
    return f"etag:{etag}" if etag else f"sha256:{sha256}"


def seen_from_fetch_record(record: Optional[dict[str, Any]]) -> Optional[dict[str, Any]]:
    """What a previous fetch (a `FetchRecord` dict from `good/fetch.json`) tells the probe."""
    if not record or not record.get("sha256"):
        return None
    etag = None if is_local(record.get("url", "")) else record.get("etag")
    return {"token": _token(etag, record["sha256"]), "etag": etag,
            "last_modified": record.get("last_modified"), "sha256": record["sha256"]}


def probe_url(url: str, *, source: str, policy: SourcePolicy, http: HttpClient,
              known: Optional[dict[str, Any]]) -> dict[str, Any]:
    """The upstream's current version of `url` as {token, etag, last_modified, sha256, …};
    as cheap as the transport allows. Raises `UpstreamUnavailable`."""
    if is_local(url):
        try:
            path = local_path(url)
            st = path.stat()
            if known and known.get("sha256") and known.get("size") == st.st_size and known.get("mtime_ns") == st.st_mtime_ns:
                sha = known["sha256"]  # size and mtime unchanged: no need to read the file
            else:
                sha = sha256_file(path)
        except (OSError, AcquireError) as e:
            raise UpstreamUnavailable(f"{type(e).__name__}: {e}") from None
        return {"token": _token(None, sha), "etag": None, "last_modified": None, "sha256": sha,
                "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    headers: dict[str, str] = {}
    if known and known.get("etag"):
        headers["If-None-Match"] = known["etag"]
    if known and known.get("last_modified"):
        headers["If-Modified-Since"] = known["last_modified"]
    try:
        result = http.get(url, policy=policy, headers=headers, source=source)
    except AcquireError as e:
        raise UpstreamUnavailable(f"{type(e).__name__}: {e}") from None
    if result.status_code == 304 and known:
        return {**known, "etag": result.headers.get("ETag") or known.get("etag"), "status": 304}
    if not 200 <= result.status_code < 300:
        raise UpstreamUnavailable(f"HTTP {result.status_code} from {result.url}")
    etag = result.headers.get("ETag")
    sha = hashlib.sha256(result.content).hexdigest()
    return {"token": _token(etag, sha), "etag": etag, "last_modified": result.headers.get("Last-Modified"),
            "sha256": sha, "status": result.status_code}


def has_changed(known: dict[str, Any], now: dict[str, Any]) -> bool:
    """A new token, unless the bytes are provably the same (a server that re-issues ETags)."""
    if now.get("token") == known.get("token"):
        return False
    return not (now.get("sha256") and now.get("sha256") == known.get("sha256"))


def upstream_sensor(spec: SourceSpec) -> dg.SensorDefinition:
    name = spec.name
    key_resource = api_key_resource_name(spec.api_key_env) if spec.api_key_env else None

    def _sensor(context: dg.SensorEvaluationContext, settings: SettingsResource, http: HttpClient,
                **api_key: ApiKey) -> dg.SensorResult | dg.SkipReason:
        run_settings = settings.load()
        if not run_settings.enabled(name):
            return dg.SkipReason(f"{name} is disabled in the configuration")
        secret = api_key[key_resource].api_key if key_resource else None
        policy = policy_for(spec, run_settings)
        urls = source_urls(spec, run_settings, secret)
        if policy.manual_export_only and not all(is_local(u) for u in urls):
            return dg.SkipReason(f"{name} is a manual export: point it at a file:// copy to watch it")
        cursor = json.loads(context.cursor) if context.cursor else {}
        before: dict[str, Any] = cursor.get("urls", {})
        good = {f.get("url"): f for f in read_json(SourceState.of(run_settings.state_dir, name).good / "fetch.json")
                .get("fetches", [])}
        seen: dict[str, Any] = {}
        changed: list[str] = []
        for url in urls:
            shown = redact(url, secret)
            known = before.get(shown) or seen_from_fetch_record(good.get(shown))
            try:
                now = probe_url(url, source=name, policy=policy, http=http, known=known)
            except UpstreamUnavailable as e:
                return dg.SkipReason(f"cannot probe {shown}: {redact(str(e), secret)}")
            seen[shown] = now
            if known is not None and has_changed(known, now):
                changed.append(shown)
        new_cursor = json.dumps({"urls": seen}, sort_keys=True)
        if not changed:
            why = "unchanged" if before or good else "baseline recorded"
            return dg.SensorResult(skip_reason=dg.SkipReason(f"{name}: {why}"), cursor=new_cursor)
        if len(seen) == 1:
            token = next(iter(seen.values()))["token"]
        else:
            joined = "\n".join(f"{u}={seen[u]['token']}" for u in sorted(seen))
            token = "multi:" + hashlib.sha256(joined.encode("utf-8")).hexdigest()
        context.log.info(f"{name} changed upstream: {', '.join(changed)}")
        return dg.SensorResult(
            run_requests=[dg.RunRequest(run_key=f"{name}:{token}", job_name=f"refresh_{name}",
                                        tags={"source": name, "trigger": "upstream_changed"})],
            cursor=new_cursor,
        )

    return dg.sensor(
        name=f"{name}_upstream_changed",
        job_name=f"refresh_{name}",
        minimum_interval_seconds=CADENCE_INTERVAL.get(spec.cadence, CADENCE_INTERVAL["weekly"]),
        default_status=dg.DefaultSensorStatus.STOPPED if spec.api_key_env else dg.DefaultSensorStatus.RUNNING,
        description=(f"Requests `refresh_{name}` when {spec.title} changed upstream "
                     "(conditional GET with the last ETag/Last-Modified, or the file's sha256)."),
    )(with_api_key_parameter(_sensor, key_resource))


upstream_sensors = [upstream_sensor(spec) for spec in all_sources().values()]

release_automation = dg.AutomationConditionSensorDefinition(
    "release_automation",
    target=dg.AssetSelection.assets("release"),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description="Evaluates the automation condition on `release`: a new release after any source's graph "
                "updated and every blocking check upstream passed.",
)

defs = dg.Definitions(sensors=[*upstream_sensors, release_automation])
