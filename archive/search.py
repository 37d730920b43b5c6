"""Full-text search over version titles and bodies: SQLite FTS5 or PostgreSQL ``tsvector`` with a GIN index.

The index tables are created by the migrations (they are dialect-specific, so they are not ORM models).
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

SEARCH_TABLE = "version_search"
MAX_INDEXED_CHARS = 400_000  # PostgreSQL caps a tsvector at 1 MB
_TERM = re.compile(r"\w+", re.UNICODE)


def is_search_table(name: str | None) -> bool:
    return bool(name) and name.startswith(SEARCH_TABLE)


def create_index_sql(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [
            f"CREATE VIRTUAL TABLE {SEARCH_TABLE} USING fts5(title, body, content='', "
            "tokenize='unicode61 remove_diacritics 2')"
        ]
    if dialect == "postgresql":
        return [
            f"CREATE TABLE {SEARCH_TABLE} (version_id INTEGER PRIMARY KEY REFERENCES versions(id) ON DELETE CASCADE, "
            "doc TSVECTOR NOT NULL)",
            f"CREATE INDEX ix_{SEARCH_TABLE}_doc ON {SEARCH_TABLE} USING GIN (doc)",
        ]
    return []


def drop_index_sql(dialect: str) -> list[str]:
    return [f"DROP TABLE IF EXISTS {SEARCH_TABLE}"] if dialect in ("sqlite", "postgresql") else []


def index_version(conn: Connection, version_id: int, title: str | None, body: str) -> None:
    dialect = conn.dialect.name
    params = {"id": version_id, "title": title or "", "body": body[:MAX_INDEXED_CHARS]}
    if dialect == "sqlite":
        conn.execute(text(f"INSERT INTO {SEARCH_TABLE}(rowid, title, body) VALUES (:id, :title, :body)"), params)
    elif dialect == "postgresql":
        conn.execute(
            text(
                f"INSERT INTO {SEARCH_TABLE} (version_id, doc) VALUES (:id, "
                "setweight(to_tsvector('simple', :title), 'A') || to_tsvector('simple', :body)) "
                "ON CONFLICT (version_id) DO NOTHING"
            ),
            params,
        )


def matching_version_ids(session: Session, query: str, limit: int = 1000) -> list[int]:
    """Version ids whose title or body holds every word of ``query``, best matches first."""
    terms = _TERM.findall(query)
    if not terms:
        return []
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        match = " AND ".join('"' + t.replace('"', '""') + '"' for t in terms)
        rows = session.execute(
            text(f"SELECT rowid FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH :q ORDER BY rank LIMIT :n"),
            {"q": match, "n": limit},
        )
    elif dialect == "postgresql":
        rows = session.execute(
            text(
                f"SELECT version_id FROM {SEARCH_TABLE}, plainto_tsquery('simple', :q) AS q "
                "WHERE doc @@ q ORDER BY ts_rank(doc, q) DESC LIMIT :n"
            ),
            {"q": " ".join(terms), "n": limit},
        )
    else:  # pragma: no cover
        return []
    return [row[0] for row in rows]
