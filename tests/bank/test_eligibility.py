"""POST /api/v1/bank/eligibility end to end: the 2025 tiers, what the bank sees, what is logged."""

import json

from portal.services import consents, enterprises, registered_identity
from portal.web.bank_api_models import PledgeKind
from tests.bank.bank_world import PASSWORD, PROFILE, BankWorld, loan, new_enterprise

CREDIT = "credit_risk_compensation"


def test_tiered_2025_ratios_end_to_end(world: BankWorld) -> None:
    key_firm, actor = new_enterprise(world.portal, 2, {**PROFILE, "on_key_support_list": True})
    consents.grant_consent(world.portal, actor, bank_code="alpha", products=[CREDIT])
    cases = [
        (world.uscc, loan("3000000"), "eligible", "0.40"),
        (key_firm, loan("8000000", uses_policy_tool=True), "eligible", "0.50"),
        (world.uscc, loan("20000000"), "eligible", "0.20"),
        (world.uscc, loan("40000000"), "ineligible", None),
    ]
    for uscc, facts, outcome, ratio in cases:
        response = world.check({"uscc": uscc, "product": CREDIT, "loan": facts})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["outcome"] == outcome, (facts, body)
        assert body["benefit"].get("compensation_ratio") == ratio
        assert body["evaluated_on"] == "2026-11-27"
        assert len(body["rule_hash"]) == 64
    ineligible = body["criteria"]
    assert [c["outcome"] for c in ineligible if c["id"] == "max_loan"] == ["fail"]


def test_answer_shape_and_only_used_profile_facts(world: BankWorld) -> None:
    response = world.check({"uscc": world.uscc, "product": CREDIT, "loan": loan("8000000.50")})
    body = response.json()
    assert set(body) == {
        "outcome",
        "benefit",
        "criteria",
        "criteria_tree",
        "missing_facts",
        "benefit_undetermined",
        "rule_hash",
        "evaluated_on",
        "query_id",
    }
    criterion = body["criteria"][0]
    assert set(criterion) == {"id", "fact", "value", "expected", "outcome", "message", "source"}
    assert set(criterion["message"]) == {"zh", "en"}
    assert body["benefit_undetermined"] == []  # every loan fact the ratio reads was sent
    # The amount came back exactly, and no profile value the criteria did not use leaked out.
    assert {c["fact"]: c["value"] for c in body["criteria"]}["loan.amount"] == "8000000.50"
    # The district is read (the 2025 borrower must be in Guangzhou); revenue is not.
    assert "40000000" not in response.text
    row = world.log()[-1]
    assert row.query_id == body["query_id"]
    assert (row.outcome, row.http_status, row.product) == ("eligible", 200, CREDIT)
    assert row.facts_read == [
        "enterprise.district",
        "enterprise.hightech_certified",
        "enterprise.is_small_micro",
        "enterprise.is_sme",
        "enterprise.on_key_support_list",
        "enterprise.operates_in_guangzhou",
    ]


def _nodes(node: dict[str, object]) -> list[dict[str, object]]:
    children = node["children"]
    assert isinstance(children, list)
    return [node, *(n for child in children for n in _nodes(child))]


def test_the_tree_shows_an_alternative_that_failed_did_not_count(world: BankWorld) -> None:
    """A medium-sized high-tech firm passes the borrower condition by its alternative: the flat
    trace lists 'small or micro' as failed, the tree says the `any` around it passed."""
    medium, actor = new_enterprise(
        world.portal, 3, {**PROFILE, "is_small_micro": False, "hightech_certified": True}
    )
    consents.grant_consent(world.portal, actor, bank_code="alpha", products=[CREDIT])
    body = world.check({"uscc": medium, "product": CREDIT, "loan": loan("3000000")}).json()
    assert body["outcome"] == "eligible"
    assert [c["outcome"] for c in body["criteria"] if c["id"] == "small_micro"] == ["fail"]
    tree = body["criteria_tree"]
    assert (tree["kind"], tree["outcome"]) == ("all", "pass")
    nodes = _nodes(tree)
    # Every criterion of the flat list appears once in the tree, with the same outcome.
    leaves = {n["id"]: n["outcome"] for n in nodes if n["kind"] == "criterion"}
    assert leaves == {c["id"]: c["outcome"] for c in body["criteria"]}
    holding = [
        n for n in nodes if n["kind"] == "any" and any(c["id"] == "small_micro" for c in n["children"])
    ]
    assert [n["outcome"] for n in holding] == ["pass"]


