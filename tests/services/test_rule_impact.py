"""`portal rules impact --since`: stored applications replayed under two rule versions.

The applications are made through the real services (profile, draft, answers, uploads, submit)
on SQLite and PostgreSQL; the NEW versions are copies of the pack's rule files with a deliberate
threshold change, in a pack folder of their own.
"""

import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from services_helpers import ELIGIBLE_FACTS, Driver, World, valid_uscc_b
from typer.testing import CliRunner

from portal.cli import app
from portal.screening.impact import RuleSet, resolve_ref
from portal.services import applications, enterprises
from portal.services.context import Portal
from portal.services.impact import application_impact
from portal.settings import default_pack_dir, get_settings

RULES = default_pack_dir() / "rules"
VOUCHER = RULES / "subsidy" / "compute_voucher.2021.yaml"
SCENARIO = RULES / "subsidy" / "ai_scenario_demo.2024.yaml"
SUBMITTED_ON = date(2026, 6, 1)  # the services tests' pinned clock
SCENARIO_ANSWERS = {
    "enterprise_name": "海珠模型科技有限公司",
    "contact_person": "张三",
    "contact_phone": "13800138000",
    "project_name": "智慧城市视觉示范项目",
    "track": "cheng",
    "start_on": "2025-01-01",
    "end_on": "2025-12-31",
    "investment": "10000000",  # the profile says 50,000,000: the answer must win
    "requested_amount": "3000000",
    "summary": "在海珠区部署城市视觉识别平台，覆盖道路、园区与社区的智能巡检场景，"
    "提升城市治理效率与安全水平，项目已建成并通过验收，形成可复制推广的示范经验。",
}


def _variant(tmp_path: Path, source: Path, *changes: tuple[str, str]) -> Path:
    """A copy of a real rule file with deliberate changes, beside a copy of the pack's facts.yaml."""
    folder = tmp_path / f"variant_{len(list(tmp_path.glob('variant_*')))}"
    folder.mkdir()
    (folder / "facts.yaml").write_bytes((RULES / "facts.yaml").read_bytes())
    text = source.read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    path = folder / source.name
    path.write_text(text, encoding="utf-8")
    return path


def _refs(old: Path, new: Path) -> tuple[RuleSet, RuleSet]:
    return (
        resolve_ref(str(old), RULES.parent, SUBMITTED_ON),
        resolve_ref(str(new), RULES.parent, SUBMITTED_ON),
    )


def _voucher_case(portal: Portal, world: World) -> int:
    """ent_a applies for the compute voucher: eligible on AI R&D, revenue and staff alike; 150万."""
    driver = Driver(portal, world)
    driver.submit()
    return driver.app_id


def _scenario_case(portal: Portal, world: World) -> int:
    """ent_b applies for the scenario grant; the project's investment comes from the form answers."""
    owner = world.actors["ent_b"]
    facts = {
        **ELIGIBLE_FACTS,
        "enterprise": {**ELIGIBLE_FACTS["enterprise"], "district": "haizhu"},
        "project": {"scenario_in_guangzhou": True, "completed": True, "investment": "50000000"},
    }
    enterprises.save_profile(portal, owner, facts, 1)
    enterprises.confirm_profile(portal, owner, 2)
    driver = Driver(portal, world, "subsidy.ai_scenario_demo", owner="ent_b")
    answers = {**SCENARIO_ANSWERS, "uscc": valid_uscc_b()}
    applications.save_draft(portal, owner, driver.app_id, answers, driver.version)
    for slot in ("investment_evidence", "budget_sheet"):
        upload = applications.store_attachment(
            portal,
            owner,
            f"%PDF-1.4 {slot}".encode(),
            content_type="application/pdf",
            original_name=f"{slot}.pdf",
        )
        applications.attach(portal, owner, driver.app_id, slot, int(upload.id or 0), driver.version)
    driver.submit()
    return driver.app_id


def test_a_raised_threshold_flips_the_submitted_application(
    portal: Portal, world: World, tmp_path: Path
) -> None:
    voucher = _voucher_case(portal, world)
    _scenario_case(portal, world)  # another measure: not replayed by a voucher-only change
    raised = _variant(
        tmp_path,
        VOUCHER,
        ("min_ai_spend: {value: 5000000,", "min_ai_spend: {value: 60000000,"),
        ("min_ai_staff: {value: 6,", "min_ai_staff: {value: 100,"),
    )
    report = application_impact(portal, *_refs(VOUCHER, raised), since=SUBMITTED_ON)
    assert report.replayed == 1
    assert dict(report.directions) == {("eligible", "ineligible"): 1}
    assert report.benefit_totals == {"voucher": (Decimal("1500000.00"), Decimal(0))}
    (change,) = report.changes
    assert (change.application_id, change.uscc, change.measure) == (
        voucher,
        "91350100M000100Y43",
        "subsidy.compute_voucher",
    )
    assert (change.old, change.new, change.evaluated_on) == ("eligible", "ineligible", SUBMITTED_ON)
    assert change.benefit_delta == {"voucher": Decimal("-1500000.00")}


