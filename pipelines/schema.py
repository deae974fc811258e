"""The `articles` table, schema version 1 (DESIGN.md contract 3): explicit, never inferred."""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = "1"
UTC_US = pa.timestamp("us", tz="UTC")

ARTICLE_FIELDS: list[pa.Field] = [
    pa.field("article_id", pa.string(), nullable=False),
    pa.field("url", pa.string(), nullable=False),
    pa.field("canonical_url", pa.string(), nullable=False),
    pa.field("source", pa.string(), nullable=False),
    pa.field("domain", pa.string(), nullable=False),
    pa.field("title", pa.string(), nullable=False),
    pa.field("authors", pa.list_(pa.string()), nullable=False),
    pa.field("published_at", UTC_US),
    pa.field("language", pa.string()),
    pa.field("text", pa.string(), nullable=False),
    pa.field("word_count", pa.int32(), nullable=False),
    pa.field("fetched_at", UTC_US, nullable=False),
    pa.field("content_hash", pa.string(), nullable=False),
    pa.field("cluster_id", pa.string(), nullable=False),
    pa.field("is_duplicate", pa.bool_(), nullable=False),
    pa.field("duplicate_of", pa.string()),
    pa.field("similarity", pa.float32()),
    pa.field("run_id", pa.string(), nullable=False),
]

# Columns beyond v1 that newsmill adds (readers may ignore them). Values come
# from Article.extras; a missing key lands as null.
EXTRA_FIELDS: list[pa.Field] = [
    pa.field("revision", pa.int32()),  # 0 for the first version of a URL, then 1, 2...
    pa.field("minhash", pa.binary()),  # MinHash signature: lets the index be rebuilt from the dataset
    pa.field("minhash_params", pa.string()),  # the config that made `minhash`, e.g. 3ng_40bs_3hs_s1_affine32
]

ARTICLES_SCHEMA = pa.schema(
    ARTICLE_FIELDS + EXTRA_FIELDS,
    metadata={b"newsmill.schema_version": SCHEMA_VERSION.encode()},
)
