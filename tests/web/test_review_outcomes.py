"""核定兑现金额 and the letters on the reviewers' case page, over HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from fastapi import FastAPI
from portal_helpers import case_form, csrf_of, edit_target, fire, portal_app
from review_helpers import field_errors, score_panel, sweep_after, to_expert_review

from portal.db.tables import Application
from portal.services import decisions
from tests.documents.pdf_inspect import all_text
from tests.support.page_checks import visible_text

__all__ = ["portal_app"]


def text_of(html: str) -> str:
    """The words a reader sees, one space between each."""
    return " ".join(visible_text(html).split())


def test_the_bureau_grants_less_with_a_reason_then_corrects_the_letter(portal_app: FastAPI) -> None:
    case = to_expert_review(portal_app)
    page = case.bureau.get(f"/review/{case.application_id}").text
    assert "核定兑现金额" in page and 'name="granted_amount"' in page
    # The district's reviewer sees the amount but no form: only the lead unit sets it.
    assert case.district is not None
    district_page = case.district.get(f"/review/{case.application_id}").text
    assert "核定兑现金额" in district_page and 'name="granted_amount"' not in district_page

    version, token = case_form(case.bureau, f"/review/{case.application_id}")
    form = {"csrf_token": token, "expected_version": str(version)}
    too_much = case.bureau.post(
        f"/review/{case.application_id}/grant", data={**form, "granted_amount": "99999999999"}
    )
    assert too_much.status_code == 422
    [error] = field_errors(too_much.text)
    # The enterprise asked for less than the rule's amount: its request is the limit, said as money.
    assert error == "核定金额不得超过企业的申请金额 ¥3,000,000.00。"  # zh only, no English half
    case.bureau.cookies.set("lang", "en")
    english = case.bureau.post(
        f"/review/{case.application_id}/grant", data={**form, "granted_amount": "1000", "granted_reason": ""}
    )
    assert english.status_code == 422
    assert field_errors(english.text) == ["Say why less than the amount requested is granted."]
    case.bureau.cookies.set("lang", "zh")
    not_a_number = case.bureau.post(
        f"/review/{case.application_id}/grant", data={**form, "granted_amount": "十万"}
    )
    assert not_a_number.status_code == 422
    saved = case.bureau.post(
        f"/review/{case.application_id}/grant",
        data={**form, "granted_amount": "300,000.00", "granted_reason": "按预算核减"},
        follow_redirects=False,
    )
    assert saved.status_code == 303

    # The notice shows the amount set; from then on the form is gone and a forged post is refused.
    score_panel(case)
    page = case.bureau.get(f"/review/{case.application_id}").text
    assert "¥300,000.00" in page and 'name="granted_amount"' not in page
    assert "¥300,000.00" in case.enterprise.get("/notices").text
    with case.portal.reading() as session:
        version = session.get_one(Application, case.application_id).version
    token = csrf_of(case.bureau, f"/review/{case.application_id}")
    late = case.bureau.post(
        f"/review/{case.application_id}/grant",
        data={
            "csrf_token": token,
            "expected_version": str(version),
            "granted_amount": "1",
            "granted_reason": "x",
        },
    )
    assert late.status_code == 409 and "公示开始后，金额以公示为准" in late.text

    sweep_after(case.portal, 8)  # the notice window has passed: the sweep approves the case
    page = case.bureau.get(f"/review/{case.application_id}").text
    assert "决定文书" in page
    [letter] = decisions.letters_for(case.portal, case.bureau_actor, case.application_id)
    assert letter.kind == "approval"
    pdf = case.bureau.get(f"/review/{case.application_id}/letters/{letter.id}.pdf")
    assert pdf.status_code == 200 and pdf.content == letter.pdf
    # The enterprise's own page offers the letter by its kind and number, in each language.
    mine = case.enterprise.get(f"/applications/{case.application_id}").text
    assert f"下载批准决定书 {letter.doc_number}" in mine
    # ... and what was granted, as the letter says it, with the reason for granting less.
    granted = mine[mine.index("核定兑现金额") :]
    assert "¥300,000.00" in granted and "按预算核减" in granted
    case.enterprise.cookies.set("lang", "en")
    english = case.enterprise.get(f"/applications/{case.application_id}").text
    # The letter is issued in Chinese only: the English page says so before it is opened.
    assert f"Download: Approval {letter.doc_number} (issued in Chinese)" in english
    assert "Amount granted" in english and "CNY 300,000.00" in english
    case.enterprise.cookies.set("lang", "zh")
    # An enterprise never reaches the reviewers' letter route.
    assert case.enterprise.get(f"/review/{case.application_id}/letters/{letter.id}.pdf").status_code in (
        403,
        404,
    )

    # The correction form starts from the opinion the letter printed; the reason is asked apart.
    page = case.bureau.get(f"/review/{case.application_id}").text
    opinion_id, reasons_id = f"correct-{letter.id}-opinion", f"correct-{letter.id}-reasons"
    assert re.search(
        rf'<textarea id="{opinion_id}" name="opinion"[^>]*>公示期满，予以批准。</textarea>', page
    )
    assert f'<textarea id="{reasons_id}" name="reasons"' in page
    token = case_form(case.bureau, f"/review/{case.application_id}")[1]
    typed = "经复核，项目实施方案符合要求，公示期满无异议，予以批准。"
    url = f"/review/{case.application_id}/letters/{letter.id}/correct"
    for lang, message in (("zh", "请说明更正理由。"), ("en", "Say why the letter is corrected.")):
        case.bureau.cookies.set("lang", lang)
        empty = case.bureau.post(url, data={"csrf_token": token, "opinion": typed, "reasons": " "})
        # A field error, named in the page's error summary at its top, and what was typed is kept.
        assert empty.status_code == 422 and field_errors(empty.text) == [message]
        summary = empty.text[
            empty.text.index('id="error-summary"') : empty.text.index(
                "</div>", empty.text.index('id="error-summary"')
            )
        ]
        assert f'href="#{reasons_id}"' in summary and message in summary
        assert re.search(rf'<textarea id="{reasons_id}"[^>]*aria-invalid="true"', empty.text)
        assert f">{typed}</textarea>" in empty.text
    case.bureau.cookies.set("lang", "zh")
    blank = case.bureau.post(url, data={"csrf_token": token, "opinion": "", "reasons": "笔误"})
    assert blank.status_code == 422 and field_errors(blank.text) == ["请填写更正后的文字。"]
    assert ">笔误</textarea>" in blank.text
    assert decisions.letters_for(case.portal, case.bureau_actor, case.application_id) == [letter]
    corrected = case.bureau.post(
        url,
        data={"csrf_token": token, "opinion": typed, "reasons": "更正文书笔误"},
        follow_redirects=False,
    )
    assert corrected.status_code == 303
    old, new = decisions.letters_for(case.portal, case.bureau_actor, case.application_id)
    assert new.supersedes_id == old.id
    text = all_text(new.pdf)
    assert typed in text and "公示期满，予以批准。更正" not in text
    assert f"作出的{old.doc_number}决定书" in text and "更正理由：更正文书笔误" in text
    # Where the old letter is offered, both sides read that it was corrected, and by which letter.
    page = case.bureau.get(f"/review/{case.application_id}").text
    assert f"已更正，见 {new.doc_number}" in page
    assert f"已更正，见 {new.doc_number}" in case.enterprise.get(f"/applications/{case.application_id}").text
    case.enterprise.cookies.set("lang", "en")
    assert (
        f"Corrected: see {new.doc_number}" in case.enterprise.get(f"/applications/{case.application_id}").text
    )
    again = case.bureau.post(
        f"/review/{case.application_id}/letters/{old.id}/correct",
        data={"csrf_token": token, "opinion": typed, "reasons": "再次更正"},
    )
    assert again.status_code == 409


def test_the_lead_unit_sees_the_amount_requested_beside_the_rules_and_grants_no_more(
    portal_app: FastAPI,
) -> None:
    case = to_expert_review(portal_app)  # ¥12,000,000 invested (the rule's 30%: ¥3,600,000), ¥3,000,000 asked
    url = f"/review/{case.application_id}"
    page = case.bureau.get(url).text
    grant = text_of(page[page.index('id="grant"') :])
    for seen in (
        "按政策规则计算的金额（上限） ¥3,600,000.00",
        "申请金额 ¥3,000,000.00",
        "（未另行核定，按申请金额）",
    ):
        assert seen in grant, seen
    assert 'name="granted_amount" type="text" inputmode="decimal" value="3000000' in page
    assert "核减理由（低于申请金额时必填）" in page
    case.bureau.cookies.set("lang", "en")
    english = text_of(case.bureau.get(url).text)
    for seen in (
        "Amount computed by the rule",
        "CNY 3,600,000.00",
        "Amount requested CNY 3,000,000.00",
        "(not set; the amount requested)",
        "Reason (required when less than the amount requested)",
    ):
        assert seen in english, seen  # fmt: skip
    version, token = case_form(case.bureau, url)
    form = {"csrf_token": token, "expected_version": str(version)}
    above = case.bureau.post(
        f"{url}/grant", data={**form, "granted_amount": "3,600,000", "granted_reason": "x"}
    )
    assert above.status_code == 422
    assert field_errors(above.text) == [
        "The amount granted may not exceed the amount requested, CNY 3,000,000.00."
    ]
    # What was asked for, below the rule's amount, is granted without a reason.
    exact = case.bureau.post(
        f"{url}/grant", data={**form, "granted_amount": "3000000"}, follow_redirects=False
    )
    assert exact.status_code == 303
    score_panel(case)
    assert "¥3,000,000.00" in case.enterprise.get("/notices").text


def test_the_lead_unit_is_told_in_words_when_a_resubmission_withdraws_the_amount_it_set(
    portal_app: FastAPI,
) -> None:
    case = to_expert_review(portal_app)  # ¥3,000,000 asked, the rule's ¥3,600,000
    url = f"/review/{case.application_id}"
    version, token = case_form(case.bureau, url)
    form = {"csrf_token": token, "expected_version": str(version)}
    assert case.bureau.post(f"{url}/grant", data={**form, "granted_amount": "3000000"}).status_code == 200
    assert (
        fire(case.bureau, case.application_id, "return_for_amendment", "请核实申请金额", sections="budget")
        == 303
    )
    action, token = edit_target(case.enterprise, case.application_id)
    data = {"csrf_token": token, "action": "submit", "investment": "12000000", "requested_amount": "2000000"}
    assert case.enterprise.post(action, data=data, follow_redirects=False).status_code == 303
    page = case.bureau.get(url).text
    grant = text_of(
        page[page.index('id="grant"') : page.index('id="letters"') if 'id="letters"' in page else None]
    )
    for seen in (
        "核定兑现金额 ¥2,000,000.00 （未另行核定，按申请金额）",
        "此前核定的兑现金额 ¥3,000,000.00 已于",
        "撤销：企业补正后将申请金额改为 ¥2,000,000.00，低于原核定金额。现按 ¥2,000,000.00 兑现；"
        "如需核减，请重新核定并说明理由。",
    ):
        assert seen in grant, seen
    trail = text_of(page.split("审计记录")[1])
    assert "撤销此前核定的兑现金额（超出目前可核定的金额）" in trail and "系统" in trail
    assert 'name="granted_amount" type="text" inputmode="decimal" value="2000000' in page
    # The case's history says it too, in its place: after the resubmission, before what came next.
    assert fire(case.bureau, case.application_id, "return_for_amendment", "请补充预算明细") == 303
    history = text_of(case.bureau.get(url).text.split("办理记录")[1].split("审计记录")[0])
    withdrawn = (
        "撤销核定金额：此前核定的兑现金额 ¥3,000,000.00 已撤销：申请金额为 ¥2,000,000.00，低于该金额。"
        "现按 ¥2,000,000.00 兑现。"
    )
    assert withdrawn in history
    assert history.index("补正后重新提交") < history.index(withdrawn) < history.rindex("退回补正")
    # The enterprise never saw the amount set before the notice: its own history leaves it out.
    own = text_of(case.enterprise.get(f"/applications/{case.application_id}").text)
    assert "补正后重新提交" in own and "撤销核定金额" not in own and "此前核定" not in own
    case.bureau.cookies.set("lang", "en")
    english = case.bureau.get(url).text
    words = text_of(english)
    for seen in (
        "The amount granted earlier, CNY 3,000,000.00, was withdrawn on",
        "in its amendment the enterprise changed the amount requested to CNY 2,000,000.00, which is less. "
        "CNY 2,000,000.00 is granted now; to grant less, set the amount again and say why.",
        "Withdrew the amount granted earlier (more than may now be granted)",
        "Amount granted withdrawn: The amount granted earlier, CNY 3,000,000.00, was withdrawn: the amount "
        "requested is CNY 2,000,000.00, which is less. CNY 2,000,000.00 is granted now.",
    ):
        assert seen in words, seen
    for code in (
        "granted_amount_withdrawn",
        "grant.withdrawn",
        "grant-withdrawn",
        "by_request",
        "resubmission",
    ):
        assert code not in words, code
