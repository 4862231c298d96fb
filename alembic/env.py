"""Alembic environment: migrates the portal database named by, in order of precedence,
`-x url=...`, `config.attributes["database_url"]` (set by `portal.db.migrations`), or the
portal settings (DATABASE_URL).
"""

from logging.config import fileConfig

from alembic import context
from sqlmodel import SQLModel

import portal.db.tables  # noqa: F401  (registers every table on SQLModel.metadata)
from portal.db.engine import make_engine, parse_database_url
from portal.db.migrations import include_object
from portal.settings import get_settings

config = context.config
if config.config_file_name is not None:
    # Keep loggers that the host application (pytest, the CLI) already configured.
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata


def database_url() -> str:
    x_args = context.get_x_argument(as_dictionary=True)
    if "url" in x_args:
        return x_args["url"]
    if "database_url" in config.attributes:
        return str(config.attributes["database_url"])
    return get_settings().database_url


def run_migrations_offline() -> None:
    url = parse_database_url(database_url())
    context.configure(
        url=url.render_as_string(hide_password=False),
        target_metadata=target_metadata,
        include_object=include_object,
        literal_binds=True,
        render_as_batch=url.get_backend_name() == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # Foreign keys off on SQLite: batch mode rebuilds tables, which enforcement would refuse;
    # the integrity check below restores the guarantee before the commit.
    engine = make_engine(database_url(), foreign_keys=False, pooled=False)
    is_sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                include_object=include_object,
                render_as_batch=is_sqlite,
                # The engine gives SQLite real transactions, so a failed migration leaves nothing behind.
                transactional_ddl=True,
            )
            with context.begin_transaction():
                context.run_migrations()
                if is_sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left rows with dangling foreign keys: {broken[:5]}")
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
