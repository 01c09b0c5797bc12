"""A loopback static server for partner catalogs: records every request path and can
serve other bytes than the file's for a path (a tampered dump)."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator


class _Handler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".trig": "application/trig",
                      ".ttl": "text/turtle", ".nq": "application/n-quads", ".gz": "application/gzip"}

    def do_GET(self) -> None:
        tampered = self.server.tampered.get(self.path)  # type: ignore[attr-defined]
        if tampered is None:
            return super().do_GET()
        self.send_response(200)
        self.send_header("Content-Type", "application/gzip")
        self.send_header("Content-Length", str(len(tampered)))
        self.end_headers()
        self.wfile.write(tampered)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.server.requests.append(self.path)  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: requests are recorded by `log_request`."""


class Served:
    """The server's base URL, the request paths seen, and `tampered` {path: bytes}."""

    def __init__(self, server: ThreadingHTTPServer) -> None:
        self.url = f"http://127.0.0.1:{server.server_address[1]}/"
        self.requests: list[str] = server.requests  # type: ignore[attr-defined]
        self.tampered: dict[str, bytes] = server.tampered  # type: ignore[attr-defined]


@contextmanager
def loopback(root: Path) -> Iterator[Served]:
    """Serve `root` on 127.0.0.1, ephemeral port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(root)))
    server.requests, server.tampered = [], {}  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
