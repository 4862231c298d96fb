"""Persistence: SQLModel tables, the engine and session, and the hash-chained logs.

Only `portal.services` (and thin CLI/web edges) import this package; the engines stay pure.
Importing `portal.db.tables` registers every table on `SQLModel.metadata`, which is what
Alembic compares the migrations against.
"""
