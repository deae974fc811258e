"""URL normalization for the seen-URL check and `canonical_url`.

courlan does the heavy lifting (scheme/host case, default ports, sorted query,
utm_*/fbclid-style tracking parameters); we add what it keeps on purpose:
fragments and session ids, which never name a different page.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

import tldextract
from courlan import normalize_url as _courlan_normalize
from w3lib.url import url_query_cleaner

SESSION_PARAMS = re.compile(r"^(sid|sessionid|session_id|phpsessid|jsessionid|aspsessionid\w*|s_id)$", re.I)
# The public suffix list shipped with tldextract: no download at run time.
_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
# A session id as a path parameter (`/a;jsessionid=XYZ`), cut before courlan sees it
# (it would percent-encode the `;` and keep it).
PATH_SESSION = re.compile(r";(?:jsessionid|phpsessid|sid|sessionid)=[^/?#;]*", re.I)
TRACKING_PARAMS = re.compile(r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|_ga|ref_src|cmpid)$", re.I)


def normalize_url(url: str) -> str:
    """Canonical form of `url`: one page, one string. `?id=1` and `?id=2` stay apart."""
    url = url.strip()
    if ";" in url:
        parts = urlsplit(url)
        url = parts._replace(path=PATH_SESSION.sub("", parts.path)).geturl()
    try:
        url = _courlan_normalize(url)
    except ValueError:
        pass
    url = url.split("#", 1)[0]
    if "?" in url:
        query = urlsplit(url).query
        names = [kv.split("=", 1)[0] for kv in query.split("&") if kv]
        drop = [n for n in names if SESSION_PARAMS.match(n) or TRACKING_PARAMS.match(n)]
        if drop:
            url = url_query_cleaner(url, drop, remove=True)
    return url


def url_hash(url: str) -> str:
    """Stable id of a (normalized) URL: the `article_id` of its row."""
    return hashlib.sha1(url.encode("utf-8")).hexdigest()[:20]


def domain_of(url: str) -> str:
    """Registered domain (eTLD+1; the address itself when the host is an IP)."""
    host = (urlsplit(url).hostname or "").lower()
    parts = _EXTRACT(host)
    return parts.top_domain_under_public_suffix or host
