"""Shared fixtures: real databases (SQLite files and the local PostgreSQL), a crawl runner, local sites.

PostgreSQL tests need ``ARCHIVE_TEST_DATABASE_URL`` (``.ci/run`` sets it and fails loudly when the server is
unreachable); without it they are skipped with a reason, never silently passed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from archive.db import database_url, make_engine

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PG_ENV = "ARCHIVE_TEST_DATABASE_URL"
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


def pg_base_url() -> str | None:
    raw = os.environ.get(PG_ENV)
    return database_url(raw) if raw else None


def _pg_admin(base: str):
    return create_engine(make_url(base).set(database="postgres"), isolation_level="AUTOCOMMIT")


def create_pg_database(base: str, template: str | None = None) -> str:
    name = f"archive_{WORKER}_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin(base)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    admin.dispose()
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(base: str, url: str) -> None:
    admin = _pg_admin(base)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "archive.sqlite3"
    make_engine(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture(scope="session")
def pg_template():
    base = pg_base_url()
    if base is None:
        yield None
        return
    url = create_pg_database(base)
    make_engine(url).dispose()
    yield make_url(url).database
    drop_pg_database(base, url)


def _fresh_db(kind: str, tmp_path: Path, sqlite_template: Path, pg_template):
    if kind == "sqlite":
        path = tmp_path / "archive.sqlite3"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}", None
    base = pg_base_url()
    if base is None:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (set by .ci/run)")
    url = create_pg_database(base, template=pg_template)
    return url, lambda: drop_pg_database(base, url)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path, sqlite_template, pg_template):
    """A fresh, migrated archive database of each kind."""
    url, cleanup = _fresh_db(request.param, tmp_path, sqlite_template, pg_template)
    yield url
    if cleanup:
        cleanup()


@pytest.fixture
def sqlite_url(tmp_path, sqlite_template):
    url, _ = _fresh_db("sqlite", tmp_path, sqlite_template, None)
    return url


@pytest.fixture
def pg_url(tmp_path, sqlite_template, pg_template):
    url, cleanup = _fresh_db("postgresql", tmp_path, sqlite_template, pg_template)
    yield url
    cleanup()


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine):
    with Session(engine) as s:
        yield s


def run_scrapy(spider: str, *args: str, db_url: str, seeds_dir: str | Path | None = None, settings: dict | None = None,
               timeout: float = 180, env: dict | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """Run ``scrapy crawl SPIDER`` in a subprocess against a local site, politeness delays off."""
    options = {"AUTOTHROTTLE_ENABLED": "False", "DOWNLOAD_DELAY": "0", "LOG_LEVEL": "INFO",
               "ARCHIVE_EXTRACT_WORKERS": "2", **(settings or {})}
    cmd = [sys.executable, "-m", "scrapy", "crawl", spider]
    for a in args:
        cmd += ["-a", a]
    for k, v in options.items():
        cmd += ["-s", f"{k}={v}"]
    full_env = {**os.environ, "ARCHIVE_DATABASE_URL": db_url, **(env or {})}
    full_env["ARCHIVE_SEEDS_DIR"] = str(seeds_dir) if seeds_dir else str(FIXTURES / "no-seeds")
    return subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout)
