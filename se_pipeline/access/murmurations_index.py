"""Register a release's Murmurations profiles with a Murmurations Index, and withdraw the gone ones.

Every release holds one profile per enterprise (`murmurations/<file>.json`, see
`release.exports.murmurations`). Once the release is hosted at `base_url`, each profile's
URL (`<base_url>/murmurations/<file>`) is registered with an Index (MurmurationsServices'
Index API v2, documented at docs.murmurations.network and in its source):

* `POST /v2/nodes {"profile_url": …}` answers `{"data": {"node_id": …}}` (the node id is
  the SHA-256 of the profile URL); the Index then fetches and validates the profile
  asynchronously;
* `GET /v2/nodes/<node_id>` answers `{"data": {"status": …}}` with status `received`,
  `validated`, `posted`, `post_failed` (the Index re-posts by itself later) or `deleted`;
  a `validation_failed` node is answered with the failure's HTTP status and
  `{"errors": [{"status", "title", "detail", "source"}], "meta": {"node_id", "profile_url"}}`;
* `DELETE /v2/nodes/<node_id>` succeeds only once the profile URL no longer serves the
  profile (404); otherwise 400 "Profile Still Exists";
* errors are JSON:API `{"errors": [{"status", "title", "detail"}]}`; over the rate limit
  the Index answers 429 (with `X-RateLimit-Reset`, a Unix time; `Retry-After` is honoured
  too), and any 5xx may be transient.

This is the release's access side: it announces where the published files are served,
it builds nothing. What was registered with which Index is kept in a small state file
(profile URL -> node id, the profile's SHA-256, last status), so a run posts only new or
changed profiles, reports unchanged ones, and deletes the nodes of profiles the release
no longer holds (enterprises withdrawn by their source, or gone). Requests are retried by
tenacity on 429/5xx and dropped connections, a bounded number of times, waiting what the
Index asks for, capped.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import quote, urlsplit

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, retry_if_result, stop_after_attempt

from se_pipeline import __version__

TERMINAL = {"posted", "validation_failed", "post_failed", "deleted"}
TRANSIENT = frozenset({408, 429, 500, 502, 503, 504})
MAX_BODY = 1 << 20
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class PublishError(Exception):
    """The run cannot start (bad arguments, unreadable release or state)."""


def clean(text: Any, limit: int = 300) -> str:
    """A remote server's text made safe to print: no control characters, bounded length."""
    s = _CONTROL.sub(" ", str(text)).strip()
    return s if len(s) <= limit else s[:limit] + "…"


def node_id(profile_url: str) -> str:
    """The Index's id of a profile URL: its SHA-256 (hex)."""
    return hashlib.sha256(profile_url.encode("utf-8")).hexdigest()


@dataclass
class Answer:
    """One HTTP answer of the Index: status, parsed JSON body (None when not JSON), headers."""

    status: int
    body: Any
    headers: Mapping[str, str]

    def reason(self) -> str:
        """The Index's explanation (JSON:API errors, else meta.message), cleaned."""
        errors = self.body.get("errors") if isinstance(self.body, dict) else None
        if isinstance(errors, list) and errors:
            parts = []
            for e in errors[:5]:
                if not isinstance(e, dict):
                    continue
                where = e.get("source") if isinstance(e.get("source"), dict) else {}
                pointer = f" (at {', '.join(str(v or k) for k, v in where.items())})" if where else ""
                parts.append(f"{e.get('title', '')}: {e.get('detail', '')}{pointer}".strip(": "))
            if len(errors) > 5:
                parts.append(f"and {len(errors) - 5} more")
            return clean("; ".join(p for p in parts if p), 600)
        meta = self.body.get("meta") if isinstance(self.body, dict) else None
        if isinstance(meta, dict) and meta.get("message"):
            return clean(meta["message"])
        return f"HTTP {self.status}" + ("" if self.body is not None else " (body is not JSON)")


def _wait_seconds(answer: Answer | None, attempt: int, cap: float, rng: random.Random) -> float:
    """What the Index asked for (Retry-After, else X-RateLimit-Reset), capped; else
    exponential backoff with full jitter."""
    if answer is not None:
        value = answer.headers.get("Retry-After")
        if value:
            value = value.strip()
            if value.isdigit():
                return min(float(value), cap)
            try:
                return min(max(0.0, parsedate_to_datetime(value).timestamp() - time.time()), cap)
            except (TypeError, ValueError, IndexError):
                pass
        reset = answer.headers.get("X-RateLimit-Reset", "")
        if reset.strip().isdigit():
            return min(max(0.0, int(reset) - time.time()), cap)
    return rng.uniform(0.0, min(cap, 0.5 * 2 ** (attempt - 1)))


