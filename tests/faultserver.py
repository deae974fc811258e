"""Fault-injecting HTTP servers for the safety tests, and a helper to run a crawl against them.

`python tests/faultserver.py` starts, in one process, several servers on port 0
and prints their addresses as one JSON line:

- `main`, `other` (127.0.0.1): the fault routes below; robots.txt allows all.
- `robots_5xx`, `robots_slow`, `robots_404`, `robots_huge` (127.0.0.1): the same
  routes, with a robots.txt that answers 503, never answers, 404, or is 600 KiB
  with one rule before and one after the 500 KiB mark.
- `secret` (127.0.0.2): answers "SECRET" and counts every hit; must stay at 0.

Every server counts hits per path+query; `GET /__hits` returns them (uncounted).
Big bodies and bombs are streamed or compressed in chunks: nothing near their
decompressed size is ever held in this process's memory.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid
import zlib
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from urllib.request import urlopen

import brotli
import zstandard

from spiders.safety import SAFETY_SETTINGS

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024
BOMB_BYTES = 64 * MIB  # decompressed size of every bomb: far past any size cap we use
_ZEROS = bytes(MIB)
_bombs: dict[str, bytes] = {}
_bomb_lock = threading.Lock()


def _bomb(kind: str) -> bytes:
    with _bomb_lock:
        if kind not in _bombs:
            _bombs[kind] = _compress(kind)
        return _bombs[kind]


def _compress(kind: str) -> bytes:
    if kind == "gzip":
        comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    elif kind == "deflate":
        comp = zlib.compressobj(9, zlib.DEFLATED, 15)
    elif kind == "br":
        comp = brotli.Compressor(quality=5)
    elif kind == "zstd":
        comp = zstandard.ZstdCompressor().compressobj()
    elif kind == "sitemap":
        comp = zlib.compressobj(9, zlib.DEFLATED, 31)
        url = b"<url><loc>http://127.0.0.1/a</loc></url>\n"
        chunk = url * (MIB // len(url))
        head = b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        parts = [comp.compress(head)]
        parts += [comp.compress(chunk) for _ in range(BOMB_BYTES // len(chunk))]
        return b"".join(parts + [comp.compress(b"</urlset>"), comp.flush()])
    else:
        raise ValueError(kind)
    feed = comp.process if kind == "br" else comp.compress
    parts = [feed(_ZEROS) for _ in range(BOMB_BYTES // MIB)]
    parts.append(comp.finish() if kind == "br" else comp.flush())
    return b"".join(parts)


XXE_FEED = """<?xml version="1.0"?>
<!DOCTYPE rss [
  <!ENTITY file SYSTEM "file://{file}">
  <!ENTITY net SYSTEM "{net}">
]>
<rss version="2.0"><channel><title>feed</title>
<item><title>&file;</title><link>http://127.0.0.1/a</link><description>&net;</description></item>
</channel></rss>
"""

_LAUGH_ENTITIES = "".join(
    f' <!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">\n' for i in range(1, 10))
BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
""" + _LAUGH_ENTITIES + """]>
<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title></item></channel></rss>
"""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FaultServer

    def log_message(self, format, *args):  # noqa: A002 - quiet: tests read /__hits instead
        pass

    def do_GET(self):  # noqa: N802 - http.server naming
        self.close_connection = True
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if url.path == "/__hits":
            return self._send(200, json.dumps(self.server.hits_snapshot()).encode(), "application/json")
        n = self.server.hit(self.path)
        if self.server.mode == "secret":
            return self._send(200, b"SECRET", "text/plain")
        if url.path == "/robots.txt":
            return self._robots()
        route = url.path.strip("/").split("/")[0]
        method = getattr(self, "route_" + route.replace("-", "_").replace(".", "_"), None)
        if method is None:
            return self._send(404, b"not found")
        return method(url, query, n)

    # -- helpers
    def _send(self, status, body=b"", ctype="text/html", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _page(self, body: str):
        self._send(200, f"<html><body>{body}</body></html>".encode())

    def _robots(self):
        mode = self.server.mode
        if mode == "robots_5xx":
            return self._send(503, b"<html>down</html>")
        if mode == "robots_slow":
            time.sleep(60)
            return None
        if mode == "robots_404":
            return self._send(404, b"no robots")
        if mode == "robots_huge":
            head = b"User-agent: *\nDisallow: /early\n"
            filler = b"# " + b"x" * 1000 + b"\n"
            body = head + filler * 600 + b"User-agent: *\nDisallow: /late\n"
            return self._send(200, body, "text/plain")
        return self._send(200, b"User-agent: *\nDisallow: /private\n", "text/plain")

    # -- routes
    def route_ok(self, url, query, n):
        self._page("ok")

    def route_early(self, url, query, n):
        self._page("early")

    def route_late(self, url, query, n):
        self._page("late")

    def route_503_then_200(self, url, query, n):
        if n <= 2:
            return self._send(503, b"busy")
        self._page("article after 503s")

    def route_500(self, url, query, n):
        self._send(500, b"broken")

    def route_429(self, url, query, n):
        if n > 1:
            return self._page("after 429")
        value = query.get("ra", ["2"])[0]
        if value == "date":
            value = formatdate(time.time() + 3, usegmt=True)
        self._send(429, b"slow down", headers=[("Retry-After", value)])

    def route_reset_after_headers(self, url, query, n):
        self.send_response(200)
        self.send_header("Content-Length", "100000")
        self.end_headers()
        self.wfile.write(b"<html>" + b"x" * 100)
        self.wfile.flush()
        # SO_LINGER 0 turns close() into a TCP reset.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def route_short_body(self, url, query, n):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", "1000")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(b"<html>short")

    def route_bad_chunked(self, url, query, n):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(b"6\r\n<html>\r\nZZZ\r\nnot a chunk\r\n")

    def route_slow(self, url, query, n):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", "120")
        self.send_header("Connection", "close")
        self.end_headers()
        for _ in range(120):
            try:
                self.wfile.write(b"x")
                self.wfile.flush()
            except OSError:
                return
            time.sleep(1)

    def route_hang(self, url, query, n):
        time.sleep(60)

    def route_big(self, url, query, n):
        size = int(query.get("mb", ["50"])[0]) * MIB
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        if query.get("cl", ["1"])[0] == "1":
            self.send_header("Content-Length", str(size))
        self.send_header("Connection", "close")
        self.end_headers()
        chunk = b"<p>" + b"x" * (64 * 1024 - 3)
        try:
            for _ in range(size // len(chunk)):
                self.wfile.write(chunk)
        except OSError:
            pass

    def _bomb_route(self, kind, encoding):
        self._send(200, _bomb(kind), "text/html", [("Content-Encoding", encoding)])

    def route_gzip_bomb(self, url, query, n):
        self._bomb_route("gzip", "gzip")

    def route_deflate_bomb(self, url, query, n):
        self._bomb_route("deflate", "deflate")

    def route_br_bomb(self, url, query, n):
        self._bomb_route("br", "br")

    def route_zstd_bomb(self, url, query, n):
        self._bomb_route("zstd", "zstd")

    def route_sitemap_bomb_xml_gz(self, url, query, n):
        self._send(200, _bomb("sitemap"), "application/x-gzip")

    def route_redirect_loop(self, url, query, n):
        self._send(302, headers=[("Location", "/redirect-loop")])

    def route_redirect_chain(self, url, query, n):
        left = int(url.path.rstrip("/").rsplit("/", 1)[1])
        if left <= 0:
            return self._page("end of chain")
        self._send(302, headers=[("Location", f"/redirect-chain/{left - 1}")])

    def route_redirect_to(self, url, query, n):
        status = int(query.get("status", ["302"])[0])
        self._send(status, headers=[("Location", query["url"][0])])

    def route_echo_headers(self, url, query, n):
        self._send(200, json.dumps(dict(self.headers.items())).encode(), "application/json")

    def route_links(self, url, query, n):
        self._page("".join(f'<a href="{to}">link</a>' for to in query.get("to", [])))

    def route_xxe_feed_xml(self, url, query, n):
        body = XXE_FEED.format(file=query["file"][0], net=query.get("net", ["http://127.0.0.2/"])[0])
        self._send(200, body.encode(), "application/rss+xml")

    def route_billion_laughs_xml(self, url, query, n):
        self._send(200, BILLION_LAUGHS.encode(), "application/rss+xml")

    def route_trap(self, url, query, n):
        # An endless relative link: /trap/a/ -> /trap/a/a/ -> ...
        self._page('<a href="a/">deeper</a>')

    def route_sid_loop(self, url, query, n):
        self._page(f'<a href="/sid-loop?sid={uuid.uuid4().hex}">next</a>')

    def route_long(self, url, query, n):
        seg = url.path.rstrip("/").rsplit("/", 1)[1]
        self._page(f'<a href="/long/{seg}{seg}">longer</a>')


class FaultServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, mode: str):
        super().__init__((host, 0), Handler)
        self.mode = mode
        self._hits: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def hit(self, path: str) -> int:
        with self._lock:
            times = self._hits.setdefault(path, [])
            times.append(time.time())
            return len(times)

    def hits_snapshot(self) -> dict[str, list[float]]:
        with self._lock:
            return {k: list(v) for k, v in self._hits.items()}

    @property
    def base(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


SERVERS = {"main": ("127.0.0.1", "normal"), "other": ("127.0.0.1", "normal"),
           "robots_5xx": ("127.0.0.1", "robots_5xx"), "robots_slow": ("127.0.0.1", "robots_slow"),
           "robots_404": ("127.0.0.1", "robots_404"), "robots_huge": ("127.0.0.1", "robots_huge"),
           "secret": ("127.0.0.2", "secret")}


def serve() -> None:
    servers = {name: FaultServer(host, mode) for name, (host, mode) in SERVERS.items()}
    for srv in servers.values():
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    sys.stdout.write(json.dumps({name: srv.base for name, srv in servers.items()}) + "\n")
    sys.stdout.flush()
    sys.stdin.read()  # runs until the parent closes our stdin or kills us


# -- used by the tests ---------------------------------------------------------------

class Servers:
    """The fault server subprocess; `bases[name]` is e.g. http://127.0.0.1:PORT."""

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, __file__], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.bases: dict[str, str] = json.loads(self.proc.stdout.readline())

    def url(self, name: str, path: str) -> str:
        return self.bases[name] + path

    def hits(self, name: str) -> dict[str, list[float]]:
        with urlopen(self.url(name, "/__hits"), timeout=5) as resp:
            return json.loads(resp.read())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.terminate()
        self.proc.wait(timeout=10)


def free_port() -> int:
    """A port nothing listens on (for connection-refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_crawl(tmp_path: Path, config: dict, settings: dict | None = None, timeout: float = 60) -> dict:
    """Run tests/safety_spider.py in a subprocess; its JSON record of outcomes and stats.

    cwd is tmp_path, away from the project's scrapy.cfg, so only SAFETY_SETTINGS
    (in the spider) and `settings` (via NEWSMILL_TEST_SETTINGS) apply.
    """
    out = tmp_path / "outcome.json"
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({**config, "out": str(out)}))
    # $SAFETY_MUTATION (JSON settings) lands on top: run the suite with a protection
    # switched off to see which tests catch it.
    mutation = json.loads(os.environ.get("SAFETY_MUTATION") or "{}")
    merged = {**(settings or {}), **mutation}
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NEWSMILL_TEST_SETTINGS": json.dumps(merged)}
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    # The DNS resolver is built from the process's settings, not the spider's: set
    # there what spiders/run.py sets for a real crawl.
    process = {"TWISTED_DNS_RESOLVER": merged.get("TWISTED_DNS_RESOLVER", SAFETY_SETTINGS["TWISTED_DNS_RESOLVER"]),
               "NEWSMILL_ALLOWED_HOSTS": ",".join(merged.get("NEWSMILL_ALLOWED_HOSTS", [])),
               "NEWSMILL_SSRF_GUARD": str(merged.get("NEWSMILL_SSRF_GUARD", True))}
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "runspider", str(ROOT / "tests" / "safety_spider.py"),
         "-a", f"config={cfg}", "-s", f"LOG_FILE={tmp_path / 'crawl.log'}",
         *(arg for k, v in process.items() for arg in ("-s", f"{k}={v}"))],
        cwd=tmp_path, env=env, timeout=timeout, capture_output=True, text=True,
    )
    if proc.returncode != 0 or not out.exists():
        log = (tmp_path / "crawl.log").read_text() if (tmp_path / "crawl.log").exists() else ""
        raise AssertionError(f"crawl failed ({proc.returncode}): {proc.stderr[-3000:]}\n{log[-3000:]}")
    result = json.loads(out.read_text())
    result["log"] = (tmp_path / "crawl.log").read_text()
    return result


if __name__ == "__main__":
    serve()
