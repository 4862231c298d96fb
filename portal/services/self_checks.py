"""The self-check's outcomes, kept for 监管评估: how many checked, how many qualified, who applied.

Only each measure's outcome is written, never the answers typed. A check by a signed-in
enterprise also keeps the enterprise, so the dashboard can follow it to the enterprise's
application; an anonymous visitor's check counts, and leads nowhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert

from portal.db.tables import SelfCheckResult
from portal.services.context import Portal
from portal.workflows import Actor

_INSERT = insert(SelfCheckResult)


def record_self_check(portal: Portal, actor: Actor | None, check: Mapping[str, Any]) -> None:
    """Keep one row per measure answered by `check` (a `pack.check` document), in one transaction."""
    enterprise_id = actor.enterprise_id if actor is not None else None
    rows = [
        {
            "checked_at": portal.now(),
            "measure_id": result["measure"],
            "outcome": result["outcome"],
            "enterprise_id": enterprise_id,
        }
        for result in check["results"]
    ]
    if not rows:
        return
    with portal.transaction() as session:
        session.connection().execute(_INSERT, rows)