def test_missing_loan_facts_are_named(world: BankWorld) -> None:
    response = world.check(
        {
            "uscc": world.uscc,
            "product": "ip_pledge_compensation",
            "loan": {"amount": 6000000, "pledge_kind": "patent"},
        }
    )
    body = response.json()
    assert response.status_code == 200
    assert body["outcome"] == "undetermined"
    assert body["missing_facts"] == ["loan.borrower_total_this_year"]
    years = next(c for c in body["criteria"] if c["id"] == "years_registered")
    assert years["value"] == 8  # derived from registered_on; the date itself is not shown
    assert "2018-03-01" not in response.text


def test_guarantee_fee_product(world: BankWorld) -> None:
    body = world.check(
        {"uscc": world.uscc, "product": "guarantee_fee", "loan": loan("5000001", government_guarantee=True)}
    ).json()
    assert (body["outcome"], body["benefit"]) == ("eligible", {"max_fee_rate": "0.015"})


def test_published_enums_match_the_pack(world: BankWorld) -> None:
    spec = world.portal.pack.facts.get("loan.pledge_kind")
    assert spec is not None
    assert set(PledgeKind.__args__) == set(spec.values)
    products = world.portal.city.banking.products
    spec = world.client.get("/openapi.json").json()
    published = [
        body["properties"]["product"]["enum"]
        for body in spec["components"]["schemas"].values()
        if "product" in body.get("properties", {})
    ]
    published += [
        operation["requestBody"]["content"]["application/json"]["schema"]["properties"]["product"]["enum"]
        for operation in spec["paths"]["/api/v1/bank/eligibility"].values()
    ]
    assert published and all(enum == sorted(products) for enum in published)
    for measure in products.values():
        assert world.portal.pack.versions(measure), measure


def test_money_as_text_or_number(world: BankWorld) -> None:
    for amount in ("3000000", 3000000, "3000000.00", 3000000.5):
        body = world.check({"uscc": world.uscc, "product": CREDIT, "loan": loan(amount)}).json()
        assert body["outcome"] == "eligible", amount
        assert body["benefit"] == {"compensation_ratio": "0.40"}


def test_a_change_of_registration_is_what_the_bank_check_reads(world: BankWorld) -> None:
    """The confirmed profile says Tianhe; the register, changed since by the administrator, says
    the firm moved out of the city: the check reads the register, as every profile reading does."""
    enterprises.create_staff_user(
        world.portal, None, username="registrar", password=PASSWORD, display_name="登记管理员", role="admin"
    )
    admin = enterprises.actor_for_username(world.portal, "registrar")
    before = world.check({"uscc": world.uscc, "product": CREDIT, "loan": loan()}).json()
    assert before["outcome"] == "eligible"
    registered_identity.change_registration(
        world.portal, admin, world.uscc, name="广州迁出测试有限公司", district="outside", reason="迁出广州"
    )
    after = world.check({"uscc": world.uscc, "product": CREDIT, "loan": loan()}).json()
    # Registered outside, the 2025 rule asks whether it still operates in the city instead.
    assert after["outcome"] == "undetermined"
    assert after["missing_facts"] == ["enterprise.operates_in_guangzhou"]
    district = next(c for c in after["criteria"] if c["fact"] == "enterprise.district")
    assert (district["value"], district["outcome"]) == ("outside", "fail")


def test_the_published_loan_fields_are_described_by_the_packs_fact_labels(world: BankWorld) -> None:
    """A bank reads each loan field by what the rule calls it, in English and Chinese, and no
    description sends it to the portal's own files."""
    spec = world.client.get("/openapi.json").json()
    operation = spec["paths"]["/api/v1/bank/eligibility"]["post"]
    loan_fields = operation["requestBody"]["content"]["application/json"]["schema"]["properties"]["loan"]
    for name, field in loan_fields["properties"].items():
        fact = world.portal.pack.facts.get(f"loan.{name}")
        assert fact is not None, name
        assert field["description"].startswith(f"{fact.label.en} ({fact.label.zh})"), (name, field)
    text = json.dumps(spec, ensure_ascii=False)
    assert "pack.yaml" not in text and "x-pack-" not in text
    status = spec["components"]["schemas"]["LoanStatus"]["properties"]["state"]["description"]
    assert "state_label" in status