class IndexClient:
    """The Index API v2 over one `requests.Session`, each call retried by tenacity."""

    def __init__(self, index_url: str, *, attempts: int = 5, wait_cap_s: float = 60.0, timeout_s: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep, rng: random.Random | None = None) -> None:
        self.base = index_url.rstrip("/")
        self.timeout = timeout_s
        self.session = requests.Session()
        self.session.headers["User-Agent"] = f"se-pipeline/{__version__} murmurations-publisher"
        self.requests_made = 0
        rng = rng or random.Random()

        def wait(state: RetryCallState) -> float:
            answer = state.outcome.result() if state.outcome and not state.outcome.failed else None
            return _wait_seconds(answer, state.attempt_number, wait_cap_s, rng)

        self._retrying = Retrying(
            retry=retry_if_result(lambda a: a.status in TRANSIENT)
            | retry_if_exception_type((requests.ConnectionError, requests.Timeout)),
            wait=wait, stop=stop_after_attempt(attempts), sleep=sleep,
            retry_error_callback=lambda state: state.outcome.result(),  # the last answer, reported as is
        )

    def close(self) -> None:
        self.session.close()

    def _once(self, method: str, path: str, payload: Any = None) -> Answer:
        self.requests_made += 1
        with self.session.request(method, self.base + path, json=payload, timeout=self.timeout,
                                   allow_redirects=False, stream=True) as resp:
            raw = resp.raw.read(MAX_BODY + 1, decode_content=True)
            body = None
            if len(raw) <= MAX_BODY:
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
            return Answer(resp.status_code, body, dict(resp.headers))

    def call(self, method: str, path: str, payload: Any = None) -> Answer:
        """One API call, retried on 429/5xx and dropped connections; a connection that
        still fails after the last attempt is an answer with status 0."""
        try:
            return self._retrying(self._once, method, path, payload)
        except (requests.ConnectionError, requests.Timeout) as e:
            return Answer(0, None, {"X-Error": clean(e)})

    def post(self, profile_url: str) -> Answer:
        return self.call("POST", "/v2/nodes", {"profile_url": profile_url})

    def get(self, nid: str) -> Answer:
        return self.call("GET", "/v2/nodes/" + quote(nid, safe=""))

    def delete(self, nid: str) -> Answer:
        return self.call("DELETE", "/v2/nodes/" + quote(nid, safe=""))


@dataclass
class Outcome:
    """The run's summary: profile URL lists per result, failures with their reasons."""

    posted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    planned_posts: list[str] = field(default_factory=list)
    planned_deletes: list[str] = field(default_factory=list)

    def lines(self, applied: bool) -> list[str]:
        out = []
        if not applied:
            out += [f"would post {u}" for u in self.planned_posts] + [f"would delete {u}" for u in self.planned_deletes]
            out.append(f"dry run: would post {len(self.planned_posts)}, would delete {len(self.planned_deletes)}, "
                       f"unchanged {len(self.unchanged)} (add --apply to do it)")
            return out
        out += [f"failed {u}: {why}" for u, why in sorted(self.failed.items())]
        out.append(f"posted {len(self.posted)}, failed {len(self.failed)}, deleted {len(self.deleted)}, "
                   f"unchanged {len(self.unchanged)}")
        return out


def _check_url(value: str, what: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise PublishError(f"{what} must be an http(s) URL without credentials: {value!r}")
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise PublishError(f"{what} must use https (plain http only on loopback): {value!r}")
    return value.rstrip("/")


def default_state_path(release: Path, index_url: str) -> Path:
    """`<output>/state/murmurations/<index>.json` for a release under `<output>/releases/`."""
    resolved = release.resolve()
    if resolved.parent.name != "releases":
        raise PublishError(f"{release} is not under an output directory's releases/: pass --state FILE")
    return resolved.parents[1] / "state" / "murmurations" / f"{node_id(index_url.rstrip('/'))[:16]}.json"


def _profiles(release: Path, base_url: str) -> dict[str, str]:
    """{profile URL: SHA-256 of the file} of every profile in the release."""
    folder = release / "murmurations"
    if not folder.is_dir():
        raise PublishError(f"{release} has no murmurations/ folder: is it a release directory?")
    return {f"{base_url}/murmurations/{quote(p.name)}": hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.glob("*.json"))}


