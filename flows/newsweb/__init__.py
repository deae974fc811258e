"""The bundled sample news web: deterministic multi-site news served on loopback.

    web = build_web(n_sites=3, articles_per_site=20, seed=7)   # pure, no I/O
    server = serve_web(web)            # one HTTP server per site on 127.0.1.N
    server.base_url("harbor-times"); server.sources_yaml(); server.requests(); server.stop()
"""

from .model import ArticleTruth, SiteTruth, Web
from .server import WebServer, serve_web
from .site import build_web

__all__ = ["ArticleTruth", "SiteTruth", "Web", "WebServer", "build_web", "serve_web"]
