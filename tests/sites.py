"""A local, threaded HTTP server for tests: serves a folder with ETag / Last-Modified, logs every request, and
lets a test add special routes (redirects, errors, slow bodies). Only ever binds 127.0.0.1."""

from __future__ import annotations

import email.utils
import hashlib
import http.server
import mimetypes
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

Route = Callable[["Handler"], None]


@dataclass
class LoggedRequest:
    method: str
    path: str
    headers: dict
    status: int | None = None


class Handler(http.server.BaseHTTPRequestHandler):
    server: "_Server"
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def send(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        headers = dict(headers or {})
        headers.setdefault("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)
        self._entry.status = status

    def do_GET(self) -> None:
        owner = self.server.owner
        path = urlsplit(self.path).path
        self._entry = LoggedRequest(self.command, self.path, dict(self.headers.items()))
        with owner.lock:
            owner.log.append(self._entry)
        route = owner.routes.get(path) or owner.routes.get(self.path)
        if route is not None:
            route(self)
            return
        self.serve_file(path)

    do_HEAD = do_GET

    def serve_file(self, path: str) -> None:
        owner = self.server.owner
        target = (owner.root / path.lstrip("/")).resolve()
        if owner.root.resolve() not in target.parents and target != owner.root.resolve():
            self.send(404, b"not found")
            return
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            self.send(404, b"<html><body><h1>Not found</h1></body></html>", {"Content-Type": "text/html"})
            return
        body = target.read_bytes()
        etag = '"%s"' % hashlib.sha1(body).hexdigest()[:16]
        mtime = target.stat().st_mtime
        last_modified = email.utils.formatdate(mtime, usegmt=True)
        headers = {}
        if owner.etags:
            headers["ETag"] = etag
            headers["Last-Modified"] = last_modified
            if self.headers.get("If-None-Match") == etag:
                self.send(304, b"", headers | {"Content-Length": "0"})
                return
            ims = self.headers.get("If-Modified-Since")
            if ims and not self.headers.get("If-None-Match"):
                try:
                    if int(mtime) <= email.utils.parsedate_to_datetime(ims).timestamp():
                        self.send(304, b"", headers | {"Content-Length": "0"})
                        return
                except (TypeError, ValueError):
                    pass
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if ctype == "text/html":
            ctype = "text/html; charset=utf-8"
        self.send(200, body, headers | {"Content-Type": ctype})


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: "FixtureServer"


@dataclass
class FixtureServer:
    root: Path
    etags: bool = True
    routes: dict[str, Route] = field(default_factory=dict)
    log: list[LoggedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.owner = self
        self.port = self._server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str = "/") -> str:
        return self.base + path

    def paths(self) -> list[str]:
        with self.lock:
            return [r.path for r in self.log]

    def __enter__(self) -> FixtureServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


def content_type(ctype: str) -> dict:
    return {"Content-Type": ctype}
