"""Generated cases for the supervision dashboard: its tests (hundreds) and its bench (100,000).

Rows are written straight into the tables in bulk, as many as a year of use would leave: each
case walks its measure's workflow from the initial state along random edges (self-loops left
out), with its transitions, its decision where a state decides, expert panels and scores where
it meets an expert stage, objections where it meets a public notice. Screening notices, bank
consents, queries and loans complete the picture. Nothing here goes through the services: the
point is volume and variety, and the dashboard reads only what is stored. Hash-chained logs
(audit escalations, bank queries) are appended through their own appenders, so the chains stay
valid. Everything follows one seed, so the tests and the bench see the same world.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, text
from sqlmodel import Session

from portal.db.access_log import append_access
from portal.db.audit import append_audit
from portal.db.tables import (
    Application,
    Bank,
    BankConsent,
    Decision,
    Enterprise,
    ExpertAssignment,
    ExpertScore,
    Loan,
    Notification,
    Objection,
    ScreeningRun,
    SelfCheckResult,
    Transition,
    User,
)
from portal.services.context import Portal
from portal.services.notifications import SCREENING_KIND, screening_key
from portal.services.sla import ESCALATED
from portal.services.supervision_sets import table_of

YEAR_START = dt.datetime(2026, 1, 1, 1, tzinfo=dt.UTC)
LAST = dt.datetime(2026, 11, 26, 8, tzinfo=dt.UTC)
CHUNK = 5_000


@dataclass
class World:
    """What was generated, for tests that need ids."""

    enterprises: list[int] = field(default_factory=list)
    cases: int = 0
    experts: list[int] = field(default_factory=list)


def _bulk(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        if rows[start : start + CHUNK]:
            session.execute(insert(table_of(model)), rows[start : start + CHUNK])


def generate(
    portal: Portal, cases: int, *, seed: int = 20261127, escalations: int = 40, queries: int = 60
) -> World:
    """Write `cases` cases and their surroundings into the portal's database, in one transaction."""
    rng = random.Random(seed)
    pack, city = portal.pack, portal.city
    # Measures applied for (loans and identity checks enter their workflows another way).
    applied = set(portal.workflows) - city.workflows_not_applied_for
    measures = [m for m in pack.measure_ids() if (pack.versions(m)[-1].workflow or "") in applied]
    measures = [m for m in measures if pack.versions(m)[-1].lead_unit]
    districts = list(city.jurisdictions.inside)
    tracks: list[str | None] = [*city.tracks.offered, None]
    world = World()
    with portal.transaction() as session:
        experts = []
        for n in range(6):
            user = User(
                username=f"gen_expert_{seed}_{n}", display_name=f"专家{n}", password_hash="x", role="expert"
            )
            session.add(user)
            session.flush()
            experts.append(user.id)
        world.experts = experts
        count = max(20, cases // 5)
        enterprise_rows = [
            {
                "uscc": f"9{seed % 1000:03d}{n:014d}",
                "name": f"生成企业{n}",
                "district": rng.choice(districts),
                "ai_track": rng.choice(tracks),
                "created_at": YEAR_START,
            }
            for n in range(count)
        ]
        ids = [
            session.execute(
                insert(table_of(Enterprise)).returning(table_of(Enterprise).c.id), [row]
            ).scalar_one()
            for row in enterprise_rows[:1]
        ]
        _bulk(session, Enterprise, enterprise_rows[1:])
        first = ids[0]
        world.enterprises = list(range(first, first + count))
        district_of = {first + n: row["district"] for n, row in enumerate(enterprise_rows)}
        _cases(session, portal, rng, measures, world, district_of, cases)
        _screening(session, rng, measures, world, pack)
        _runs(session, rng, measures, experts[0])
        _self_checks(session, rng, measures, world)
        _banks(session, portal, rng, world, seed, queries)
        _escalations(session, escalations)
    world.cases = cases
    return world


def _walk(workflow: Any, rng: random.Random) -> list[tuple[str, str, str]]:
    """(event, from, to) steps from the initial state along random edges, stopping at random."""
    state, steps = workflow.initial, []
    for _ in range(12):
        edges = [e for e in workflow.transitions if e.source == state and e.target != state]
        if not edges or (steps and rng.random() < 0.12):
            break
        edge = rng.choice(edges)
        steps.append((edge.event, state, edge.target))
        state = edge.target
        if workflow.state(state).final:
            break
    return steps


def _cases(
    session: Session,
    portal: Portal,
    rng: random.Random,
    measures: list[str],
    world: World,
    district_of: dict[int, str],
    cases: int,
) -> None:
    next_id = _next_id(session, Application)
    apps, moves, decisions, assignments, scores, objections = [], [], [], [], [], []
    assignment_id = _next_id(session, ExpertAssignment)
    panel: set[tuple[int, int]] = set()
    span = (LAST - YEAR_START).total_seconds()
    for n in range(cases):
        case_id = next_id + n
        measure = rng.choice(measures)
        rule = portal.pack.versions(measure)[-1]
        workflow = portal.workflows[rule.workflow or ""]
        enterprise = rng.choice(world.enterprises)
        at = YEAR_START + dt.timedelta(seconds=rng.random() * span * 0.9)
        created, submitted, steps = at, None, []
        for event, source, target in _walk(workflow, rng):
            at += dt.timedelta(hours=rng.choice((2, 5, 20, 30, 50, 80, 150, 300, 500)))
            if at > LAST:
                break
            steps.append((event, source, target, at))
        state = steps[-1][2] if steps else workflow.initial
        for event, source, target, when in steps:
            moves.append(
                {
                    "application_id": case_id,
                    "from_state": source,
                    "to_state": target,
                    "event": event,
                    "at": when,
                }
            )
            spec = workflow.state(target)
            if submitted is None and workflow.state(source).kind == "draft":
                submitted = when
            if spec.decides is not None:
                money = rule.benefit and spec.decides == "approved" and rng.random() < 0.8
                decisions.append(
                    {
                        "application_id": case_id,
                        "outcome": spec.decides,
                        "decided_at": when,
                        "granted_amount": Decimal(rng.randrange(1_000_000, 500_000_000)) / 100
                        if money
                        else None,
                    }
                )
            if spec.kind == "expert":
                for expert in rng.sample(world.experts, 3):
                    if (case_id, expert) in panel:
                        continue
                    panel.add((case_id, expert))
                    conflicted = rng.random() < 0.1
                    assignments.append(
                        {
                            "id": assignment_id,
                            "application_id": case_id,
                            "expert_id": expert,
                            "assigned_at": when,
                            "conflicted": conflicted,
                            "excluded_at": when + dt.timedelta(hours=20) if conflicted else None,
                        }
                    )
                    if not conflicted and rng.random() < 0.8:
                        scores.append(
                            {
                                "assignment_id": assignment_id,
                                "scores": {},
                                "total": Decimal("80.0000"),
                                "submitted_at": when + dt.timedelta(hours=rng.choice((3, 30, 100, 200))),
                            }
                        )
                    assignment_id += 1
            if spec.kind == "notice" and rng.random() < 0.3:
                sustained = rng.choice((True, False, None))
                objections.append(
                    {
                        "application_id": case_id,
                        "text": "生成的异议",
                        "filed_at": when + dt.timedelta(hours=30),
                        "sustained": sustained,
                        "decided_at": when + dt.timedelta(hours=60) if sustained is not None else None,
                    }
                )
        timed = workflow.state(state).sla_working_days is not None
        apps.append(
            {
                "id": case_id,
                "enterprise_id": enterprise,
                "measure_id": measure,
                "rule_version": rule.version,
                "workflow": workflow.name,
                "state": state,
                "version": len(steps) + 1,
                "lead_unit": rule.lead_unit,
                "district": district_of[enterprise],
                # A case's track is its own (a form's answer may differ from the registration);
                # taken from the id, not `rng`, so the rest of the generated year stays as it was.
                "track": [*portal.city.tracks.offered, None][case_id % (len(portal.city.tracks.offered) + 1)],
                "stage_entered_at": steps[-1][3] if steps else created,
                "overdue": timed and rng.random() < 0.2,
                "submitted_at": submitted,
                "created_at": created,
                "updated_at": steps[-1][3] if steps else created,
            }
        )
    _bulk(session, Application, apps)
    _bulk(session, Transition, moves)
    _bulk(session, Decision, decisions)
    _bulk(session, ExpertAssignment, assignments)
    _bulk(session, ExpertScore, scores)
    _bulk(session, Objection, objections)
    if session.get_bind().dialect.name == "postgresql":
        for model in (Application, ExpertAssignment):
            name = table_of(model).name
            session.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))")
            )


