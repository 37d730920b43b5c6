"""Several OS processes storing the same article at the same moment: one version per distinct content, no
integrity error escapes, no capture is lost. On SQLite (WAL, busy timeout) and PostgreSQL."""

from __future__ import annotations

import multiprocessing as mp
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.db import make_engine
from archive.models import Article, Capture, Version
from archive.record import ArticleRecord
from archive.versions import Fetch, record_fetch

URL = "https://news.example/2025/06/03/race/"
CONTENTS = ["Version A of the story.", "Version A of the story.", "Version B of the story.", "Version A of the story.",
            "Version C of the story.", "Version C of the story."]
PROCESSES = 4
T0 = datetime(2025, 6, 3, tzinfo=timezone.utc)


def _worker(url: str, barrier, worker: int, errors) -> None:
    engine = make_engine(url)
    try:
        for round_no, text in enumerate(CONTENTS):
            barrier.wait(timeout=60)
            record = ArticleRecord(url=URL, title="Race", text=text, extractor_version="t")
            f = Fetch(url=URL if worker % 2 else URL + "?utm_source=x", status=200,
                      html=f"<p>{text}</p><!-- {worker} -->".encode(), record=record,
                      fetched_at=T0 + timedelta(minutes=round_no, seconds=worker))
            with Session(engine) as s, s.begin():
                record_fetch(s, f)
    except Exception as exc:  # reported to the parent, which fails the test
        errors.put(f"worker {worker}: {type(exc).__name__}: {exc}")
    finally:
        engine.dispose()


def test_concurrent_writers_make_one_version_per_change(db_url):
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    errors = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(db_url, barrier, i, errors)) for i in range(PROCESSES)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    problems = []
    while not errors.empty():
        problems.append(errors.get())
    assert problems == []
    assert all(p.exitcode == 0 for p in procs)
    engine = make_engine(db_url)
    with Session(engine) as s:
        assert s.execute(select(func.count()).select_from(Article)).scalar_one() == 1
        texts = s.execute(select(Version.seq, Version.content_hash).order_by(Version.seq)).all()
        # A, B, A, C: the repeats within a round and across equal rounds are not versions
        assert [seq for seq, _ in texts] == [1, 2, 3, 4]
        assert s.execute(select(func.count()).select_from(Capture)).scalar_one() == PROCESSES * len(CONTENTS)
        assert s.execute(select(Article.version_count)).scalar_one() == 4
    engine.dispose()
