"""POST /api/v1/bank/loans and GET /api/v1/bank/loans/{id}: which checks may back a loan."""

from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from portal.db.access_log import append_access, verify_access_log
from portal.db.tables import AuditEvent
from portal.services import consents
from tests.bank.bank_world import PROFILE, TODAY, BankWorld, loan, new_enterprise

CREDIT = "credit_risk_compensation"


def query(world: BankWorld, amount: str = "3000000", key: str | None = None, product: str = CREDIT) -> str:
    response = world.check({"uscc": world.uscc, "product": product, "loan": loan(amount)}, key=key)
    assert response.status_code == 200, response.text
    return str(response.json()["query_id"])


def registration(world: BankWorld, query_id: str, **overrides: object) -> dict[str, object]:
    return {
        "uscc": world.uscc,
        "product": CREDIT,
        "amount": "3000000",
        "granted_on": "2026-11-27",
        "term_months": 24,
        "query_id": query_id,
        **overrides,
    }


def test_register_and_read_status(world: BankWorld) -> None:
    query_id = query(world)
    response = world.register(registration(world, query_id))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["state"] == "registered"
    assert body["amount"] == "3000000.00"
    assert body["state_label"] == {"zh": "已登记待受理", "en": "Registered"}
    location = response.headers["location"]
    assert location == f"/api/v1/bank/loans/{body['id']}"
    status = world.client.get(location, headers=world.auth(None))
    assert status.status_code == 200
    assert status.json() == body
    with Session(world.engine) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.subject_type == "loan")).all()
    assert [(e.event, e.to_state, e.actor_role) for e in events] == [("register", "registered", "bank")]
    # Another bank learns nothing, not even that the id exists.
    other = world.client.get(location, headers=world.auth(world.other_key))
    missing = world.client.get("/api/v1/bank/loans/999999", headers=world.auth(world.other_key))
    assert other.status_code == missing.status_code == 404
    assert other.content == missing.content
    # The same check cannot back a second loan.
    again = world.register(registration(world, query_id))
    assert (again.status_code, again.json()["code"]) == (409, "query_used")


def test_refused_registrations_write_only_the_log(world: BankWorld) -> None:
    eligible = query(world)
    ineligible = query(world, "40000000")
    other_product = query(world, product="guarantee_fee")
    consents.grant_consent(world.portal, world.enterprise, bank_code="beta", products=[CREDIT])
    other_bank = query(world, key=world.other_key)
    second_firm, actor = new_enterprise(world.portal, 3)
    consents.grant_consent(world.portal, actor, bank_code="alpha", products=[CREDIT])
    cases: list[tuple[dict[str, object], int, str]] = [
        (registration(world, ineligible), 422, "query_not_eligible"),
        (registration(world, other_product), 422, "query_mismatch"),
        (registration(world, eligible, uscc=second_firm), 422, "query_mismatch"),
        (registration(world, other_bank), 422, "unknown_query"),
        (registration(world, "0" * 32), 422, "unknown_query"),
        (registration(world, eligible, granted_on="2026-12-25"), 422, "bad_request"),
        (registration(world, eligible, granted_on="1900-01-01"), 422, "bad_request"),  # before its check
        (registration(world, eligible, granted_on="2026-11-26"), 422, "bad_request"),
        (registration(world, eligible, amount="-1"), 422, "bad_request"),
        (registration(world, eligible, granted_on="27/11/2026"), 422, "bad_request"),
        ({k: v for k, v in registration(world, eligible).items() if k != "query_id"}, 422, "bad_request"),
    ]
    for body, status, code in cases:
        before = world.counts()
        response = world.register(body)
        assert (response.status_code, response.json().get("code")) == (status, code), (body, response.text)
        after = world.counts()
        assert after["BankAccessLog"] == before["BankAccessLog"] + 1
        assert (after["Loan"], after["AuditEvent"]) == (before["Loan"], before["AuditEvent"])


def test_checks_expire_after_30_days(world: BankWorld) -> None:
    query_id = query(world)
    world.portal.today_override = TODAY + timedelta(days=31)
    response = world.register(registration(world, query_id))
    assert (response.status_code, response.json()["code"]) == (422, "query_expired")
    world.portal.today_override = TODAY + timedelta(days=29)
    assert world.register(registration(world, query_id)).status_code == 201


