"""Letters as stored by a decision: bytes, digest, content, immutability, corrections, re-rendering."""

import hashlib
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, select
from typer.testing import CliRunner

from portal.cli import app as cli_app
from portal.db.audit import append_audit
from portal.db.tables import Application, Decision, Letter
from portal.documents.verification import normalize_verification_code
from portal.services.corrections import correct_letter, correction_starts
from portal.services.decisions import issue_letter, verify_code
from portal.services.errors import Conflict, NotFound, ValidationFailed
from portal.services.letters import rerender_letter
from portal.settings import get_settings
from tests.letters.letter_cases import DECIDED_ON, LettersWorld, decide_case

runner = CliRunner()


def pdf_text(pdf: bytes) -> str:
    """All page text without white space: line breaks fall anywhere in CJK text."""
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))


def embedded_decision(pdf: bytes) -> dict[str, Any]:
    attachments = PdfReader(io.BytesIO(pdf)).attachments
    decoded: dict[str, Any] = json.loads(attachments["decision.json"][0])
    return decoded


def stored(world: LettersWorld, letter_id: int) -> Letter:
    with world.portal.reading() as session:
        letter = session.get(Letter, letter_id)
        assert letter is not None
        return letter


def test_an_approval_stores_a_letter_whose_sha256_is_that_of_its_bytes(world: LettersWorld) -> None:
    letter = world.case.letter
    assert letter.kind == "approval" and letter.lang == "zh"
    assert letter.pdf.startswith(b"%PDF-")
    assert letter.sha256 == hashlib.sha256(letter.pdf).hexdigest()
    assert normalize_verification_code(letter.verification_code) == letter.verification_code
    assert re.fullmatch(r"穗发改〔2026〕\d+号", letter.doc_number)


def test_the_stored_letter_names_the_enterprise_and_the_amount_in_figures_and_capitals(
    world: LettersWorld,
) -> None:
    content = pdf_text(world.case.letter.pdf)
    assert world.case.enterprise_name in content
    assert "600,000.00" in content
    assert "陆拾万元整" in content
    assert "人工智能算力券" in content
    assert world.case.letter.doc_number in content
    assert "2026年6月1日" in content
    decision = embedded_decision(world.case.letter.pdf)
    assert decision["verification_code"] == world.case.letter.verification_code
    # The money is printed once, as the granted amount (here the rule's whole amount).
    assert "核定兑现金额" in content
    assert decision["granted_amount"] == "600000.00"
    assert decision["benefit"] == []


def test_the_annex_draws_the_any_of_group_the_decision_was_met_through(world: LettersWorld) -> None:
    """The voucher's "any one of" (AI R&D, AI revenue, certified staff) is met by R&D and staff; its
    unmet revenue option reads as not needed, in the PDF and in the embedded decision."""
    content = pdf_text(world.case.letter.pdf)
    assert "2满足下列任一项即可符合" in content
    assert "2.2上年度人工智能业务收入超过500万元未满足（已由其他条件满足）" in content
    assert "不符合" not in content and "序号审核项结果依据" not in content  # one source, said once
    lines = embedded_decision(world.case.letter.pdf)["trace"]
    assert [(line["kind"], line["depth"], line["outcome"], line["covered"]) for line in lines[1:5]] == [
        ("any", 0, "pass", False),
        ("criterion", 1, "pass", True),
        ("criterion", 1, "fail", True),
        ("criterion", 1, "pass", True),
    ]


def test_the_database_refuses_to_rewrite_a_stored_letter(world: LettersWorld) -> None:
    with pytest.raises(DBAPIError), world.portal.transaction() as session:
        session.execute(
            text("UPDATE letter SET sha256 = :digest WHERE id = :id"),
            {"digest": "0" * 64, "id": world.case.letter.id},
        )
    assert stored(world, world.case.letter.id or 0).sha256 == world.case.letter.sha256


