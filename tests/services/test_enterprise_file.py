"""一企一档 through the services (issue 12 §4): bank consents and queries, screening hits, files
reused across cases, and objections, each read back for the enterprise's district staff."""

from __future__ import annotations

import pyarrow as pa
from services_helpers import USCC_A, Driver, World

from portal.services import banks, consents, notices
from portal.services.context import Portal
from portal.services.enterprise_file import enterprise_file
from portal.services.loan_eligibility import check_eligibility
from portal.services.screening import notify_eligible

CREDIT = "credit_risk_compensation"


def test_the_file_holds_queries_hits_reused_files_and_objections(portal: Portal, world: World) -> None:
    owner, district = world.actors["ent_a"], world.actors["rev_tianhe"]
    empty = enterprise_file(portal, district, USCC_A)
    assert (empty.bank_queries, empty.screening_hits, empty.reused_files, empty.objections) == (
        [],
        [],
        [],
        [],
    )

    # A bank with the enterprise's consent checks a product; the query is on the file.
    banks.add_bank(portal, name="广州测试银行", code="gztest")
    caller = banks.authenticate(portal, banks.issue_key(portal, "gztest").key)
    assert caller is not None
    consents.grant_consent(portal, owner, bank_code="gztest", products=[CREDIT])
    check_eligibility(portal, caller, uscc=USCC_A, product=CREDIT, loan={"amount": "3000000"})

    # A screening hit tells the enterprise of a measure; the hit is on the file.
    rule = portal.pack.select("subsidy.compute_voucher", portal.today())
    assert rule is not None
    hits = pa.table(
        {"row_id": [str(world.enterprise_ids["a"])], "measure": [rule.id], "outcome": ["eligible"]}
    )
    assert notify_eligible(portal, hits, [rule]) == 1

    # Two cases of this enterprise and one of another hold the same uploaded bytes.
    first, second = Driver(portal, world), Driver(portal, world)
    elsewhere = Driver(portal, world, owner="ent_b")
    # A case on public notice draws an objection.
    first.to_public_notice()
    notices.lodge_objection(
        portal, first.app_id, name="王五", contact="13900000000", email="w@example.test", reasons="材料存疑"
    )

    found = enterprise_file(portal, district, USCC_A)
    [consent] = found.consents
    assert consent[0].name == "广州测试银行"
    [query] = found.bank_queries
    assert (query.bank_name, query.product) == ("广州测试银行", CREDIT) and query.facts_read
    [hit] = found.screening_hits
    assert (hit.measure_id, hit.version) == (rule.id, rule.version)
    assert found.reused_files, "the same bytes on two cases are a reused file"
    for reused in found.reused_files:
        assert reused.own_cases == sorted([first.app_id, second.app_id])
        assert reused.other_cases == 1  # ent_b's case; counted, not listed
    assert elsewhere.app_id not in {c for f in found.reused_files for c in f.own_cases}
    [objection] = found.objections
    assert objection.application_id == first.app_id and objection.sustained is None
