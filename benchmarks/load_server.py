"""A bounded load test of `se-pipeline serve` on loopback: does it stay responsive under abuse, and stop?

    python -m benchmarks.load_server --release output/latest [--half-open 300] [--slow-clients 50]
        [--burst 400] [--concurrency 32] [--slow-queries 6] [--max-seconds 120]

Starts the server as a subprocess on 127.0.0.1 (any free port), then at the same time:
`--half-open` connections that send half a request head and wait; `--slow-clients` that
drip a request head one byte every 0.5 s (slowloris); `--slow-queries` queries that run
until the query timeout; and a burst of `--burst` ordinary requests (SPARQL counts, ASKs,
/id/ dereferencing, the service description) from `--concurrency` client threads. A probe
dereferences one IRI every 0.25 s throughout. Then SIGTERM, with everything still connected.

Prints, per kind of request, how many were served (any answer but 408/503), rejected
(503 busy or timed out, 408) or failed (resets, client timeouts), with p50/p99 latency of
the served ones; the same for the probe; the server's peak RSS (its process tree)
and how long it took to exit after SIGTERM. Everything is bounded in count and time.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psutil

SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
QUERIES = [
    "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "ASK { ?s a <http://purl.org/essglobal/vocab/SSEInitiative> }",
    "SELECT ?e ?name WHERE { ?e <https://schema.org/name> ?name } LIMIT 50",
]


@dataclass
class Tally:
    served: int = 0
    rejected: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: str, seconds: float | None = None) -> None:
        with self.lock:
            setattr(self, outcome, getattr(self, outcome) + 1)
            if seconds is not None and outcome == "served":
                self.latencies.append(seconds)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def fetch(url: str, tally: Tally, headers: dict | None = None, timeout: float = 60) -> None:
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=timeout) as r:
            r.read()
            tally.add("served", time.monotonic() - t0)
    except urllib.error.HTTPError as e:
        e.read()
        tally.add("rejected" if e.code in (408, 503) else "served", time.monotonic() - t0)
    except (OSError, TimeoutError):
        tally.add("failed")


def start_server(release: Path, store_dir: Path, args: argparse.Namespace) -> tuple[subprocess.Popen, int]:
    cmd = [sys.executable, "-m", "se_pipeline.cli", "serve", "--release", str(release), "--port", "0",
           "--store-dir", str(store_dir), "--timeout", str(args.query_timeout), "--header-timeout",
           str(args.header_timeout), "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if m := re.search(r"SPARQL endpoint: http://127\.0\.0\.1:(\d+)/sparql", line):
            threading.Thread(target=proc.stdout.read, daemon=True).start()
            return proc, int(m.group(1))
    proc.kill()
    raise SystemExit("the server did not start")


def tree_rss(pid: int) -> int:
    try:
        root = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
    except psutil.Error:
        return 0


def enterprise_paths(base: str, n: int) -> list[str]:
    q = "SELECT ?e WHERE { ?e a <http://purl.org/essglobal/vocab/SSEInitiative> } LIMIT %d" % n
    with urllib.request.urlopen(f"{base}/sparql?" + urllib.parse.urlencode({"query": q}), timeout=60) as r:
        iris = [b["e"]["value"] for b in json.loads(r.read())["results"]["bindings"]]
    return ["/id/" + iri.split("/id/", 1)[1] for iri in iris if "/id/" in iri] or ["/id/none/none"]


def run(args: argparse.Namespace) -> dict:
    release = Path(args.release)
    with tempfile.TemporaryDirectory(prefix="se-load-") as tmp:
        proc, port = start_server(release, Path(tmp) / "stores", args)
        base = f"http://127.0.0.1:{port}"
        stop = threading.Event()
        burst = {"queries": Tally(), "/id/": Tally(), "service description": Tally()}
        probe, slow = Tally(), Tally()
        peak = [tree_rss(proc.pid)]
        socks: list[socket.socket] = []
        slowloris = Tally()
        try:
            ids = enterprise_paths(base, 50)

            def sample() -> None:
                while not stop.is_set():
                    peak[0] = max(peak[0], tree_rss(proc.pid))
                    time.sleep(0.1)

            def probing() -> None:
                while not stop.is_set():
                    fetch(base + random.choice(ids), probe, {"Accept": "text/turtle"}, timeout=30)
                    time.sleep(0.25)

            def drip() -> None:
                head = b"GET /sparql HTTP/1.1\r\nHost: x\r\nAccept: text/turtle\r\n\r\n"
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=args.max_seconds) as s:
                        for byte in head:
                            if stop.is_set():
                                return
                            s.sendall(bytes([byte]))
                            time.sleep(0.5)
                        data = s.recv(4096)
                        slowloris.add("served" if data.startswith(b"HTTP/1.1 200") else "rejected")
                except (BrokenPipeError, ConnectionResetError):
                    slowloris.add("rejected")  # the server cut it off at the header deadline
                except OSError:
                    slowloris.add("failed")

            drippers = [threading.Thread(target=drip, daemon=True) for _ in range(args.slow_clients)]
            for t in [threading.Thread(target=sample, daemon=True), threading.Thread(target=probing, daemon=True),
                      *drippers]:
                t.start()
            opened = time.monotonic()
            for _ in range(args.half_open):
                s = socket.create_connection(("127.0.0.1", port), timeout=10)
                s.sendall(b"GET /sparql HTTP/1.1\r\nHost: x\r\n")
                socks.append(s)
            slow_threads = [threading.Thread(target=fetch, args=(f"{base}/sparql?" + urllib.parse.urlencode(
                {"query": SLOW}), slow), daemon=True) for _ in range(args.slow_queries)]
            for t in slow_threads:
                t.start()

            def one(i: int) -> None:
                kind = i % 4
                if kind == 0:
                    fetch(base + random.choice(ids), burst["/id/"], {"Accept": "application/ld+json"})
                elif kind == 1:
                    fetch(base + "/sparql", burst["service description"], {"Accept": "text/turtle"})
                else:
                    fetch(f"{base}/sparql?" + urllib.parse.urlencode({"query": random.choice(QUERIES)}),
                          burst["queries"], {"Accept": "application/sparql-results+json"})

            t0 = time.monotonic()
            with ThreadPoolExecutor(args.concurrency) as pool:
                for i in range(args.burst):
                    if time.monotonic() - t0 > args.max_seconds:
                        break
                    pool.submit(one, i)
            burst_seconds = time.monotonic() - t0
            for t in drippers:  # each is cut off at the header deadline, or served
                t.join(max(0.0, opened + args.header_timeout + 5 - time.monotonic()))
            time.sleep(max(0.0, opened + args.header_timeout + 1 - time.monotonic()))
            half_open_closed = 0
            for s in socks:
                s.settimeout(0.2)
                try:
                    s.recv(4096)  # b"" or a 408: the server closed it
                    half_open_closed += 1
                except OSError:
                    pass
            stop.set()  # clients stop before SIGTERM: what follows measures the stop alone
            t_term = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(args.max_seconds)
                exit_seconds = time.monotonic() - t_term
            except subprocess.TimeoutExpired:
                exit_seconds = float("inf")
        finally:
            stop.set()
            for s in socks:
                s.close()
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    return {
        "burst": burst, "probe": probe, "slow": slow, "slowloris": slowloris, "burst_seconds": burst_seconds,
        "half_open": len(socks), "half_open_closed": half_open_closed, "peak_rss_mib": peak[0] / 2**20,
        "exit_seconds": exit_seconds,
    }


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--release", default="output/latest")
    p.add_argument("--half-open", type=int, default=300)
    p.add_argument("--slow-clients", type=int, default=50)
    p.add_argument("--burst", type=int, default=400)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--slow-queries", type=int, default=6)
    p.add_argument("--query-timeout", type=float, default=5.0)
    p.add_argument("--header-timeout", type=float, default=10.0)
    p.add_argument("--max-seconds", type=float, default=120.0, help="bound on the burst and on the wait for exit")
    return p


def report(r: dict, args: argparse.Namespace) -> None:
    pr = r["probe"]
    print(f"burst of {args.burst} requests from {args.concurrency} threads in {r['burst_seconds']:.1f} s:")
    for kind, b in r["burst"].items():
        print(f"  {kind}: served {b.served}, rejected {b.rejected}, failed {b.failed}; "
              f"p50 {percentile(b.latencies, 50) * 1000:.0f} ms, p99 {percentile(b.latencies, 99) * 1000:.0f} ms")
    print(f"/id/ probe every 0.25 s during the load: served {pr.served}, rejected {pr.rejected}, failed {pr.failed}; "
          f"p50 {percentile(pr.latencies, 50) * 1000:.0f} ms, p99 {percentile(pr.latencies, 99) * 1000:.0f} ms")
    print(f"slow queries: {r['slow'].rejected} stopped at the timeout (503), {r['slow'].served} answered, "
          f"{r['slow'].failed} failed; slowloris clients: {r['slowloris'].rejected} cut off, "
          f"{r['slowloris'].served} served, {r['slowloris'].failed} failed")
    print(f"half-open connections: {r['half_open']} opened, {r['half_open_closed']} closed by the server")
    print(f"server peak RSS (process tree): {r['peak_rss_mib']:.0f} MiB; exit after SIGTERM: {r['exit_seconds']:.2f} s")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    print("$ python -m benchmarks.load_server " + " ".join(sys.argv[1:] if argv is None else argv), flush=True)
    report(run(args), args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