def test_re_rendering_reproduces_the_stored_bytes_and_stores_nothing(world: LettersWorld) -> None:
    case = world.case
    again = rerender_letter(world.portal, case.decision_id)
    assert again.letter_id == case.letter.id
    assert again.pdf == case.letter.pdf
    assert again.identical
    english = rerender_letter(world.portal, case.decision_id, lang="en")
    assert not english.identical
    assert "AIcomputevoucher" in pdf_text(english.pdf)
    with world.portal.reading() as session:
        letters = session.exec(select(Letter).where(col(Letter.decision_id) == case.decision_id)).all()
    assert [row.id for row in letters] == [case.letter.id]


def test_a_correction_supersedes_the_old_letter_and_both_stay(world: LettersWorld) -> None:
    case = decide_case(world.portal, "广州更正示例智能有限公司")
    # The form starts from the remarks the letter printed; the correction prints the corrected ones.
    starts = correction_starts(world.portal, world.reviewer, case.application_id)
    assert starts == {case.letter.id: "公示期满，予以批准。"}
    newer = correct_letter(
        world.portal,
        world.reviewer,
        case.letter.id or 0,
        reasons="原决定书审核意见表述有误。",
        opinion="经复核，申报材料齐全，公示期满无异议，予以批准。",
    )
    printed = pdf_text(newer.pdf)
    issued = DECIDED_ON.strftime("%Y年%-m月%-d日")
    assert (
        f"本决定书更正并取代本机关于{issued}作出的{case.letter.doc_number}决定书"
        f"（核验码：{case.letter.verification_code}）。更正理由：原决定书审核意见表述有误。"
    ) in printed
    assert "二、审核意见：经复核，申报材料齐全，公示期满无异议，予以批准。" in printed
    assert "公示期满，予以批准。二" not in printed and printed.count("原决定书审核意见表述有误") == 1
    assert correction_starts(world.portal, world.reviewer, case.application_id) == {
        newer.id: "经复核，申报材料齐全，公示期满无异议，予以批准。"
    }
    assert newer.supersedes_id == case.letter.id
    assert newer.verification_code != case.letter.verification_code
    assert newer.doc_number != case.letter.doc_number
    old = stored(world, case.letter.id or 0)
    assert (old.pdf, old.sha256) == (case.letter.pdf, case.letter.sha256)
    old_info = verify_code(world.portal, case.letter.verification_code)
    assert old_info.superseded and old_info.superseded_by == newer.verification_code
    new_info = verify_code(world.portal, newer.verification_code)
    assert not new_info.superseded
    assert embedded_decision(newer.pdf)["supersedes_code"] == case.letter.verification_code
    assert embedded_decision(newer.pdf)["supersedes"] == {
        "doc_number": case.letter.doc_number,
        "issued_on": DECIDED_ON.isoformat(),
        "reason": "原决定书审核意见表述有误。",
    }
    # The correction's reasons come back from its audit event: the re-render is byte-identical.
    assert rerender_letter(world.portal, case.decision_id).pdf == newer.pdf
    assert rerender_letter(world.portal, case.decision_id, letter_id=case.letter.id).pdf == case.letter.pdf
    with pytest.raises(Conflict):
        correct_letter(world.portal, world.reviewer, case.letter.id or 0, reasons="again")


def test_empty_fields_are_field_errors_and_a_correction_may_keep_the_old_text(world: LettersWorld) -> None:
    case = decide_case(world.portal, "广州更正示例二号智能有限公司")
    with pytest.raises(ValidationFailed) as refused:
        correct_letter(world.portal, world.reviewer, case.letter.id or 0, reasons=" ", opinion=" ")
    assert [(p.path, p.code) for p in refused.value.errors] == [
        ("opinion", "required"),
        ("reasons", "required"),
    ]
    # Without new text (the letter issued again, in English), it prints the old letter's remarks.
    newer = correct_letter(
        world.portal, world.reviewer, case.letter.id or 0, reasons="应企业申请以英文出具。", lang="en"
    )
    printed = pdf_text(newer.pdf)
    assert "2.Reviewer'sremarks:公示期满，予以批准。" in printed
    assert f"ourdecisionNo.{case.letter.doc_number}of" in printed
    assert rerender_letter(world.portal, case.decision_id).identical