def test_the_form_answers_count_not_only_the_profile(portal: Portal, world: World, tmp_path: Path) -> None:
    scenario = _scenario_case(portal, world)
    # Investment must now exceed 2,000万: the profile's 5,000万 would pass, the answered 1,000万 fails.
    raised = _variant(
        tmp_path,
        SCENARIO,
        ('fact: project.investment\n      ">": 0', 'fact: project.investment\n      ">": 20000000'),
    )
    report = application_impact(portal, *_refs(SCENARIO, raised), since=SUBMITTED_ON)
    (change,) = report.changes
    assert change.application_id == scenario
    assert (change.old, change.new) == ("eligible", "ineligible")
    assert change.old_benefit == {"max_subsidy": Decimal("3000000.00")}  # 30 % of the answered 1,000万
    assert change.benefit_delta == {"max_subsidy": Decimal("-3000000.00")}


def test_a_change_that_flips_nothing(portal: Portal, world: World, tmp_path: Path) -> None:
    _voucher_case(portal, world)
    # A later profile edit must not leak into the replay: the case keeps its submitted snapshot.
    owner = world.actors["ent_a"]
    enterprises.save_profile(
        portal, owner, {"enterprise": {"district": "tianhe", "compute_purchase": "0"}}, 1
    )
    enterprises.confirm_profile(portal, owner, 2)
    # AI revenue of 5,000万 still clears a 4,000万 threshold.
    raised = _variant(
        tmp_path, VOUCHER, ("min_ai_spend: {value: 5000000,", "min_ai_spend: {value: 40000000,")
    )
    report = application_impact(portal, *_refs(VOUCHER, raised), since=SUBMITTED_ON)
    assert (report.replayed, report.changes, dict(report.directions)) == (1, [], {})
    assert report.benefit_totals == {"voucher": (Decimal("1500000.00"), Decimal("1500000.00"))}
    later = application_impact(portal, *_refs(VOUCHER, raised), since=date(2026, 6, 2))
    assert later.replayed == 0


def test_cli_replays_stored_applications(
    portal: Portal,
    world: World,
    world_url: tuple[str, World],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    voucher = _voucher_case(portal, world)
    raised = _variant(tmp_path, VOUCHER, ("min_ai_staff: {value: 6,", "min_ai_staff: {value: 100,"),
                      ("min_ai_spend: {value: 5000000,", "min_ai_spend: {value: 60000000,"))  # fmt: skip
    monkeypatch.setenv("DATABASE_URL", world_url[0])
    monkeypatch.setenv("PORTAL_PACK_DIR", str(default_pack_dir()))
    get_settings.cache_clear()
    try:
        base = ["rules", "impact", str(VOUCHER), str(raised), "--since", "2026-06-01"]
        as_json = CliRunner().invoke(app, [*base, "--format", "json"])
        assert as_json.exit_code == 0, as_json.stderr
        document = json.loads(as_json.stdout)
        assert document["applications"] == 1
        assert document["flips"] == {"eligible->ineligible": 1}
        assert document["benefit_change"]["voucher"] == {
            "old": "1500000.00",
            "new": "0",
            "change": "-1500000.00",
        }
        assert document["affected"][0]["application_id"] == voucher
        assert document["affected"][0]["benefit_delta"] == {"voucher": "-1500000.00"}
        as_csv = CliRunner().invoke(app, [*base, "--format", "csv"])
        (row,) = csv.DictReader(io.StringIO(as_csv.stdout))
        assert (row["application_id"], row["old"], row["new"]) == (str(voucher), "eligible", "ineligible")
        assert json.loads(row["benefit_delta"]) == {"voucher": "-1500000.00"}
        table = CliRunner().invoke(app, base)
        assert table.exit_code == 0 and "affected applications" in table.stdout
        forced = CliRunner().invoke(app, [*base, "--on", "2026-07-01", "--format", "json"])
        assert json.loads(forced.stdout)["affected"][0]["evaluated_on"] == "2026-07-01"
        source = tmp_path / "in.csv"
        source.write_text("row_id,district\nX,tianhe\n", encoding="utf-8")
        both = CliRunner().invoke(app, [*base, "--input", str(source), "--format", "json"])
        assert both.exit_code == 0, both.stderr
        assert sorted(json.loads(both.stdout)) == ["applications", "input"]
        for args, message in (
            (["--since", "2026-13-01"], "--since: '2026-13-01' is not a date"),
            (["--input", str(source), "--format", "csv"], "--format csv prints one table"),
        ):
            bad = CliRunner().invoke(app, [*base, *args])
            assert bad.exit_code == 2 and message in bad.stderr and "Traceback" not in bad.stderr
        neither = CliRunner().invoke(app, ["rules", "impact", str(VOUCHER), str(raised)])
        assert neither.exit_code == 2 and "give --input FILE, --since DATE, or both" in neither.stderr
    finally:
        get_settings.cache_clear()
