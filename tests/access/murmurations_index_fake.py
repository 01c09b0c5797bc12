"""A loopback Murmurations Index implementing the documented contract of the Index API v2
(MurmurationsServices `services/index`: node handler, node service, JSON:API errors,
rate limiter), for the publisher's tests.

* `POST /v2/nodes {"profile_url"}` -> 200 `{"data": {"node_id": sha256(url)}}`; a body that
  is not JSON or lacks `profile_url` -> 400 with JSON:API errors;
* the node is validated when first asked for (the real Index does it asynchronously): the
  profile is fetched from its URL and checked against the organizations schema (the
  subset our exports test uses) — unreachable or invalid -> `validation_failed`, answered
  with the first error's status and `{"errors", "meta": {"node_id", "profile_url"}}`;
  valid -> `validated`, then `posted` at the next look (or `post_failed`, for URLs in
  `post_fails`);
* `DELETE /v2/nodes/<id>` -> 400 "Profile Still Exists" while the URL still serves JSON,
  else the node is `deleted` and 200 with a `meta.message`; unknown ids -> 404;
* `script` queues canned answers per method (429 with `Retry-After`, 5xx, junk) served
  before the real behaviour; `fail_posts` URLs always get 500.
"""
from __future__ import annotations

import hashlib
import json
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator
from contextlib import contextmanager

import jsonschema

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "release" /
                     "murmurations_organizations_schema-v1.0.0.subset.json").read_text(encoding="utf-8"))


def errors(status: int, title: str, detail: str, pointer: str | None = None) -> dict[str, Any]:
    e: dict[str, Any] = {"status": status, "title": title, "detail": detail}
    if pointer is not None:
        e["source"] = {"pointer": pointer}
    return e


@dataclass
class FakeIndex:
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    log: list[tuple[str, str]] = field(default_factory=list)
    script: dict[str, list[tuple[int, dict[str, str], bytes]]] = field(default_factory=dict)
    fail_posts: set[str] = field(default_factory=set)
    post_fails: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def posts(self) -> list[str]:
        return [p for m, p in self.log if m == "POST"]

    def validate(self, node: dict[str, Any]) -> None:
        try:
            with urllib.request.urlopen(node["profile_url"], timeout=5) as r:
                profile = json.loads(r.read())
        except (urllib.error.URLError, ValueError):
            node["status"], node["reasons"] = "validation_failed", [errors(
                404, "Profile Not Found", f"Could not find or read from (invalid JSON) the profile_url: {node['profile_url']}")]
            return
        found = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(profile), key=lambda e: list(e.path))
        if found:
            node["status"] = "validation_failed"
            node["reasons"] = [errors(400, "Invalid Type", e.message, "/" + "/".join(map(str, e.path))) for e in found]
        else:
            node["status"] = "validated"


class _Handler(BaseHTTPRequestHandler):
    index: FakeIndex

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: requests are in `FakeIndex.log`."""

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None, raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _scripted(self) -> bool:
        with self.index.lock:
            self.index.log.append((self.command, self.path))
            queue = self.index.script.get(self.command)
            canned = queue.pop(0) if queue else None
        if canned:
            status, headers, raw = canned
            self._send(status, None, headers, raw)
        return canned is not None

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self._scripted():
            return
        if self.path != "/v2/nodes":
            return self._send(404, {"errors": [errors(404, "Not Found", "No such endpoint.")]})
        try:
            url = json.loads(raw).get("profile_url")
        except (ValueError, AttributeError):
            return self._send(400, {"errors": [errors(400, "JSON Error", "The JSON document submitted could not be parsed.")]})
        if not url:
            return self._send(400, {"errors": [errors(400, "Missing Required Property", "The `profile_url` property is required.")]})
        if url in self.index.fail_posts:
            return self._send(500, {"errors": [errors(500, "Database Error", "Error when trying to add a node.")]})
        nid = hashlib.sha256(url.encode()).hexdigest()
        with self.index.lock:
            self.index.nodes[nid] = {"profile_url": url, "status": "received", "reasons": []}
        self._send(200, {"data": {"node_id": nid}})

    def _node(self) -> tuple[str, dict[str, Any] | None]:
        nid = self.path.removeprefix("/v2/nodes/")
        return nid, self.index.nodes.get(nid)

    def do_GET(self) -> None:
        if self._scripted():
            return
        nid, node = self._node()
        if node is None:
            return self._send(404, {"errors": [errors(404, "Node Not Found",
                                                      f"Could not locate the following node_id in the Index: {nid}")]})
        if node["status"] == "received":
            self.index.validate(node)
        elif node["status"] == "validated":
            node["status"] = "post_failed" if node["profile_url"] in self.index.post_fails else "posted"
        if node["status"] == "validation_failed":
            return self._send(node["reasons"][0]["status"], {"errors": node["reasons"],
                                                             "meta": {"node_id": nid, "profile_url": node["profile_url"]}})
        data = {"node_id": nid, "profile_url": node["profile_url"], "status": node["status"]}
        if node["status"] == "post_failed":
            return self._send(200, {"data": data, "meta": {
                "message": "The system will automatically re-post the node, please check back in a minute."}})
        self._send(200, {"data": data})

    def do_DELETE(self) -> None:
        if self._scripted():
            return
        nid, node = self._node()
        if node is None:
            return self._send(404, {"errors": [errors(404, "Node Not Found",
                                                      f"Could not locate the following node_id in the Index: {nid}")]})
        try:
            with urllib.request.urlopen(node["profile_url"], timeout=5) as r:
                json.loads(r.read())
            still = True
        except (urllib.error.URLError, ValueError):
            still = False
        if still:
            return self._send(400, {"errors": [errors(400, "Profile Still Exists",
                                                      "The profile could not be deleted from the Index because it still "
                                                      f"exists at the profile_url: {node['profile_url']}")],
                                    "meta": {"node_id": nid, "profile_url": node["profile_url"]}})
        node["status"] = "deleted"
        self._send(200, {"meta": {"message": f"The Index has recorded as deleted the profile that was previously "
                                             f"posted at: {node['profile_url']}"}})


@contextmanager
def running_index(index: FakeIndex) -> Iterator[str]:
    """Serve `index` on 127.0.0.1 (ephemeral port); yields its root URL."""
    handler = type("Handler", (_Handler,), {"index": index})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