def test_a_correction_issued_before_its_text_was_kept_apart_renders_as_it_was_issued(
    world: LettersWorld,
) -> None:
    """Such a correction printed its reason as its remarks (its audit event kept no text):
    a re-render prints it so again, and names no separate reason."""
    case = decide_case(world.portal, "广州更正示例三号智能有限公司")
    with world.portal.transaction() as session:
        old = session.get_one(Letter, case.letter.id)
        letter = issue_letter(
            session,
            world.portal,
            application=session.get_one(Application, case.application_id),
            decision=session.get_one(Decision, case.decision_id),
            kind="approval",
            issued_by=world.reviewer.user_id,
            reasons="更正企业名称笔误。",
            supersedes=old,
        )
        append_audit(
            session,
            actor_id=world.reviewer.user_id,
            actor_role=world.reviewer.role,
            subject_type="letter",
            subject_id=letter.id or 0,
            event="letter_corrected",
            comment="更正企业名称笔误。",
            payload={"supersedes": old.id, "doc_number": letter.doc_number, "sha256": letter.sha256},
        )
    again = rerender_letter(world.portal, case.decision_id)
    assert again.identical and "二、审核意见：更正企业名称笔误。" in pdf_text(again.pdf)
    assert "更正理由" not in pdf_text(again.pdf)


@pytest.fixture
def cli_database(world: LettersWorld, monkeypatch: pytest.MonkeyPatch) -> Iterator[LettersWorld]:
    monkeypatch.setenv("DATABASE_URL", world.database_url)
    get_settings.cache_clear()
    yield world
    get_settings.cache_clear()


def test_cli_render_writes_the_letter_and_leaves_the_stored_one_unchanged(
    cli_database: LettersWorld, tmp_path: Path
) -> None:
    case = cli_database.case
    out = tmp_path / "letter.pdf"
    result = runner.invoke(cli_app, ["decisions", "render", str(case.decision_id), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == case.letter.pdf
    assert "identical to the stored letter" in result.output
    english = tmp_path / "letter-en.pdf"
    result = runner.invoke(
        cli_app, ["decisions", "render", str(case.decision_id), "--out", str(english), "--lang", "en"]
    )
    assert result.exit_code == 0, result.output
    assert PdfReader(io.BytesIO(english.read_bytes())).pages
    assert "differs from the stored letter" in result.output
    after = stored(cli_database, case.letter.id or 0)
    assert after.pdf == case.letter.pdf
    assert after.sha256 == case.letter.sha256 == hashlib.sha256(after.pdf).hexdigest()


def test_cli_render_names_an_unknown_decision_without_a_traceback(
    cli_database: LettersWorld, tmp_path: Path
) -> None:
    out = tmp_path / "none.pdf"
    result = runner.invoke(cli_app, ["decisions", "render", "999999", "--out", str(out)])
    assert result.exit_code == 1
    assert "decision 999999 not found" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_cli_render_names_an_unwritable_output_file(cli_database: LettersWorld, tmp_path: Path) -> None:
    out = tmp_path / "no-such-dir" / "letter.pdf"
    result = runner.invoke(
        cli_app, ["decisions", "render", str(cli_database.case.decision_id), "--out", str(out)]
    )
    assert result.exit_code == 1
    assert f"cannot write {out}" in result.output


def test_a_letter_date_is_the_decision_day_in_guangzhou(world: LettersWorld) -> None:
    assert verify_code(world.portal, world.case.letter.verification_code).issued_on == DECIDED_ON


def test_an_unknown_decision_cannot_be_re_rendered(world: LettersWorld) -> None:
    with pytest.raises(NotFound):
        rerender_letter(world.portal, 999999)