def test_a_loan_is_held_to_the_checked_amount_and_term(world: BankWorld) -> None:
    # A 3,000,000 check earns the highest 2025 ratio; a 20,000,000 loan would earn less.
    query_id = query(world)
    [check] = [row for row in world.log() if row.query_id == query_id]
    assert check.loan_facts is not None
    assert (check.loan_facts["amount"], check.loan_facts["term_months"]) == ("3000000", 24)
    assert (check.loan_facts["pledge_kind"], check.loan_facts["uses_policy_tool"]) == ("none", False)
    refused: list[tuple[dict[str, object], str, str]] = [
        (registration(world, query_id, amount="20000000"), "amount_mismatch", "amount: 20000000"),
        (registration(world, query_id, amount="3000000.01"), "amount_mismatch", "amount: 3000000.01"),
        (registration(world, query_id, term_months=36), "term_mismatch", "term_months: 36"),
    ]
    for body, code, names in refused:
        before = world.counts()
        response = world.register(body)
        assert (response.status_code, response.json()["code"]) == (422, code), response.text
        assert names in response.json()["detail"]
        after = world.counts()
        assert after["BankAccessLog"] == before["BankAccessLog"] + 1
        assert (after["Loan"], after["AuditEvent"]) == (before["Loan"], before["AuditEvent"])
        assert world.log()[-1].outcome == code
    # The refusals did not use the check up: the loan it was made for (or a smaller one) registers.
    granted = world.register(registration(world, query_id, amount="2500000"))
    assert granted.status_code == 201, granted.text
    assert granted.json()["amount"] == "2500000.00"


def test_a_check_without_a_term_does_not_bind_one(world: BankWorld) -> None:
    facts = {k: v for k, v in loan().items() if k != "term_months"}
    response = world.check({"uscc": world.uscc, "product": CREDIT, "loan": facts})
    assert response.json()["outcome"] == "eligible", response.text
    registered = world.register(registration(world, str(response.json()["query_id"]), term_months=60))
    assert registered.status_code == 201, registered.text


def test_no_loan_on_a_check_that_left_the_benefit_open(world: BankWorld) -> None:
    # The reviewer's request: eligible, but without the loan facts the ratio formula reads.
    terms = {"amount": "1000000", "term_months": 12}
    response = world.check({"uscc": world.uscc, "product": CREDIT, "loan": terms})
    body = response.json()
    assert (body["outcome"], body["benefit"]) == ("eligible", {}), response.text
    assert body["missing_facts"] == ["loan.pledge_kind", "loan.uses_policy_tool"]
    assert body["benefit_undetermined"] == ["compensation_ratio"]
    assert world.log()[-1].benefit_undetermined == ["compensation_ratio"]
    before = world.counts()
    refused = world.register(registration(world, body["query_id"], amount="1000000", term_months=12))
    problem = refused.json()
    assert (refused.status_code, problem["code"]) == (422, "benefit_undetermined"), refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in problem["errors"]] == ["loan.pledge_kind", "loan.uses_policy_tool"]
    assert "compensation_ratio" in problem["detail"]
    after = world.counts()
    assert after["BankAccessLog"] == before["BankAccessLog"] + 1
    assert (after["Loan"], after["AuditEvent"]) == (before["Loan"], before["AuditEvent"])
    assert world.log()[-1].outcome == "benefit_undetermined"
    # Checked again with those fields, the ratio is known and the loan registers.
    full = world.check({"uscc": world.uscc, "product": CREDIT, "loan": loan("1000000", term_months=12)})
    assert (full.json()["benefit"], full.json()["benefit_undetermined"]) == (
        {"compensation_ratio": "0.40"},
        [],
    )
    assert world.log()[-1].benefit_undetermined == []
    granted = world.register(registration(world, full.json()["query_id"], amount="1000000", term_months=12))
    assert granted.status_code == 201, granted.text


def test_a_benefit_left_open_by_the_profile_refuses_the_loan_too(world: BankWorld) -> None:
    # Every loan fact sent, but the profile does not say whether the firm is on the key-support list.
    uscc, actor = new_enterprise(
        world.portal, 4, {k: v for k, v in PROFILE.items() if k != "on_key_support_list"}
    )
    consents.grant_consent(world.portal, actor, bank_code="alpha", products=[CREDIT])
    body = world.check({"uscc": uscc, "product": CREDIT, "loan": loan()}).json()
    assert (body["outcome"], body["benefit_undetermined"]) == ("eligible", ["compensation_ratio"]), body
    assert body["missing_facts"] == ["enterprise.on_key_support_list"]
    refused = world.register(registration(world, body["query_id"], uscc=uscc))
    problem = refused.json()
    assert (refused.status_code, problem["code"]) == (422, "benefit_undetermined"), refused.text
    assert "errors" not in problem  # no field of the bank's can fix it
    assert "profile" in problem["detail"]


