"""The database URL, engines and automatic migration: the one home for all three.

``database_url()`` is the single resolver used by the crawler, the CLI and ``migrations/env.py``: an explicit
value, else ``ARCHIVE_DATABASE_URL``, else the SQLite file ``archive.sqlite3`` in the working directory.
"""

from __future__ import annotations

import fcntl
import logging
import os
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

ENV_VAR = "ARCHIVE_DATABASE_URL"
DEFAULT_SQLITE_FILE = "archive.sqlite3"
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 60_000


class DatabaseError(RuntimeError):
    """The archive database cannot be reached or used; the message is one line for the user."""


def database_url(explicit: str | None = None) -> str:
    """Return the archive's database URL: ``explicit``, else ``$ARCHIVE_DATABASE_URL``, else the default file."""
    url = explicit or os.environ.get(ENV_VAR) or f"sqlite:///{DEFAULT_SQLITE_FILE}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_on_connect(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_on_begin(conn) -> None:
    # Take the write lock at BEGIN: a deferred transaction that reads and then writes cannot wait for a
    # concurrent writer (SQLite answers "database is locked" at once), an immediate one waits busy_timeout.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str | None = None, *, migrate: bool = True, echo: bool = False) -> Engine:
    """Build an engine for ``url`` (resolved by :func:`database_url`) and bring its schema to the latest revision."""
    resolved = database_url(url)
    try:
        parsed = make_url(resolved)
    except ArgumentError as exc:
        raise DatabaseError(f"invalid database URL {resolved!r}: {exc}") from None
    kwargs: dict = {"echo": echo, "future": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            parent = Path(parsed.database).expanduser().resolve().parent
            if not parent.is_dir():
                raise DatabaseError(f"cannot open database {resolved}: folder {parent} does not exist")
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        # Let us emit BEGIN ourselves (pysqlite's own transaction handling would defer it).
        event.listen(engine, "connect", lambda c, r: setattr(c, "isolation_level", None))
        event.listen(engine, "begin", _sqlite_on_begin)
    else:
        kwargs["pool_pre_ping"] = True
        if parsed.get_backend_name() == "postgresql":
            kwargs["connect_args"] = {"connect_timeout": 10}
        engine = create_engine(parsed, **kwargs)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig or exc).strip().splitlines()[0] if (exc.orig or exc) else "unreachable"
        raise DatabaseError(f"cannot reach database {parsed.render_as_string(hide_password=True)}: {reason}") from None
    if migrate:
        ensure_schema(engine)
    return engine


def migrations_dir() -> Path:
    """The alembic scripts folder; unpacked to a temporary folder when running from a zip (a scrapyd egg)."""
    return MIGRATIONS_DIR if MIGRATIONS_DIR.is_dir() else _unpacked_migrations()


@lru_cache(maxsize=1)
def _unpacked_migrations() -> Path:
    import atexit
    import importlib.resources
    import shutil
    import tempfile

    target = Path(tempfile.mkdtemp(prefix="archive-migrations-"))
    atexit.register(shutil.rmtree, target, True)

    def copy(source, dest: Path) -> None:
        for entry in source.iterdir():
            if entry.is_dir():
                if entry.name != "__pycache__":
                    (dest / entry.name).mkdir()
                    copy(entry, dest / entry.name)
            elif not entry.name.endswith((".pyc", ".pyo")):
                (dest / entry.name).write_bytes(entry.read_bytes())

    copy(importlib.resources.files("migrations"), target)
    return target


def alembic_config(engine: Engine | None = None):
    """An alembic ``Config`` pointing at our migrations (no ``alembic.ini`` needed)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


#: the newest alembic revision in migrations/versions (a test keeps the two equal); knowing it here lets a
#: database that is up to date be opened without loading alembic at all
SCHEMA_REVISION = "0001"


@lru_cache(maxsize=1)
def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """Serialise migrations between processes: a file lock beside a SQLite file, an advisory lock on PostgreSQL."""
    if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        lock_path = Path(engine.url.database).expanduser().resolve().with_suffix(".migrate.lock")
        with open(lock_path, "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
        return
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(7262219)"))
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(7262219)"))
                conn.commit()
        return
    yield


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run alembic's upgrade on ``engine`` through its command API."""
    from alembic import command

    cfg = alembic_config(engine)
    with _migration_lock(engine):
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    cfg = alembic_config(engine)
    with _migration_lock(engine):
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, revision)


def ensure_schema(engine: Engine) -> None:
    """Migrate the database to the latest revision if it is not there yet (a brand-new one included)."""
    current = current_revision(engine)
    if current == SCHEMA_REVISION or current == head_revision():
        return
    log.info("migrating %s to %s", engine.url.render_as_string(hide_password=True), head_revision())
    upgrade(engine)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
