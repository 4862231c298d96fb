"""procrastinate_jobs: the job queue of `portal worker` (procrastinate 3.10.0's schema), PostgreSQL only

The schema is the one procrastinate 3.10.0 ships, copied into `alembic/sql/` so that this
revision creates the same objects whatever procrastinate version is installed later; a
procrastinate upgrade that changes its schema gets its own revision applying procrastinate's
migration scripts. SQLite runs the jobs in-process and needs no queue: there this is a no-op.

Revision ID: 0006_procrastinate_jobs
Revises: 0005_listings
Create Date: 2026-12-04 16:30:00

"""
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = '0006_procrastinate_jobs'
down_revision: str | Sequence[str] | None = '0005_listings'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = Path(__file__).resolve().parents[1] / "sql" / "procrastinate-3.10.0.sql"
TABLES = ("procrastinate_events", "procrastinate_periodic_defers", "procrastinate_jobs", "procrastinate_workers")
TYPES = ("procrastinate_job_to_defer_v1", "procrastinate_job_event_type", "procrastinate_job_status")


def _on_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _on_postgresql():
        return
    # The raw psycopg cursor, without parameters: the script holds several statements and `%`s.
    cursor = op.get_bind().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(SCHEMA.read_text(encoding="utf-8"))


def downgrade() -> None:
    if not _on_postgresql():
        return
    op.execute(f"DROP TABLE {', '.join(TABLES)} CASCADE")  # with their triggers and indexes
    op.execute(
        """
        DO $$
        DECLARE routine regprocedure;
        BEGIN
            FOR routine IN
                SELECT p.oid::regprocedure FROM pg_proc p
                JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%'
            LOOP
                EXECUTE 'DROP ROUTINE ' || routine;
            END LOOP;
        END
        $$
        """
    )
    op.execute(f"DROP TYPE {', '.join(TYPES)}")
