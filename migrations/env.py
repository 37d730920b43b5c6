"""Alembic environment: metadata from ``archive.models``, URL from ``archive.db.database_url()``.

``archive.db`` hands an open connection in through ``config.attributes["connection"]``; the ``alembic``
command line builds its own engine from the same resolver. SQLite migrations render as batch operations.
"""

from __future__ import annotations

from alembic import context

from archive.db import database_url, make_engine
from archive.models import Base
from archive.search import is_search_table

config = context.config
target_metadata = Base.metadata


def include_name(name, type_, parent_names) -> bool:
    # The full-text index tables are dialect-specific and made by hand in the revisions.
    return not (type_ == "table" and is_search_table(name))


def run_with(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_name=include_name,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=database_url(config.get_main_option("sqlalchemy.url")),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"), migrate=False)
    try:
        with engine.begin() as conn:
            run_with(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
