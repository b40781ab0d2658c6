"""Alembic environment: runs migrations on the connection ssaplan hands over."""

from alembic import context
from sqlalchemy import create_engine

config = context.config
# Upgrades need no models. Autogenerate does: ``scripts/new_migration.py`` imports every
# domain's models (``ssaplan.domains.import_models``) and hands their metadata over here,
# so core never imports a domain.
target_metadata = config.attributes.get("target_metadata")


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.begin() as conn:
        context.configure(
            connection=conn,
            target_metadata=target_metadata,
            render_as_batch=conn.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


run()
