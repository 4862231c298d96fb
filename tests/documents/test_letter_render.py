"""Rendered letters, read back the way an enterprise, a bank and an archive would read them."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pdf_inspect import all_text, decompressed_streams, page_texts, pdffonts, reader
from PIL import Image
from sample_letters import APPROVAL, CORRECTED_NOTICE, DISBURSEMENT, REJECTION, REMEDIES, SOURCE

from portal.documents import PaymentNotice, TraceLine, render_letter
from portal.documents.decision_json import letter_data_dict, letter_json
from portal.documents.wording import WORDING

# WeasyPrint itself leaves its bundled sRGB ICC file open when writing PDF/A (STACK-NOTES).
pytestmark = pytest.mark.filterwarnings("ignore:unclosed file.*sRGB:ResourceWarning")

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "letters"


@pytest.fixture(scope="module")
def approval_pdf() -> bytes:
    return render_letter(APPROVAL)


@pytest.fixture(scope="module")
def approval_path(approval_pdf: bytes, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("letters") / "approval.pdf"
    path.write_bytes(approval_pdf)
    return path


def test_approval_text_amounts_and_capitals(approval_pdf: bytes) -> None:
    first, appendix = page_texts(approval_pdf)
    for expected in [
        "广州市科学技术局",
        "穗科〔2026〕12号",
        "关于人工智能场景示范项目奖励政策兑现申请的批准决定",
        "广州智算未来科技有限公司",
        "91350100M000100Y43",
        "海科工商信规字〔2024〕1号）第五条",
        "批准你单位的申请",
        "¥1,000,000.00",
        "人民币壹佰万元整",
        "¥16,409.02",
        "人民币壹万陆仟肆佰零玖元零贰分",
        "50%",
        "申报材料齐全",
        "2026年11月27日",
        "—1—",
    ]:
        assert expected in first, expected
    for expected in [
        "附件",
        "审核依据明细",
        "上年度人工智能研发投入超过500万元",
        "奖励不超过投资额30%且不超过500万元",
        "海科工商信规字〔2024〕1号第五条",
        APPROVAL.rule_hash,
        APPROVAL.verification_code,
        APPROVAL.verify_url,
        "—2—",
    ]:
        assert expected in appendix, expected


def test_the_letter_fits_its_first_page_and_the_appendix_its_second(approval_pdf: bytes) -> None:
    # GB/T 9704: the signature and date stay with the body; the appendix starts a new page.
    pages = page_texts(approval_pdf)
    assert len(pages) == 2
    assert pages[0].endswith("广州市科学技术局2026年11月27日—1—")
    assert pages[1].startswith("附件")


def test_page_geometry_is_a4(approval_pdf: bytes) -> None:
    for page in reader(approval_pdf).pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)


def test_fonts_are_embedded_noto_cjk_subsets(approval_path: Path) -> None:
    fonts = pdffonts(str(approval_path))
    assert fonts, "no fonts listed"
    for font in fonts:
        assert "Noto-Serif-CJK-SC" in font["name"], font
        assert (font["emb"], font["sub"], font["uni"]) == ("yes", "yes", "yes"), font


def test_embedded_json_round_trips(approval_pdf: bytes) -> None:
    attachments = reader(approval_pdf).attachments
    assert list(attachments) == ["decision.json"]
    (payload,) = attachments["decision.json"]
    assert payload.decode("utf-8") == letter_json(APPROVAL)
    decision = json.loads(payload)
    assert decision == letter_data_dict(APPROVAL)
    assert decision["measure"]["id"] == "subsidy.haizhu_ai_scenario"
    assert decision["outcome"] == "eligible"
    assert decision["benefit"][0] == {
        "name": "reward",
        "label": {"zh": "场景示范奖励", "en": "Scenario demonstration award"},
        "amount": "1000000.00",
        "kind": "money",
    }
    assert decision["rule_hash"] == APPROVAL.rule_hash
    assert [line["criterion_id"] for line in decision["trace"]] == [
        line.criterion_id for line in APPROVAL.trace
    ]


def test_pdfa_3b_markers(approval_pdf: bytes) -> None:
    pdf_reader = reader(approval_pdf)
    catalog: Any = pdf_reader.trailer["/Root"]  # pypdf types PDF objects loosely
    xmp = catalog["/Metadata"].get_object().get_data().decode("utf-8")
    assert 'pdfaid:part="3"' in xmp
    assert 'pdfaid:conformance="B"' in xmp
    (intent,) = catalog["/OutputIntents"]
    intent = intent.get_object()
    assert intent["/S"] == "/GTS_PDFA1"
    assert intent["/DestOutputProfile"].get_object().get_data()[36:40] == b"acsp"  # an ICC profile
    # PDF/A-3 associated file: listed in the catalog's /AF with a declared relationship.
    # (WeasyPrint lists the same file specification twice: once from the name tree.)
    (number,) = {reference.idnum for reference in catalog["/AF"]}
    filespec: Any = pdf_reader.get_object(number)
    assert filespec["/AFRelationship"] == "/Data"
    assert filespec["/EF"]["/F"].get_object()["/Subtype"] == "/application/json"


def test_rendering_is_reproducible(approval_pdf: bytes) -> None:
    # A re-render for inspection can be compared byte for byte with the stored letter.
    assert render_letter(APPROVAL) == approval_pdf


def test_rejection_letter() -> None:
    text = all_text(render_letter(REJECTION))
    for expected in [
        "不予批准决定",
        "不予批准你单位的申请",
        "理由",
        "上年度人工智能研发投入为320万元，未达到500万元的申报条件。",
        "请于条件满足后重新申报。",
        "《中华人民共和国行政复议法》第二十条",
        "向广州市人民政府申请行政复议",
        "六十日内",
        "《中华人民共和国行政诉讼法》第十八条",
        "六个月内",
        "提起行政诉讼",
        "不符合",
        "穗科〔2026〕13号",
        # The annex says what its table is, so a refusal on other grounds does not read as a contradiction:
        # 符合 is said of the declared information, and the review's findings prevail.
        "“符合”指申报信息满足该项条件",
        "以正文审核意见为准",
        "不予批准的理由见正文",
    ]:
        assert expected in text, expected
    assert "人民币" not in text
    assert "¥" not in text
    # A refusal's annex never states that the rule was met, and no criterion id is printed.
    assert "符合条件" not in text
    assert "ai_rd_spend" not in text


def test_rejection_letter_in_english_states_the_appeal_bodies_and_time_limits() -> None:
    text = all_text(render_letter(replace(REJECTION, lang="en", remedy=REMEDIES.default["en"])))
    for expected in [
        "Administrative Reconsideration Law",
        "Administrative Litigation Law",
        "60 days",
        "six months",
        "the grounds for the refusal are stated in the body",
        '"Met" means the declared information meets the condition',
        "the review opinion prevails",
    ]:
        assert expected.replace(" ", "") in text, expected


def test_granted_amount_prints_with_its_label_and_capitals() -> None:
    letter = replace(APPROVAL, benefits=[], granted_amount=Decimal("800000.00"))
    text = all_text(render_letter(letter))
    assert "核定兑现金额" in text
    assert "¥800,000.00" in text
    assert "人民币捌拾万元整" in text
    english = all_text(render_letter(replace(letter, lang="en")))
    assert "Amountgranted" in english
    assert "捌拾万元整" in english


def test_an_any_of_group_is_drawn_as_a_group_and_an_unneeded_option_reads_as_such(tmp_path: Path) -> None:
    """Under 满足下列任一项即可 with its own result, an option the group did not need reads
    未满足（已由其他条件满足）, never a bare 不符合 under an eligible outcome; rows are numbered by depth."""
    group = [
        TraceLine("", "", "", "pass", kind="any"),  # a heading cites no source of its own
        TraceLine(
            "ai_rd", "上年度人工智能研发投入超过500万元", "AI R&D above 5 million", "pass", SOURCE, depth=1
        ),
        TraceLine(
            "ai_revenue",
            "上年度人工智能业务收入超过500万元",
            "AI revenue above 5 million",
            "fail",
            SOURCE,
            depth=1,
            covered=True,
        ),
    ]
    letter = replace(APPROVAL, trace=[*APPROVAL.trace[:2], *group, *APPROVAL.trace[2:]])
    pdf = render_letter(letter)
    text = all_text(pdf)
    # The heading stands out without bold: a bold face would be a second 150 KB font subset.
    path = tmp_path / "group.pdf"
    path.write_bytes(pdf)
    assert [font["name"].split("+", 1)[1] for font in pdffonts(str(path))] == ["Noto-Serif-CJK-SC"]
    assert "3满足下列任一项即可符合" in text
    assert "3.2上年度人工智能业务收入超过500万元未满足（已由其他条件满足）" in text
    assert "5示范场景已建成并投入运营" in text
    assert "序号审核项结果依据" not in text  # the criteria's one source is still said once, above
    assert "不符合" not in text and "ai_revenue" not in text
    english = all_text(render_letter(replace(letter, lang="en")))
    assert "Anyoneofthefollowing" in english and "Notmet(anotheroptionismet)" in english


def test_a_corrected_disbursement_notice_names_the_notice_it_replaces() -> None:
    text = all_text(render_letter(CORRECTED_NOTICE))
    for expected in [
        "关于拨付人工智能场景示范项目奖励政策兑现资金的通知",
        "¥1,409.50",
        "人民币壹仟肆佰零玖元伍角",
        "本通知更正并取代本机关于2026年11月20日作出的穗科〔2026〕12号通知（核验码：7KQ3H-9XW2M-C0V4D-RT8NB）。"
        "更正理由：原通知所列资金分担比例有误。",
    ]:
        assert expected in text, expected


def test_english_rendering() -> None:
    pdf = render_letter(replace(APPROVAL, lang="en"))
    text = all_text(pdf)
    for expected in [
        "GuangzhouMunicipalScienceandTechnologyBureau",
        "DecisionapprovingtheapplicationunderAIscenariodemonstrationaward",
        "Yourapplicationisapproved",
        "CNY1,000,000.00",
        "人民币壹佰万元整",
        "November27,2026",
        "Criteriaapplied",
        "AIR&Dspendabove5millionyuan",
        "Met",
    ]:
        assert expected in text, expected
    assert "批准决定" not in text
    assert len(page_texts(pdf)) == 2


def test_golden_page_png(approval_path: Path) -> None:
    """Page 1 as PNG under artifacts/letters/ for a person to look at; check it is really drawn."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    prefix = ARTIFACTS / "golden-approval"
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "60",
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(approval_path),
            str(prefix),
        ],
        check=True,
    )
    image = Image.open(prefix.with_suffix(".png")).convert("RGB")
    assert image.size == (497, 702)  # A4 at 60 dpi, as poppler rounds it
    # The issuing-unit mark and the rule below it are red, in the top third of the page.
    top = image.crop((0, 0, image.width, image.height // 3))
    red = sum(1 for r, g, b in _pixels(top) if r > 180 and g < 90 and b < 90)
    assert red > 500
    # Body text is dark ink in the middle of the page.
    middle = image.crop((0, image.height // 3, image.width, 2 * image.height // 3))
    ink = sum(1 for r, g, b in _pixels(middle) if r < 100 and g < 100 and b < 100)
    assert ink > 2000


def _pixels(image: Image.Image) -> list[tuple[int, int, int]]:
    raw = image.tobytes()
    return [(raw[i], raw[i + 1], raw[i + 2]) for i in range(0, len(raw), 3)]


def test_streams_are_readable(approval_pdf: bytes) -> None:
    # The security tests rely on walking every stream; make sure the walk finds the content.
    streams = decompressed_streams(approval_pdf)
    assert any(letter_json(APPROVAL).encode("utf-8") == stream for stream in streams)
    assert any(b"pdfaid" in stream for stream in streams)


def test_a_qualification_approval_without_an_amount() -> None:
    """A recognised status (e.g. 科技型中小企业) is approved without a benefit table."""
    text = all_text(render_letter(replace(APPROVAL, benefits=[])))
    assert "予以认定" in text
    assert "金额（大写）" not in text


def test_a_long_chinese_title_breaks_between_phrases_not_inside_a_word() -> None:
    """GB/T 9704: a title that runs to two lines breaks where the meaning allows (after the
    measure's name), never inside a word such as 政/策."""
    measure = "人工智能典型场景应用示范项目资助"
    pdf = render_letter(replace(REJECTION, measure_title_zh=measure))
    lines = reader(pdf).pages[0].extract_text().splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("关于"))
    assert lines[first] == f"关于{measure}" and lines[first + 1] == "政策兑现申请的不予批准决定"


def test_a_long_issuer_name_stays_on_one_line() -> None:
    """A district bureau's 17-character name is set smaller rather than broken as 信/息化局."""
    unit = "广州市海珠区科技工业商务和信息化局"
    for letter in (REJECTION, replace(REJECTION, issuing_unit_zh=unit)):
        lines = reader(render_letter(letter)).pages[0].extract_text().splitlines()
        assert lines[0].replace(" ", "") == letter.issuing_unit_zh


def test_english_letters_use_plain_quotes() -> None:
    text = " ".join(page.extract_text() for page in reader(render_letter(replace(APPROVAL, lang="en"))).pages)
    assert '"AI scenario' in text and "“" not in text and "”" not in text


def test_a_district_department_names_its_district_government_for_reconsideration() -> None:
    """行政复议法 第二十四条: a department is reviewed by its own level of government."""
    for lang, district, city in (
        ("zh", "向广州市海珠区人民政府申请行政复议", "向广州市人民政府"),
        ("en", "People's Government of Haizhu District", "Guangzhou Municipal People's Government"),
    ):
        remedy = REMEDIES.for_unit("hzkgxj", lang)
        assert district in remedy and city not in remedy
        assert city in REMEDIES.for_unit("gzsti", lang)  # a city bureau: the city government


REASON = {
    "zh": "上年度人工智能研发投入为320万元，未达到500万元的申报条件，请于条件满足后重新申报。",
    "en": "The AI R&D spend of the last year was 3.2 million yuan, below the 5 million yuan required.",
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_issuer_and_date_never_stand_alone_on_a_page(lang: str) -> None:
    """GB/T 9704 7.3.5: a one-line refusal pushes the signature over; body text goes with it."""
    letter = replace(REJECTION, lang=lang, reasons=REASON[lang], remedy=REMEDIES.default[lang])
    unit = letter.issuing_unit_zh if lang == "zh" else letter.issuing_unit_en.replace(" ", "")
    signature = unit + ("2026年11月27日" if lang == "zh" else "November27,2026")
    [page] = [p for p in page_texts(render_letter(letter)) if signature in p]
    assert page.index(signature) > 0, "the signature block opens its page alone"
    # ... nor with the one-line verification note alone: real body lines go over with it.
    note = WORDING[lang]["verify_note"].replace(" ", "")
    assert page.index(note) > 0, "only the verification note stands before the signature"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_source_every_criterion_cites_is_said_once_above_the_annex(lang: str) -> None:
    """Five rows repeating one long citation buried the criteria: a shared source is said once, in
    a line above the table, which then has no source column; different sources keep the column."""
    words = WORDING[lang]
    shared = page_texts(render_letter(replace(APPROVAL, lang=lang)))[1]
    cited = SOURCE.replace(" ", "")
    assert (
        shared.count(cited) == 1
        and f"{words['col.source']}{words['colon']}{cited}".replace(" ", "") in shared
    )
    other = "穗科规字〔2025〕3号 第二条"
    line = TraceLine("track", "属于重点方向", "In a priority track", "pass", other)
    mixed = page_texts(render_letter(replace(APPROVAL, lang=lang, trace=[*APPROVAL.trace, line])))[1]
    assert mixed.count(cited) == len(APPROVAL.trace) and other.replace(" ", "") in mixed


def test_a_numbered_heading_goes_over_with_its_one_line_text() -> None:
    """GB/T 9704: 二、说明： never ends a page with its text on the next (a one-line reason)."""
    letter = replace(
        DISBURSEMENT,
        measure_title_zh="人工智能典型场景应用示范项目资助",
        measure_source="海珠区科技工业商务和信息化局规范性文件（海科工商信规字〔2024〕1号）；"
        "广州市人工智能产业链高质量发展三年行动计划（2021—2023年）场景应用示范资助条款；"
        "行动计划三（三）2 开展100个人工智能典型场景应用示范",
        reasons=["资金已拨付。"],
    )
    [page] = [p for p in page_texts(render_letter(letter)) if "二、说明：" in p]
    assert "二、说明：资金已拨付。" in page


# The demo's paid 拨付通知 (Haizhu AI scenario grant), at its real size: a long source, one
# amount, the payment paragraph (二、) and a one-line note under 三、说明：.
PAID_NOTICE = replace(
    DISBURSEMENT,
    doc_number="海科工商信〔2026〕3号",
    issuing_unit_zh="广州市海珠区科技工业商务和信息化局",
    issuing_unit_en="Haizhu District Bureau of Science, Technology, Industry, Commerce and "
    "Information Technology",
    enterprise_name="广州智瞳城市视觉科技有限公司",
    measure_title_zh="人工智能典型场景应用示范项目资助",
    measure_title_en="Grant for AI scenario demonstration projects",
    measure_source="海珠区科技工业商务和信息化局规范性文件（海科工商信规字〔2024〕1号）；"
    "广州市人工智能产业链高质量发展三年行动计划（2021—2023年）场景应用示范资助条款；"
    "行动计划三（三）2 开展100个人工智能典型场景应用示范",
    granted_amount=Decimal("3000000.00"),
    benefits=[],
    reasons=["资金已拨付。"],
    payment=PaymentNotice(date(2026, 12, 7), "中国银行广州智瞳支行", "****5726"),
)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_paid_notice_fills_its_first_page_before_the_signature_goes_over(lang: str) -> None:
    """The one-line note under 三、说明： stays on page 1 with its heading; only the verification
    note goes over with the signature, instead of the whole 三、 leaving a third of page 1 blank."""
    words = WORDING[lang]
    first, second, *_ = page_texts(render_letter(replace(PAID_NOTICE, lang=lang)))
    heading = words["reasons.after_payment"].replace(" ", "")
    assert f"{heading}资金已拨付。" in first
    assert second.startswith(words["verify_note"].replace(" ", ""))


def test_the_rule_hash_is_named_and_explained_for_a_clerk(approval_pdf: bytes) -> None:
    """A clerk reads what the long code is for and where to check it, not a hash algorithm's name."""
    _, appendix = page_texts(approval_pdf)
    flat = appendix.replace("\n", "")
    assert "规则版本校验码" in flat and "用于核对审核本案所依据的政策规则版本" in flat and "文书核验" in flat
    assert "哈希" not in flat and "SHA-256" not in flat
    english = "".join(
        all_text(render_letter(replace(APPROVAL, lang="en"))).split()
    )  # the text layer drops spaces
    assert "Ruleversioncheckcode" in english and "whichversionofthepolicyrulesdecided" in english
    assert "hash" not in english.lower() and "SHA-256" not in english


def test_a_nested_rows_number_and_an_unneeded_options_result_keep_their_words_whole() -> None:
    """7.5.1 is never split as 7.5. / 1, and 未满足 stands on its own line above its note, which
    is never broken inside a word (其/他)."""
    nested = [
        TraceLine("", "", "", "pass", kind="any"),
        TraceLine(
            "ai_rd", "上年度人工智能研发投入超过500万元", "AI R&D above 5 million", "pass", SOURCE, depth=1
        ),
        TraceLine("", "", "", "pass", kind="all", depth=1),
        TraceLine(
            "staff", "科技人员指标得分不得为0分（科技人员占比不低于10%）", "Staff", "pass", SOURCE, depth=2
        ),
        TraceLine(
            "rev", "上年度人工智能业务收入超过500万元", "AI revenue", "fail", SOURCE, depth=1, covered=True
        ),
    ]
    letter = replace(APPROVAL, trace=[*APPROVAL.trace[:2], *nested])
    lines = [
        line.strip()
        for page in reader(render_letter(letter)).pages
        for line in page.extract_text().splitlines()
    ]
    assert any(line.startswith("3.2.1 ") for line in lines), [line for line in lines if "3.2" in line]
    assert any(line.endswith("未满足") for line in lines) and "（已由其他条件满足）" in lines, lines


# The demo's corrected 批准决定 (Haizhu generative-AI filing award) at its real size: the added
# opening paragraph pushes the signature to page 2, under the corrected remarks and the reason
# for granting less.
CORRECTED_APPROVAL = replace(
    PAID_NOTICE,
    kind="approval",
    doc_number="海科工商信〔2026〕6号",
    measure_title_zh="生成式人工智能（大模型）备案奖励",
    measure_title_en="Award for filing a generative AI (large) model",
    measure_source="海珠区科技工业商务和信息化局规范性文件（海科工商信规字〔2024〕1号）生成式人工智能"
    "（大模型）备案奖励条款",
    granted_amount=Decimal("800000.00"),
    payment=None,
    reasons=[
        "经复核，企业已按要求完成生成式人工智能服务备案，公示期满无异议，予以批准。",
        "按备案奖励年度预算及同批次申报数量核定。",
    ],
    supersedes_code="D8TSX-QWTYV-VEW1M-Y648K",
    supersedes_doc_number="海科工商信〔2026〕1号",
    supersedes_issued_on=date(2026, 12, 1),
    correction_reason="原决定书审核意见表述有误，予以更正。",
)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_correction_names_the_letter_it_replaces_and_why_before_its_corrected_text(lang: str) -> None:
    """It cites the old letter as a reader would (number, day, code), then prints the corrected
    remarks as its remarks: the reason for correcting never stands in for them."""
    words = WORDING[lang]
    text = all_text(render_letter(replace(CORRECTED_APPROVAL, lang=lang)))
    opening = {
        "zh": "本决定书更正并取代本机关于2026年12月1日作出的海科工商信〔2026〕1号决定书"
        "（核验码：D8TSX-QWTYV-VEW1M-Y648K）。更正理由：原决定书审核意见表述有误，予以更正。",
        "en": "ThisdecisioncorrectsandreplacesourdecisionNo.海科工商信〔2026〕1号ofDecember1,2026"
        "(verificationcodeD8TSX-QWTYV-VEW1M-Y648K).Reasonforthecorrection:原决定书审核意见表述有误，予以更正。",
    }[lang]
    assert opening in text
    remarks = words["reasons.approval"].replace(" ", "") + "经复核，企业已按要求完成生成式人工智能服务备案"
    assert text.index(opening) < text.index(words["decision.approval"].replace(" ", "")) < text.index(remarks)
    assert text.count("原决定书审核意见表述有误") == 1
    decision = json.loads(reader(render_letter(CORRECTED_APPROVAL)).attachments["decision.json"][0])
    assert decision["supersedes_code"] == "D8TSX-QWTYV-VEW1M-Y648K"
    assert decision["supersedes"] == {
        "doc_number": "海科工商信〔2026〕1号",
        "issued_on": "2026-12-01",
        "reason": "原决定书审核意见表述有误，予以更正。",
    }


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_correction_pushed_over_keeps_a_line_of_its_text_with_the_signature(lang: str) -> None:
    """The signature's page opens with the last remark, not with the verification note alone."""
    words = WORDING[lang]
    first, second, *_ = page_texts(render_letter(replace(CORRECTED_APPROVAL, lang=lang)))
    assert "经复核，企业已按要求完成生成式人工智能服务备案" in first
    assert second.startswith(
        "按备案奖励年度预算及同批次申报数量核定。" + words["verify_note"].replace(" ", "")
    )


def test_only_a_correction_names_a_letter_it_replaces() -> None:
    with pytest.raises(ValueError, match="supersedes_issued_on"):
        replace(CORRECTED_APPROVAL, supersedes_issued_on=None)
    with pytest.raises(ValueError, match="only a correction"):
        replace(APPROVAL, correction_reason="笔误")
