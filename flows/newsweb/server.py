"""Serves a built Web over real HTTP: one ThreadingHTTPServer per site on 127.0.1.N."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .model import SiteTruth, Web
from .routes import Resp, Router
from .shapes import make_shape


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class WebServer:
    """Handle returned by `serve_web`; all methods are thread-safe."""

    def __init__(self, web: Web, log_path: Path | None = None, port: int = 0):
        self.web = web
        self.log_path = Path(log_path) if log_path else None
        self._log: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._servers: dict[str, _Server] = {}
        self._threads: list[threading.Thread] = []
        for site in web.sites:
            # Each site has its own address, so one fixed port serves them all.
            try:
                srv = _Server((f"127.0.1.{site.host_index}", port), self._handler(site))
            except OSError:
                self.stop()  # release the sites already bound
                raise
            self._servers[site.name] = srv
            t = threading.Thread(target=srv.serve_forever, name=f"newsweb-{site.name}", daemon=True)
            t.start()
            self._threads.append(t)

    def base_url(self, site_name: str) -> str:
        host, port = self._servers[site_name].server_address[:2]
        return f"http://{host}:{port}"

    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._log)

    def sources_yaml(self, patterns: bool = True, max_depth: int = 3, max_pages: int = 500) -> str:
        """Sources file for all sites. article_pattern/follow_pattern are regexes applied
        with re.search to the URL path plus '?query' (no scheme, host or fragment)."""
        out = ["sources:"]
        for site in self.web.sites:
            b = self.base_url(site.name)
            out += [f"  - name: {site.name}", f"    start_urls: [{b}/]", f"    feeds: [{b}{site.feed_path}]",
                    f"    sitemaps: [{b}/robots.txt]"]
            if patterns:
                out += [f"    article_pattern: '{site.article_pattern.replace(chr(39), chr(39) * 2)}'",
                        f"    follow_pattern: '{site.follow_pattern.replace(chr(39), chr(39) * 2)}'"]
            out += [f"    max_depth: {max_depth}", f"    max_pages: {max_pages}"]
        return "\n".join(out) + "\n"

    def stop(self) -> None:
        for srv in self._servers.values():
            srv.shutdown()
            srv.server_close()
        for t in self._threads:
            t.join(timeout=5)

    def __enter__(self) -> "WebServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._log.append(entry)
            if self.log_path:
                with self.log_path.open("a", encoding="utf-8") as f:
                    f.write(json.dumps(entry, sort_keys=True) + "\n")

    def _handler(self, site: SiteTruth) -> type[BaseHTTPRequestHandler]:
        router = Router(site)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            server_version = f"newsweb-{make_shape(site.host_index - 1).template}/1.0"
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr
                pass

            def _serve(self, head: bool) -> None:
                parts = urlsplit(self.path)
                base = owner.base_url(site.name)
                resp = router.resolve(parts.path or "/", parts.query, base)
                status = self._send(resp, head)
                owner._record({"site": site.name, "host": self.headers.get("Host", ""), "path": parts.path,
                               "query": parts.query, "method": self.command, "status": status, "t": time.time()})

            def _send(self, resp: Resp, head: bool) -> int:
                etag = '"' + hashlib.sha1(resp.body).hexdigest()[:20] + '"'
                status = resp.status
                if status == 200 and self._not_modified(etag, resp):
                    status = 304
                self.send_response(status)
                if status == 200 or status == 304:
                    self.send_header("ETag", etag)
                    if resp.last_modified:
                        self.send_header("Last-Modified", format_datetime(resp.last_modified, usegmt=True))
                if status == 304:
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return status
                self.send_header("Content-Type", resp.ctype)
                self.send_header("Content-Length", str(len(resp.body)))
                self.end_headers()
                if not head:
                    self.wfile.write(resp.body)
                return status

            def _not_modified(self, etag: str, resp: Resp) -> bool:
                inm = self.headers.get("If-None-Match")
                if inm is not None:
                    return etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*"
                ims = self.headers.get("If-Modified-Since")
                if ims and resp.last_modified:
                    try:
                        return resp.last_modified.replace(microsecond=0) <= parsedate_to_datetime(ims)
                    except (TypeError, ValueError):
                        return False
                return False

            def do_GET(self) -> None:  # noqa: N802
                self._serve(head=False)

            def do_HEAD(self) -> None:  # noqa: N802
                self._serve(head=True)

            def do_POST(self) -> None:  # noqa: N802 - login/comment forms: drain and answer
                n = int(self.headers.get("Content-Length") or 0)
                if n:
                    self.rfile.read(n)
                self._serve(head=False)

        return Handler


def serve_web(web: Web, log_path: Path | None = None, port: int = 0) -> WebServer:
    """Start serving every site of `web` in daemon threads; call `.stop()` when done.

    port=0 lets the OS choose (tests); a fixed port keeps URLs stable across runs (demo).
    """
    return WebServer(web, log_path, port)
