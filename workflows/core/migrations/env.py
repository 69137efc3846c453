"""Alembic environment: the URL comes from the caller (see workflows.schema), never from a file."""
from alembic import context

from workflows.core.models import Base

config = context.config
connection = config.attributes.get("connection")


def run() -> None:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


run()
