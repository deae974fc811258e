"""robots.txt, RSS/Atom feeds and sitemaps (index, urlsets, Google News)."""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape as xe

from .model import ArticleTruth, SiteTruth
from .shapes import make_shape

SITEMAP_CHUNK = 25
NS_SM = "http://www.sitemaps.org/schemas/sitemap/0.9"
NS_NEWS = "http://www.google.com/schemas/sitemap-news/0.9"


def sitemap_paths(site: SiteTruth) -> list[str]:
    n = len([a for a in site.articles if a.in_sitemap])
    chunks = max(1, -(-n // SITEMAP_CHUNK))
    return (["/sitemap_index.xml"] + [f"/sitemaps/articles-{i}.xml" for i in range(1, chunks + 1)]
            + ["/sitemaps/sections.xml", "/news-sitemap.xml"])


def robots(site: SiteTruth, base: str) -> str:
    lines = ["User-agent: *"] + [f"Disallow: {p}" for p in site.disallowed_paths]
    lines += ["Allow: /", "", f"Sitemap: {base}/sitemap_index.xml", f"Sitemap: {base}/news-sitemap.xml", ""]
    return "\n".join(lines)


def _newest(arts: list[ArticleTruth]) -> str:
    return max((a.published for a in arts), default="2026-01-01T00:00:00+00:00")


def last_modified(site: SiteTruth) -> datetime:
    return datetime.fromisoformat(_newest(site.articles))


def rss(site: SiteTruth, base: str) -> str:
    items = []
    for a in (x for x in site.articles if x.in_feed):
        items.append(
            f"<item><title>{xe(a.title)}</title><link>{xe(base + a.path)}</link>"
            f"<guid isPermaLink=\"true\">{xe(base + a.path)}</guid>"
            f"<pubDate>{format_datetime(datetime.fromisoformat(a.published))}</pubDate>"
            f"<dc:creator>{xe(', '.join(a.authors))}</dc:creator>"
            f"<category>{xe(a.section)}</category><description>{xe(a.summary)}</description></item>")
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" "
            "xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:atom=\"http://www.w3.org/2005/Atom\">\n"
            f"<channel><title>{xe(site.display_name)}</title><link>{xe(base)}/</link>"
            f"<atom:link href=\"{xe(base + site.feed_path)}\" rel=\"self\" type=\"application/rss+xml\"/>"
            "<description>Latest news</description><language>en</language>"
            f"<lastBuildDate>{format_datetime(last_modified(site))}</lastBuildDate>\n"
            + "\n".join(items) + "\n</channel>\n</rss>\n")


def atom(site: SiteTruth, base: str) -> str:
    entries = []
    for a in (x for x in site.articles if x.in_feed):
        authors = "".join(f"<author><name>{xe(n)}</name></author>" for n in a.authors)
        entries.append(
            f"<entry><title>{xe(a.title)}</title><link rel=\"alternate\" href=\"{xe(base + a.path)}\"/>"
            f"<id>tag:{site.name},2026:{a.id}</id><published>{a.published}</published>"
            f"<updated>{a.published}</updated>{authors}<summary>{xe(a.summary)}</summary></entry>")
    return ("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en\">\n"
            f"<title>{xe(site.display_name)}</title><id>tag:{site.name},2026:feed</id>"
            f"<link rel=\"self\" href=\"{xe(base + site.feed_path)}\"/><link rel=\"alternate\" href=\"{xe(base)}/\"/>"
            f"<updated>{_newest(site.articles)}</updated>\n" + "\n".join(entries) + "\n</feed>\n")


def feed(site: SiteTruth, base: str) -> str:
    return rss(site, base) if site.feed_kind == "rss" else atom(site, base)


def _urlset(rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<url><loc>{xe(loc)}</loc><lastmod>{mod}</lastmod></url>\n" for loc, mod in rows)
    return f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"{NS_SM}\">\n{body}</urlset>\n"


def sitemap(site: SiteTruth, base: str, path: str) -> str | None:
    """Body of the sitemap at `path`, or None if there is none there."""
    listed = [a for a in site.articles if a.in_sitemap]
    if path == "/sitemap_index.xml":
        rows = "".join(f"<sitemap><loc>{xe(base + p)}</loc><lastmod>{_newest(site.articles)}</lastmod></sitemap>\n"
                       for p in sitemap_paths(site)[1:-1])
        return f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"{NS_SM}\">\n{rows}</sitemapindex>\n"
    if path.startswith("/sitemaps/articles-") and path in sitemap_paths(site):
        i = int(path.rsplit("-", 1)[1].split(".")[0]) - 1
        chunk = listed[i * SITEMAP_CHUNK:(i + 1) * SITEMAP_CHUNK]
        return _urlset([(base + a.path, a.published) for a in chunk])
    if path == "/sitemaps/sections.xml":
        shape = make_shape(site.host_index - 1)
        secs = [shape.section_path(s) for s in shape.section_words]
        return _urlset([(base + p, _newest(site.articles)) for p in ["/"] + secs])
    if path == "/news-sitemap.xml":
        rows = "".join(
            f"<url><loc>{xe(base + a.path)}</loc><news:news><news:publication><news:name>{xe(site.display_name)}"
            f"</news:name><news:language>en</news:language></news:publication>"
            f"<news:publication_date>{a.published}</news:publication_date><news:title>{xe(a.title)}</news:title>"
            "</news:news></url>\n" for a in listed if a.in_feed)
        return (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"{NS_SM}\" xmlns:news=\"{NS_NEWS}\">\n"
                f"{rows}</urlset>\n")
    return None
