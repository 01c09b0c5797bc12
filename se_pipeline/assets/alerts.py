"""Alerting: a failed run, or a failed asset check, is posted to the steward's webhook.

Both sensors post JSON through the `webhook` resource (`WebhookNotifier`, URL from
`SE_PIPELINE_WEBHOOK_URL`; unset = alerts are only logged on the sensor tick):

```json
{"event": "run_failure" | "check_failed", "run_id": "…", "job": "publish",
 "asset": "coops_uk", "check": "fetch_succeeded", "severity": "ERROR", "blocking": false,
 "description": "…", "dagster_url": "https://dagster.example.org/runs/…" | null}
```

* `alert_on_run_failure` — a run failed (a step raised, or a blocking check failed, which
  stops the run before the release). One `run_failure` event, then one `check_failed`
  event per failed check of that run.
* `alert_on_check_failure` — a run succeeded but some checks failed (a source could not
  be fetched and was republished stale: `fetch_succeeded`; too much quarantined:
  `quarantine_share`). One `check_failed` event per failed check.

Dagster has no sensor type keyed on asset check evaluations, so the check notifier is a
run-status sensor that reads the run's check evaluations from the event log: together the
two sensors see every check of every run exactly once.
"""
from typing import Any, Optional

import dagster as dg
from dagster._core.events import DagsterEventType

from se_pipeline.resources import WebhookNotifier


def failed_checks(instance: dg.DagsterInstance, run_id: str) -> list[Any]:
    """The failed `AssetCheckEvaluation`s of a run, in the order they happened."""
    records = instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
    evaluations = [r.dagster_event.event_specific_data for r in records if r.dagster_event]
    return [e for e in evaluations if e is not None and not e.passed]


def check_event(run: Any, evaluation: Any, webhook: WebhookNotifier) -> dict[str, Any]:
    return {
        "event": "check_failed",
        "run_id": run.run_id,
        "job": run.job_name,
        "asset": evaluation.asset_key.to_user_string(),
        "check": evaluation.check_name,
        "severity": evaluation.severity.value,
        "blocking": bool(evaluation.blocking),
        "description": evaluation.description or "",
        "dagster_url": webhook.run_link(run.run_id),
    }


def run_failure_event(run: Any, message: Optional[str], webhook: WebhookNotifier) -> dict[str, Any]:
    return {
        "event": "run_failure",
        "run_id": run.run_id,
        "job": run.job_name,
        "asset": None,
        "check": None,
        "description": message or "",
        "dagster_url": webhook.run_link(run.run_id),
    }


def _send(context: Any, webhook: WebhookNotifier, events: list[dict[str, Any]]) -> Optional[dg.SkipReason]:
    for event in events:
        context.log.info(f"alert: {event['event']} {event.get('asset') or event['job']} "
                         f"{event.get('check') or ''}: {event['description']}".rstrip(": "))
    if not webhook.enabled:
        return dg.SkipReason(f"{len(events)} alert(s) not sent: SE_PIPELINE_WEBHOOK_URL is not set")
    for event in events:
        webhook.post(event)
    return None


@dg.run_failure_sensor(
    name="alert_on_run_failure",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Posts a failed run (and the checks that failed in it) to the alert webhook.",
)
def alert_on_run_failure(context: dg.RunFailureSensorContext, webhook: WebhookNotifier):
    run = context.dagster_run
    events = [run_failure_event(run, context.failure_event.message, webhook)]
    events += [check_event(run, e, webhook) for e in failed_checks(context.instance, run.run_id)]
    return _send(context, webhook, events)


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    name="alert_on_check_failure",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Posts every asset check that failed in a successful run (e.g. a stale source) to the alert webhook.",
)
def alert_on_check_failure(context: dg.RunStatusSensorContext, webhook: WebhookNotifier):
    run = context.dagster_run
    events = [check_event(run, e, webhook) for e in failed_checks(context.instance, run.run_id)]
    if not events:
        return dg.SkipReason(f"run {run.run_id}: every check passed")
    return _send(context, webhook, events)


defs = dg.Definitions(sensors=[alert_on_run_failure, alert_on_check_failure])