def _next_id(session: Session, model: Any) -> int:
    table = table_of(model)
    last = session.execute(
        table.select().with_only_columns(table.c.id).order_by(table.c.id.desc()).limit(1)
    ).scalar()
    return (last or 0) + 1


def _screening(session: Session, rng: random.Random, measures: list[str], world: World, pack: Any) -> None:
    span = (LAST - YEAR_START).total_seconds()
    rows, seen = [], set()
    for _ in range(max(10, len(world.enterprises) // 2)):
        enterprise, measure = rng.choice(world.enterprises), rng.choice(measures)
        version = pack.versions(measure)[-1].version
        if (enterprise, measure) in seen:
            continue
        seen.add((enterprise, measure))
        rows.append(
            {
                "enterprise_id": enterprise,
                "kind": SCREENING_KIND,
                "title": "筛查推送",
                "body": "生成的筛查推送",
                "created_at": YEAR_START + dt.timedelta(seconds=rng.random() * span),
                "dedupe_key": screening_key(measure, version, enterprise),
            }
        )
    _bulk(session, Notification, rows)


def _self_checks(session: Session, rng: random.Random, measures: list[str], world: World) -> None:
    """Self-check outcomes over the year: by signed-in enterprises (some of which applied after)
    and by anonymous visitors."""
    span = (LAST - YEAR_START).total_seconds()
    rows = [
        {
            "checked_at": YEAR_START + dt.timedelta(seconds=rng.random() * span),
            "measure_id": rng.choice(measures),
            "outcome": rng.choice(("eligible", "eligible", "ineligible", "undetermined")),
            "enterprise_id": rng.choice([*world.enterprises, None]) if n % 3 else None,
        }
        for n in range(len(world.enterprises) * 3)
    ]
    _bulk(session, SelfCheckResult, rows)


def _runs(session: Session, rng: random.Random, measures: list[str], started_by: int) -> None:
    """Finished screening runs with their per-measure counts (one failed run, which counts nothing)."""
    rows = []
    for n in range(4):
        finished = YEAR_START + dt.timedelta(days=40 * (n + 1))
        chosen = rng.sample(measures, 3)
        rows.append(
            {
                "started_by": started_by,
                "measures": chosen,
                "evaluated_on": finished.date(),
                "status": "failed" if n == 3 else "succeeded",
                "counts": {
                    m: {
                        "eligible": rng.randrange(50),
                        "ineligible": rng.randrange(200),
                        "undetermined": rng.randrange(20),
                    }
                    for m in chosen
                },
                "created_at": finished,
                "finished_at": finished,
            }
        )
    _bulk(session, ScreeningRun, rows)


def _banks(
    session: Session, portal: Portal, rng: random.Random, world: World, seed: int, queries: int
) -> None:
    banks = []
    for n in range(3):
        bank = Bank(code=f"gen{seed}_{n}", name=f"生成银行{n}")
        session.add(bank)
        session.flush()
        banks.append(bank.id)
    products = list(portal.city.banking.products)
    span = (LAST - YEAR_START).total_seconds()
    consents = [
        {
            "enterprise_id": rng.choice(world.enterprises),
            "bank_id": rng.choice(banks),
            "products": products[:1],
            "granted_at": YEAR_START + dt.timedelta(seconds=rng.random() * span),
            "expires_on": dt.date(2027, 12, 31),
        }
        for _ in range(max(5, len(world.enterprises) // 4))
    ]
    _bulk(session, BankConsent, consents)
    loan_flow = portal.workflows[portal.city.banking.loan_workflow]
    states = [s.name for s in loan_flow.states]
    loans = []
    for n in range(queries):
        enterprise, bank, product = rng.choice(world.enterprises), rng.choice(banks), rng.choice(products)
        outcome = rng.choice(("eligible", "eligible", "ineligible", "undetermined", "no_consent"))
        query_id = append_access(
            session,
            outcome=outcome,
            http_status=200 if outcome != "no_consent" else 403,
            bank_id=bank,
            enterprise_id=enterprise,
            product=product,
            # Two in three name their call, as rows since 0028 do; the others are older rows.
            call_kind="eligibility" if n % 3 else None,
        )
        if outcome == "eligible" and n % 2 == 0:
            loans.append(
                {
                    "bank_id": bank,
                    "enterprise_id": enterprise,
                    "query_id": query_id,
                    "product": product,
                    "amount": Decimal(rng.randrange(10_000_000, 900_000_000)) / 100,
                    "granted_on": dt.date(2026, 6, 1),
                    "term_months": 12,
                    "workflow": loan_flow.name,
                    "state": rng.choice(states),
                    "created_at": YEAR_START + dt.timedelta(seconds=rng.random() * span),
                    "updated_at": YEAR_START,
                }
            )
    _bulk(session, Loan, loans)


def _escalations(session: Session, count: int) -> None:
    """Escalation audit rows for random cases in a stage with a deadline (appended, so chained)."""
    application = table_of(Application)
    rows = session.execute(
        application.select()
        .with_only_columns(application.c.id, application.c.state)
        .where(application.c.overdue.is_(True))
        .order_by(application.c.id)
        .limit(count)
    ).all()
    for case_id, state in rows:
        append_audit(
            session,
            actor_id=None,
            actor_role="system",
            subject_type="application",
            subject_id=case_id,
            event=ESCALATED,
            from_state=state,
            to_state=state,
            payload={"generated": True},
        )
