"""/verify and the letter download, through the real app over HTTP (ASGI), on both backends."""

import hashlib
import re
from urllib.parse import quote, unquote

from fastapi.testclient import TestClient
from sqlalchemy import text

from portal.db.tables import Decision
from portal.services.corrections import correct_letter
from portal.services.decision_records import recorded_decision
from tests.letters.letter_cases import LettersWorld, decide_case, sign_in


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match is not None, "the page has no CSRF field"
    return match.group(1)


def upload(client: TestClient, code: str, pdf: bytes) -> str:
    """Post a file to the code's page the way its form does; returns the answer's HTML."""
    token = csrf_of(client.get(f"/verify/{code}").text)
    response = client.post(
        f"/verify/{code}", data={"csrf_token": token}, files={"file": ("letter.pdf", pdf, "application/pdf")}
    )
    assert response.status_code == 200, response.text[:300]
    answer: str = response.text
    return answer


def test_the_verify_page_shows_what_the_letter_says(world: LettersWorld, client: TestClient) -> None:
    letter = world.case.letter
    response = client.get(f"/verify/{letter.verification_code}")
    assert response.status_code == 200
    page = response.text
    for shown in (
        "广州市发展和改革委员会",
        world.case.enterprise_name,
        "人工智能算力券",
        "予以批准",
        "2026年6月1日",
        letter.sha256,
        letter.doc_number,
    ):
        assert shown in page
    assert 'data-status="current"' in page
    assert response.headers["x-robots-tag"].startswith("noindex")


def test_the_verify_page_switches_to_english(world: LettersWorld, client: TestClient) -> None:
    client.cookies.set("lang", "en")
    page = client.get(f"/verify/{world.case.letter.verification_code}").text
    for shown in (
        "Guangzhou Municipal Development and Reform Commission",
        "AI compute voucher",
        "Approved",
        "June 1, 2026",
    ):
        assert shown in page
    assert world.case.enterprise_name in page


