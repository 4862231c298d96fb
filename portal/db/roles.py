"""Least privilege on PostgreSQL: the role the portal connects as cannot rewrite the evidence.

Migrations run as the owner of the schema. The application role may read and write the working
tables, but on the append-only tables (the hash chains, letters, checkpoints, the files of each
submission) it may only SELECT and INSERT: no UPDATE, DELETE or TRUNCATE, and, not being a
superuser nor the tables' owner, it can neither disable their triggers nor set
`session_replication_role` to skip them. Granting is idempotent; run it again after every
`portal db upgrade` so new tables are covered.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, inspect, text

# Rows of these tables are evidence (see the append-only triggers of the migrations).
APPEND_ONLY_TABLES = ("audit_event", "bank_access_log", "letter", "audit_checkpoint", "submitted_attachment")
_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class RoleNameError(ValueError):
    """A role name that is not a plain lower-case SQL identifier."""


def grant_app_role(connection: Connection, role: str) -> list[str]:
    """Create (if needed) and grant the application role; returns the statements run, for the log."""
    if not _ROLE_NAME.fullmatch(role):
        raise RoleNameError(f"{role!r} is not a plain lower-case role name ([a-z_][a-z0-9_]*)")
    tables = sorted(inspect(connection).get_table_names())
    working = [t for t in tables if t not in APPEND_ONLY_TABLES]
    evidence = [t for t in tables if t in APPEND_ONLY_TABLES]
    statements = []
    exists = connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    if exists is None:
        statements.append(f"CREATE ROLE {role} LOGIN")
    statements += [
        f"ALTER ROLE {role} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS",
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}",
        *(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {t} TO {role}" for t in working),
        *(f"GRANT SELECT, INSERT ON {t} TO {role}" for t in evidence),
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    ]
    for statement in statements:
        connection.execute(text(statement))
    return statements
