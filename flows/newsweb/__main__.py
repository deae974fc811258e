"""`python -m flows.newsweb`: serve the sample web until Ctrl-C / SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from . import build_web, serve_web


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m flows.newsweb", description=__doc__)
    ap.add_argument("--sites", type=int, default=3)
    ap.add_argument("--articles", type=int, default=20)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--log", type=Path, help="append one JSON line per request")
    ap.add_argument("--sources-out", type=Path, help="write the sources YAML here instead of stdout")
    ap.add_argument("--no-patterns", action="store_true", help="omit article_pattern/follow_pattern")
    args = ap.parse_args(argv)

    server = serve_web(build_web(args.sites, args.articles, args.seed), log_path=args.log)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    # Base URLs go out as YAML comments so stdout stays a valid sources file.
    for site in server.web.sites:
        print(f"# {site.name} ({site.template}): {server.base_url(site.name)}/")
    yaml_text = server.sources_yaml(patterns=not args.no_patterns)
    if args.sources_out:
        args.sources_out.write_text(yaml_text, encoding="utf-8")
        print(f"# sources written to {args.sources_out}")
    else:
        print(yaml_text, end="")
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