def test_a_typed_code_is_read_as_meant(world: LettersWorld, client: TestClient) -> None:
    code = world.case.letter.verification_code
    typed = code.replace("-", " ").lower()
    response = client.get("/verify", params={"code": typed}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/verify/{code}"
    assert client.get("/verify/" + code.replace("-", "").lower()).status_code == 200
    form = client.get("/verify")
    assert form.status_code == 200 and 'name="code"' in form.text


def test_unknown_and_malformed_codes_get_the_same_plain_not_found(
    world: LettersWorld, client: TestClient
) -> None:
    unknown = client.get("/verify/00000-00000-00000-00000")
    malformed = client.get("/verify/not-a-code-at-all")
    typed = client.get("/verify", params={"code": "<script>"})
    assert unknown.status_code == malformed.status_code == typed.status_code == 404
    assert unknown.text == malformed.text == typed.text
    assert "00000" not in unknown.text and "not-a-code" not in malformed.text
    posted = client.post(
        "/verify/00000-00000-00000-00000",
        data={"csrf_token": csrf_of(client.get(f"/verify/{world.case.letter.verification_code}").text)},
        files={"file": ("x.pdf", b"%PDF-1.7", "application/pdf")},
    )
    assert posted.status_code == 404 and posted.text == unknown.text


def test_a_signed_in_reader_gets_the_same_not_found(world: LettersWorld, client: TestClient) -> None:
    """An official or an enterprise mistyping a code is told it leads nowhere, with their own menu."""
    for username in (world.case.owner_username, "letters-reviewer"):
        sign_in(client, username)
        for lang, words in (("zh", "退出"), ("en", "Sign out")):
            client.cookies.set("lang", lang)
            unknown = client.get("/verify/00000-00000-00000-00000")
            assert unknown.status_code == 404 and words in unknown.text
            assert "00000" not in unknown.text
        client.cookies.delete("lang")
        client.cookies.clear()


def test_the_genuine_pdf_verifies(world: LettersWorld, client: TestClient) -> None:
    letter = world.case.letter
    page = upload(client, letter.verification_code, letter.pdf)
    assert 'data-result="match"' in page
    assert 'data-result="mismatch"' not in page


def test_a_pdf_with_one_byte_changed_fails_verification(world: LettersWorld, client: TestClient) -> None:
    letter = world.case.letter
    tampered = bytearray(letter.pdf)
    tampered[len(tampered) // 2] ^= 0x01
    page = upload(client, letter.verification_code, bytes(tampered))
    assert 'data-result="mismatch"' in page
    assert hashlib.sha256(bytes(tampered)).hexdigest() in page


def test_another_genuine_letter_is_told_apart_from_an_altered_one(
    world: LettersWorld, client: TestClient
) -> None:
    """A genuine letter checked on another letter's page is not "altered": the page names it and
    links to its own verification (the uploader holds it, so nothing is disclosed)."""
    other = decide_case(world.portal, "广州另一份文书科技有限公司").letter
    page = upload(client, world.case.letter.verification_code, other.pdf)
    assert 'data-result="other"' in page and 'data-result="mismatch"' not in page
    assert f'href="/verify/{other.verification_code}"' in page and other.doc_number in page
    client.cookies.set("lang", "en")
    try:
        english = upload(client, world.case.letter.verification_code, other.pdf)
    finally:
        client.cookies.delete("lang")
    assert f"it is exactly another issued letter ({other.doc_number})" in english


def test_every_page_links_to_letter_verification(client: TestClient) -> None:
    """A bank or another office holding a letter finds the check from any page of the site."""
    for path in ("/", "/notices", "/self-check"):
        assert '<a href="/verify">文书核验</a>' in client.get(path).text


def test_an_empty_upload_is_refused_with_a_reason(world: LettersWorld, client: TestClient) -> None:
    code = world.case.letter.verification_code
    token = csrf_of(client.get(f"/verify/{code}").text)
    response = client.post(
        f"/verify/{code}", data={"csrf_token": token}, files={"file": ("e.pdf", b"", "application/pdf")}
    )
    assert response.status_code == 422
    assert "请选择要核对的 PDF 文件" in response.text


def test_an_upload_without_the_csrf_token_is_refused(world: LettersWorld, client: TestClient) -> None:
    code = world.case.letter.verification_code
    client.get(f"/verify/{code}")
    response = client.post(
        f"/verify/{code}",
        data={"csrf_token": "forged"},
        files={"file": ("l.pdf", world.case.letter.pdf, "application/pdf")},
    )
    assert response.status_code == 403
    assert "data-result" not in response.text


def test_an_oversized_upload_is_refused_before_it_is_read(world: LettersWorld, client: TestClient) -> None:
    code = world.case.letter.verification_code
    token = csrf_of(client.get(f"/verify/{code}").text)
    too_big = b"%PDF-" + b"0" * (21 * 1024 * 1024)
    response = client.post(
        f"/verify/{code}", data={"csrf_token": token}, files={"file": ("big.pdf", too_big, "application/pdf")}
    )
    assert response.status_code == 413


def test_a_superseded_letter_says_so_and_links_to_the_correction(
    world: LettersWorld, client: TestClient
) -> None:
    case = decide_case(world.portal, "广州公示更正科技有限公司")
    newer = correct_letter(world.portal, world.reviewer, case.letter.id or 0, reasons="更正笔误。")
    old_page = client.get(f"/verify/{case.letter.verification_code}").text
    assert 'data-status="superseded"' in old_page
    assert f'href="/verify/{newer.verification_code}"' in old_page
    # The old letter is still the genuine old letter: it verifies, and says it was corrected.
    assert 'data-result="match"' in upload(client, case.letter.verification_code, case.letter.pdf)
    new_page = client.get(f"/verify/{newer.verification_code}").text
    assert 'data-status="current"' in new_page and newer.sha256 in new_page


def pdf_url(world: LettersWorld) -> str:
    return f"/applications/{world.case.application_id}/letters/{world.case.letter.id}.pdf"


def test_the_owner_downloads_the_stored_letter(world: LettersWorld, client: TestClient) -> None:
    sign_in(client, world.case.owner_username)
    response = client.get(pdf_url(world))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content == world.case.letter.pdf
    # Named by its document number, with an ASCII name for clients that cannot read filename*.
    doc_number = world.case.letter.doc_number
    assert not doc_number.isascii()
    assert response.headers["content-disposition"] == (
        f'attachment; filename="letter-{world.case.letter.id}.pdf"; '
        f"filename*=UTF-8''{quote(doc_number, safe='')}.pdf"
    )
    assert unquote(response.headers["content-disposition"].split("''")[1]) == f"{doc_number}.pdf"


def test_the_download_is_owner_only(world: LettersWorld, client: TestClient) -> None:
    anonymous = client.get(pdf_url(world), follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    other = decide_case(world.portal, "广州另一家人工智能有限公司")
    sign_in(client, other.owner_username)
    assert client.get(pdf_url(world)).status_code == 404
    # Another case's letter under one's own case id is as absent as a missing one.
    crossed = f"/applications/{other.application_id}/letters/{world.case.letter.id}.pdf"
    assert client.get(crossed).status_code == 404
    assert (
        client.get(f"/applications/{other.application_id}/letters/{other.letter.id}.pdf").status_code == 200
    )


def test_a_reviewer_does_not_get_the_enterprise_download(world: LettersWorld, client: TestClient) -> None:
    sign_in(client, "letters-reviewer")
    assert client.get(pdf_url(world)).status_code == 404


def test_the_page_shows_the_chain_record_not_the_editable_decision_row(
    world: LettersWorld, client: TestClient
) -> None:
    """Rewriting decision.outcome and the amount in the database changes nothing on /verify."""
    code = world.case.letter.verification_code
    with world.portal.engine.begin() as connection:
        connection.execute(
            text("UPDATE decision SET outcome = 'rejected', granted_amount = 1 WHERE id = :id"),
            {"id": world.case.decision_id},
        )
    with world.portal.reading() as session:
        decision = session.get(Decision, world.case.decision_id)
        assert decision is not None
        record = recorded_decision(session, decision)
    assert record is not None and record.outcome == "approved"
    for lang, outcome, entry in (("zh", "予以批准", "记录序号"), ("en", "Approved", "Entry number")):
        client.cookies.set("lang", lang)
        page = client.get(f"/verify/{code}").text
        assert outcome in page and ("不予通过" not in page and "Rejected" not in page)
        assert entry in page and record.hash in page and f'data-record="{record.seq}"' in page
        assert "rejected" not in page and "approved" not in page, "no internal codes on the page"


def test_the_verify_page_shows_the_rule_version_the_letter_names(
    world: LettersWorld, client: TestClient
) -> None:
    """The letter's appendix sends a clerk here to check its rule version check code: the page shows it."""
    with world.portal.reading() as session:
        decision = session.get(Decision, world.case.letter.decision_id)
        assert decision is not None and decision.rule_hash
        rule_hash = decision.rule_hash
    code = world.case.letter.verification_code
    page = client.get(f"/verify/{code}").text
    assert "规则版本校验码" in page and f'<code class="digest" data-rule-hash>{rule_hash}</code>' in page
    assert "起施行的版本" in page
    client.cookies.set("lang", "en")
    english = client.get(f"/verify/{code}").text
    assert "Rule version check code" in english and "The version in force from" in english
    assert rule_hash in english
