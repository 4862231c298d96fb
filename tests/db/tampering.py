"""Changing append-only tables the way an intruder with database rights would."""

from sqlalchemy import Engine, text

APPEND_ONLY_TABLES = ("audit_event", "bank_access_log", "letter")


def tamper(engine: Engine, sql: str, **params: object) -> None:
    """Run `sql` with the append-only guards bypassed.

    The guards are bypassed first: a replica session role skips triggers on PostgreSQL,
    and on SQLite the triggers are dropped (inside the same transaction).
    """
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        else:
            for table in APPEND_ONLY_TABLES:
                for operation in ("update", "delete"):
                    connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")
        connection.execute(text(sql), params)