def test_a_benefit_the_known_facts_settle_needs_no_more_fields(world: BankWorld) -> None:
    # On the key-support list the uplift applies whatever the pledge, so the ratio is known without it.
    uscc, actor = new_enterprise(world.portal, 5, {**PROFILE, "on_key_support_list": True})
    consents.grant_consent(world.portal, actor, bank_code="alpha", products=[CREDIT])
    facts = {k: v for k, v in loan().items() if k != "pledge_kind"}
    body = world.check({"uscc": uscc, "product": CREDIT, "loan": facts}).json()
    assert (body["benefit"], body["benefit_undetermined"]) == ({"compensation_ratio": "0.50"}, []), body
    assert world.register(registration(world, body["query_id"], uscc=uscc)).status_code == 201


def old_check(world: BankWorld, loan_facts: dict[str, object], **columns: Any) -> str:
    """An eligible check's row as an earlier release wrote it (no column added since), for `world.uscc`."""
    query(world)
    made = world.log()[-1]  # this bank's key and the enterprise, as a real check names them
    with world.portal.transaction() as session:
        return append_access(
            session,
            outcome="eligible",
            http_status=200,
            bank_id=made.bank_id,
            api_key_id=made.api_key_id,
            enterprise_id=made.enterprise_id,
            uscc_queried=world.uscc,
            product=CREDIT,
            loan_facts=loan_facts,
            at=world.portal.now(),
            **columns,
        )


def test_a_check_from_before_the_log_kept_open_benefits_is_judged_by_its_loan_fields(
    world: BankWorld,
) -> None:
    """A row as the previous release wrote it: eligible, no pledge kind, no list of open benefits."""
    query_id = old_check(world, {"amount": "1000000", "term_months": 12, "bank_is_partner": True})
    refused = world.register(registration(world, query_id, amount="1000000", term_months=12))
    problem = refused.json()
    assert (refused.status_code, problem["code"]) == (422, "benefit_undetermined"), refused.text
    assert [e["field"] for e in problem["errors"]] == ["loan.pledge_kind", "loan.uses_policy_tool"]
    with Session(world.engine) as session:
        assert verify_access_log(session).ok  # the row without the list keeps its hash


def test_a_granted_on_refusal_names_the_field(world: BankWorld) -> None:
    query_id = query(world)
    for granted_on, words in (
        ("2026-12-25", "in the future"),
        ("2026-11-26", "before its eligibility check"),
    ):
        response = world.register(registration(world, query_id, granted_on=granted_on))
        problem = response.json()
        assert (response.status_code, problem["code"]) == (422, "bad_request"), response.text
        [error] = problem["errors"]
        assert error["field"] == "granted_on" and words in error["message"]
    for overrides, code, field in (
        ({"amount": "3000001"}, "amount_mismatch", "amount"),
        ({"term_months": 36}, "term_mismatch", "term_months"),
    ):
        problem = world.register(registration(world, query_id, **overrides)).json()
        assert (problem["code"], [e["field"] for e in problem["errors"]]) == (code, [field]), problem


def test_a_registered_loan_carries_the_benefit_of_its_check(world: BankWorld) -> None:
    checked = world.check({"uscc": world.uscc, "product": CREDIT, "loan": loan("3000000")}).json()
    assert checked["benefit"] and checked["benefit_undetermined"] == [], checked
    registered = world.register(registration(world, checked["query_id"], amount="2000000"))
    assert registered.status_code == 201, registered.text
    assert registered.json()["benefit"] == checked["benefit"]
    status = world.client.get(registered.headers["location"], headers=world.auth(None))
    assert status.json()["benefit"] == checked["benefit"]
    assert world.log()[-3].benefit == checked["benefit"]  # the check's row: check, register, status
    with Session(world.engine) as session:
        assert verify_access_log(session).ok  # the benefit is hashed and holds after a round trip


def test_a_loan_on_a_check_from_before_the_log_kept_the_benefit_shows_none(world: BankWorld) -> None:
    facts = {**loan("1000000"), "term_months": 12, "bank_is_partner": True}
    query_id = old_check(world, facts, benefit_undetermined=[])
    registered = world.register(registration(world, query_id, amount="1000000", term_months=12))
    assert registered.status_code == 201, registered.text
    assert registered.json()["benefit"] is None
    with Session(world.engine) as session:
        assert verify_access_log(session).ok