def _load_state(path: Path, index_url: str) -> dict[str, dict[str, str]]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise PublishError(f"{path}: unreadable state file ({e}); move it away to start afresh") from None
    if not isinstance(data, dict) or data.get("index") != index_url or not isinstance(data.get("nodes"), dict):
        raise PublishError(f"{path}: not a state file of index {index_url}")
    return data["nodes"]


def _save_state(path: Path, index_url: str, nodes: dict[str, dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"index": index_url, "nodes": nodes}, indent=1, sort_keys=True), encoding="utf-8")
    tmp.replace(path)


def publish(release: Path, base_url: str, index_url: str, *, apply: bool = False, state_path: Path | None = None,
            client: IndexClient | None = None, polls: int = 10, poll_interval_s: float = 2.0,
            sleep: Callable[[float], None] = time.sleep, log: Callable[[str], None] = print) -> Outcome:
    """Post the release's new and changed profiles, follow their nodes until posted or
    failed (at most `polls` rounds, `poll_interval_s` apart), delete the nodes of profiles
    no longer in the release. Dry run unless `apply`; the state file is written only then."""
    base_url, index_url = _check_url(base_url, "--base-url"), _check_url(index_url, "--index")
    state_path = state_path or default_state_path(release, index_url)
    profiles = _profiles(release, base_url)
    nodes = _load_state(state_path, index_url)
    outcome = Outcome()
    for url, digest in profiles.items():
        known = nodes.get(url)
        if known and known.get("sha256") == digest and known.get("status") == "posted":
            outcome.unchanged.append(url)
        else:
            outcome.planned_posts.append(url)
    outcome.planned_deletes = sorted(u for u in nodes if u not in profiles and u.startswith(base_url + "/"))
    if not apply:
        return outcome
    client = client or IndexClient(index_url)
    try:
        pending: dict[str, str] = {}
        for url in outcome.planned_posts:
            answer = client.post(url)
            nid = answer.body.get("data", {}).get("node_id") if isinstance(answer.body, dict) and \
                isinstance(answer.body.get("data"), dict) else None
            if answer.status == 200 and isinstance(nid, str) and nid:
                pending[url] = nid
                nodes[url] = {"node_id": nid, "sha256": profiles[url], "status": "received"}
            else:
                outcome.failed[url] = f"not accepted: {answer.reason()}"
                nodes[url] = {"node_id": node_id(url), "sha256": profiles[url], "status": "post_refused"}
        for round_ in range(polls):
            if not pending:
                break
            if round_:
                sleep(poll_interval_s)
            for url, nid in list(pending.items()):
                status, why = _status(client.get(nid))
                if status in TERMINAL or status == "error":
                    del pending[url]
                    nodes[url]["status"] = status
                    if status == "posted":
                        outcome.posted.append(url)
                    else:
                        outcome.failed[url] = f"{status}: {why}"
        for url, nid in pending.items():
            outcome.failed[url] = f"still {nodes[url]['status']} after {polls} checks; run again to follow it"
        for url in outcome.planned_deletes:
            nid = nodes[url].get("node_id") or node_id(url)
            answer = client.delete(nid)
            if answer.status in (200, 404):  # 404: the Index no longer has it
                outcome.deleted.append(url)
                del nodes[url]
            else:
                outcome.failed[url] = f"not deleted: {answer.reason()}"
    finally:
        _save_state(state_path, index_url, nodes)
        client.close()
    return outcome


def _status(answer: Answer) -> tuple[str, str]:
    """(node status, reason) from a `GET /v2/nodes/<id>` answer."""
    body = answer.body if isinstance(answer.body, dict) else {}
    data = body.get("data") if isinstance(body.get("data"), dict) else {}
    if answer.status == 200 and isinstance(data.get("status"), str):
        status = data["status"] if data["status"] in TERMINAL | {"received", "validated"} else "error"
        return status, answer.reason() if status != "posted" else ""
    if body.get("errors") and isinstance(body.get("meta"), dict) and body["meta"].get("node_id"):
        return "validation_failed", answer.reason()
    return "error", f"status unknown: {answer.reason()}"
