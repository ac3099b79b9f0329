"""Alembic environment for the ledger: migrations run on a connection handed over in
``config.attributes["connection"]`` (see :func:`entitle.ledger.db.upgrade`), or on the URL of
the configuration when run by the ``alembic`` tool.

The metadata compared by ``--autogenerate`` is the ledger's ``Base.metadata``; the web's tables
(``entitle.web.models``) join it only once that module is imported, which this package may not
do (the ledger is a lower layer). A caller that autogenerates passes the full metadata in
``config.attributes["metadata"]`` after ``import entitle.web.models``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from entitle.ledger.models import Base

config = context.config
target_metadata = config.attributes.get("metadata", Base.metadata)


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.begin() as own:
        context.configure(connection=own, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
