"""Build a synthetic archive of many articles and versions quickly (bulk inserts), for the export and search
benchmarks. Texts are varied prose made from a fixed vocabulary, so compression and search behave realistically."""

from __future__ import annotations

import random
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, text  # noqa: E402

from archive import search  # noqa: E402
from archive.db import make_engine  # noqa: E402
from archive.models import Article, Capture, Site, TextBlob, Version  # noqa: E402
from archive.normalise import content_hash, sha256  # noqa: E402
from archive.versions import compress  # noqa: E402

VOCAB = ("harbour bridge council repairs ferry budget minister election storm police court school hospital market "
         "river museum festival train airport strike weather report engineers county mayor village farmers prices "
         "energy water housing rail bus road station teachers nurses doctors students museum library theatre "
         "football league season coach player injury stadium summit treaty border trade tariffs exports").split()
T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
BATCH = 2000


def _body(rng: random.Random, words: int) -> str:
    out, line = [], []
    for _ in range(words):
        line.append(rng.choice(VOCAB))
        if len(line) > rng.randint(25, 45):
            out.append(" ".join(line).capitalize() + ".")
            line = []
    out.append(" ".join(line).capitalize() + ".")
    return "\n".join(out)


def populate(url: str, articles: int, versions_per_article: int = 2, words: int = 400, seed: int = 1) -> None:
    """Fill the archive at ``url`` with ``articles`` x ``versions_per_article`` versions (one capture each)."""
    engine = make_engine(url)
    rng = random.Random(seed)
    with engine.begin() as conn:
        site_id = conn.execute(insert(Site.__table__).returning(Site.__table__.c.id),
                               {"name": "bench", "domains": ["bench.example"], "created_at": T0}).scalar_one()
    for start in range(0, articles, BATCH):
        n = min(BATCH, articles - start)
        texts, arts, vers, caps, index = {}, [], [], [], []
        with engine.begin() as conn:
            first_id = conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM articles")).scalar_one() + 1
            first_vid = conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM versions")).scalar_one() + 1
            vid = first_vid
            for i in range(n):
                aid = first_id + i
                base = _body(rng, words)
                when = T0 + timedelta(minutes=start + i)
                arts.append({"id": aid, "site_id": site_id, "url_key": f"//bench.example/{start + i}/{uuid.uuid4().hex[:6]}/",
                             "url": f"https://bench.example/{start + i}/story/", "state": "live", "first_seen": when,
                             "last_seen": when + timedelta(days=versions_per_article), "last_checked": when,
                             "last_changed": when + timedelta(days=versions_per_article - 1), "next_check": None,
                             "check_count": versions_per_article, "version_count": versions_per_article})
                for seq in range(1, versions_per_article + 1):
                    body = base + f"\nUpdate {seq}: " + _body(rng, 12)
                    raw = body.encode()
                    digest = sha256(raw)
                    texts[digest] = {"hash": digest, "size": len(raw), "data": compress(raw)}
                    seen = when + timedelta(days=seq - 1)
                    title = f"Story {start + i} " + rng.choice(VOCAB)
                    vers.append({"id": vid, "article_id": aid, "seq": seq, "content_hash": content_hash(title, "Bench", body),
                                 "title": title, "author": "Bench", "published": when.date().isoformat(), "modified": None,
                                 "language": "en", "text_hash": digest, "extractor_version": "bench",
                                 "first_seen": seen, "last_seen": seen + timedelta(hours=23)})
                    caps.append({"article_id": aid, "run_id": None, "fetched_at": seen, "url": arts[-1]["url"],
                                 "status": 200, "kind": "new_version", "reason": None, "etag": None, "last_modified": None,
                                 "html_hash": None, "version_id": vid, "comments_state": "open", "comment_count": seq})
                    index.append((vid, title, body))
                    vid += 1
            conn.execute(insert(TextBlob.__table__), list(texts.values()))
            conn.execute(insert(Article.__table__), arts)
            conn.execute(insert(Version.__table__), vers)
            conn.execute(insert(Capture.__table__), caps)
            for version_id, title, body in index:
                search.index_version(conn, version_id, title, body)
        print(f"  {start + n}/{articles} articles", file=sys.stderr, end="\r")
    print(file=sys.stderr)
    engine.dispose()


def fresh_database(kind: str, workdir: Path) -> tuple[str, callable]:
    """A new empty database URL of ``kind`` (sqlite|postgresql) and a function that removes it."""
    if kind == "sqlite":
        path = workdir / f"bench-{uuid.uuid4().hex[:6]}.sqlite3"
        return f"sqlite:///{path}", lambda: [p.unlink(missing_ok=True) for p in workdir.glob(path.name + "*")]
    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()

    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", drop
