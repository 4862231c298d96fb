"""The fixed wording of letters in Chinese and English.

The template holds the layout and this module holds the words, so that a change of wording
(the policy office will ask for some) touches one place per language and the two
languages can be checked side by side. `{placeholders}` are filled with str.format from
letter values; the result still passes through Jinja2's autoescaping.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from portal.documents.model import Language, LetterKind
from portal.rules.errors import RuleFileError
from portal.rules.yaml_loader import load_yaml

Wording = dict[str, str]

_ZH: Final[Wording] = {
    "title.approval": "关于{measure}政策兑现申请的批准决定",
    "title.rejection": "关于{measure}政策兑现申请的不予批准决定",
    "title.disbursement": "关于拨付{measure}政策兑现资金的通知",
    "title.suspension": "关于暂停{measure}资格的决定",
    "title.reinstatement": "关于恢复{measure}资格的决定",
    "title.revocation": "关于撤销{measure}资格的决定",
    "addressee": "{name}（统一社会信用代码：{uscc}）：",
    "intro.approval": "你单位提交的“{measure}”政策兑现申请收悉。经审核，依据{source}，决定如下：",
    "intro.rejection": "你单位提交的“{measure}”政策兑现申请收悉。经审核，依据{source}，决定如下：",
    "intro.disbursement": "你单位“{measure}”政策兑现事项已经批准。依据{source}，现将资金拨付事项通知如下：",
    "intro.suspension": "你单位经批准列入“{measure}”的{subject}，经核查，依据{source}，决定如下：",
    "intro.reinstatement": "你单位经批准列入“{measure}”的{subject}，经核查，依据{source}，决定如下：",
    "intro.revocation": "你单位经批准列入“{measure}”的{subject}，经核查，依据{source}，决定如下：",
    "decision.suspension": "一、自本决定作出之日起暂停该目录资格。"
    "暂停期间，该产品不享受同等条件下优先采购的支持。",
    "decision.reinstatement": "一、自本决定作出之日起恢复该目录资格。",
    "decision.revocation": "一、自本决定作出之日起撤销该目录资格。该条目转入目录档案，继续公开。",
    "reasons.suspension": "二、理由：",
    "reasons.reinstatement": "二、理由：",
    "reasons.revocation": "二、理由：",
    "decision.approval": "一、批准你单位的申请，核定兑现内容如下：",
    "decision.approval.status": "一、批准你单位的申请，予以认定。",
    "decision.rejection": "一、不予批准你单位的申请。",
    "decision.disbursement": "一、拨付资金如下：",
    "reasons.approval": "二、审核意见：",
    "reasons.rejection": "二、理由：",
    "reasons.disbursement": "二、说明：",
    # A notice that states its payment: the payment is 二, and the disbursing comment moves to 三.
    "paid": "二、上述资金已于{date}拨付至你单位收款账户（开户银行：{bank}；账号：{account}）。",
    "paid.no_account": "二、上述资金已于{date}拨付至你单位收款账户。",
    "reasons.after_payment": "三、说明：",
    # A correction names what it replaces as a reader cites a letter: by its number and day.
    "noun.approval": "决定书",
    "noun.rejection": "决定书",
    "noun.disbursement": "通知",
    "noun.suspension": "决定书",
    "noun.reinstatement": "决定书",
    "noun.revocation": "决定书",
    "supersedes": "本{noun}更正并取代本机关于{date}作出的{number}{noun}（核验码：{code}）。",
    "correction_reason": "更正理由：{reason}",
    "verify_note": "本文书真伪可凭附件所列核验码或二维码在线核验。",
    "granted": "核定兑现金额",
    "colon": "：",
    "semicolon": "；",
    "col.item": "项目",
    "col.figures": "金额（小写）",
    "col.capitals": "金额（大写）",
    "rmb": "人民币",
    "appendix": "附件",
    "appendix.title": "审核依据明细",
    # "符合" reads against the declared figures: a refusal on what the review found is not a contradiction.
    "appendix.refusal_note": (
        "本表按申报信息列明核对的申报条件及其依据，“符合”指申报信息满足该项条件；"
        "审核查明的情况与申报信息不一致的，以正文审核意见为准，不予批准的理由见正文。"
    ),
    "measure": "政策措施",
    "rule_outcome": "规则评估结论",
    "col.no": "序号",
    "col.criterion": "审核项",
    "col.result": "结果",
    "col.source": "依据",
    "result.pass": "符合",
    "result.fail": "不符合",
    "result.unknown": "待定",
    "result.fail_covered": "未满足",
    "result.unknown_covered": "未知",
    # Under a covered row's result, on its own line: it never breaks inside a word.
    "result.covered_note": "（已由其他条件满足）",
    "group.any": "满足下列任一项即可",
    "group.all": "同时满足下列各项",
    "group.not": "不得满足下列条件",
    "outcome.eligible": "符合条件",
    "outcome.ineligible": "不符合条件",
    "outcome.undetermined": "尚待补充材料",
    "rule_hash": "规则版本校验码",
    "rule_hash_note": "用于核对审核本案所依据的政策规则版本：在“文书核验”页面输入上列核验码，"
    "页面所列规则版本校验码应与此一致。",
    "code": "核验码",
    "verify_url": "核验网址",
    "no_trace": "（无逐项审核记录）",
}

_EN: Final[Wording] = {
    "title.approval": "Decision approving the application under {measure}",
    "title.rejection": "Decision refusing the application under {measure}",
    "title.disbursement": "Notice of disbursement under {measure}",
    "title.suspension": "Decision suspending a listing under {measure}",
    "title.reinstatement": "Decision reinstating a listing under {measure}",
    "title.revocation": "Decision revoking a listing under {measure}",
    "addressee": "To {name} (Unified Social Credit Code {uscc}):",
    "intro.approval": 'We have received your application under "{measure}". Having reviewed it under '
    "{source}, we decide as follows:",
    "intro.rejection": 'We have received your application under "{measure}". Having reviewed it under '
    "{source}, we decide as follows:",
    "intro.disbursement": 'Your application under "{measure}" has been approved. Under {source}, the '
    "funds are disbursed as follows:",
    "intro.suspension": 'Your {subject} is listed under "{measure}". Having reviewed it under {source}, '
    "we decide as follows:",
    "intro.reinstatement": 'Your {subject} is listed under "{measure}". Having reviewed it under {source}, '
    "we decide as follows:",
    "intro.revocation": 'Your {subject} is listed under "{measure}". Having reviewed it under {source}, '
    "we decide as follows:",
    "decision.suspension": "1. The listing is suspended from the date of this decision. "
    "While it is suspended, the product does not enjoy priority purchase under equal conditions.",
    "decision.reinstatement": "1. The listing is reinstated from the date of this decision.",
    "decision.revocation": "1. The listing is revoked from the date of this decision. The entry moves to the "
    "catalogue's archive, where it stays public.",
    "reasons.suspension": "2. Reasons:",
    "reasons.reinstatement": "2. Reasons:",
    "reasons.revocation": "2. Reasons:",
    "decision.approval": "1. Your application is approved. The benefit granted is:",
    "decision.approval.status": "1. Your application is approved and the status is recognised.",
    "decision.rejection": "1. Your application is refused.",
    "decision.disbursement": "1. The following amounts are disbursed:",
    "reasons.approval": "2. Reviewer's remarks:",
    "reasons.rejection": "2. Reasons:",
    "reasons.disbursement": "2. Notes:",
    "paid": "2. The funds above were paid on {date} into your unit's account (bank: {bank}; "
    "account: {account}).",
    "paid.no_account": "2. The funds above were paid on {date} into your unit's account.",
    "reasons.after_payment": "3. Notes:",
    "noun.approval": "decision",
    "noun.rejection": "decision",
    "noun.disbursement": "notice",
    "noun.suspension": "decision",
    "noun.reinstatement": "decision",
    "noun.revocation": "decision",
    "supersedes": "This {noun} corrects and replaces our {noun} No. {number} of {date} "
    "(verification code {code}).",
    # Follows the sentence above in the same paragraph: the English one starts with its space.
    "correction_reason": " Reason for the correction: {reason}",
    "verify_note": "This document can be verified online with the code or QR code in the appendix.",
    "granted": "Amount granted",
    "colon": ": ",
    "semicolon": "; ",
    "col.item": "Item",
    "col.figures": "In figures",
    "col.capitals": "In words (大写)",
    "rmb": "人民币",
    "appendix": "Appendix",
    "appendix.title": "Criteria applied",
    "appendix.refusal_note": (
        "This table lists the conditions checked against the information declared, and their "
        'sources; "Met" means the declared information meets the condition. Where the review found '
        "the facts to differ from what was declared, the review opinion prevails: the grounds for "
        "the refusal are stated in the body of the decision."
    ),
    "measure": "Measure",
    "rule_outcome": "Rule outcome",
    "col.no": "No.",
    "col.criterion": "Criterion",
    "col.result": "Result",
    "col.source": "Source",
    "result.pass": "Met",
    "result.fail": "Not met",
    "result.unknown": "Unknown",
    "result.fail_covered": "Not met",
    "result.unknown_covered": "Unknown",
    "result.covered_note": "(another option is met)",
    "group.any": "Any one of the following",
    "group.all": "All of the following",
    "group.not": "The following must not hold",
    "outcome.eligible": "eligible",
    "outcome.ineligible": "not eligible",
    "outcome.undetermined": "undetermined",
    "rule_hash": "Rule version check code",
    "rule_hash_note": "Shows which version of the policy rules decided this case: enter the verification "
    'code above on the "Verify a decision letter" page, which shows the same rule version check code.',
    "code": "Verification code",
    "verify_url": "Verify at",
    "no_trace": "(no per-criterion record)",
}

WORDING: Final[dict[Language, Wording]] = {"zh": _ZH, "en": _EN}


def wording_for(lang: Language, kind: LetterKind) -> Wording:
    """The words of one letter, with the kind-specific entries under plain keys (title, intro, ...)."""
    words = WORDING[lang]
    chosen = dict(words)
    for key in ("title", "intro", "decision", "reasons", "noun"):
        chosen[key] = words[f"{key}.{kind}"]
    return chosen


@dataclass(frozen=True)
class Remedies:
    """The right-of-appeal clause a refusal letter prints, per issuing unit, from the pack.

    Which body hears an administrative reconsideration depends on the unit that decided (a
    city bureau's decisions go to the city government, a vertically led tax office's to the
    tax service one level up), so the pack gives a default clause and per-unit exceptions.
    """

    default: dict[Language, str]
    units: dict[str, dict[Language, str]] = field(default_factory=dict)

    def for_unit(self, unit: str, lang: Language) -> str:
        return self.units.get(unit, self.default)[lang]


def load_remedies(path: Path) -> Remedies:
    """Read the pack's remedy clauses; raises ValueError naming the file and the bad field."""
    try:
        raw = load_yaml(path)
    except RuleFileError as exc:
        raise ValueError(f"cannot read YAML: {exc}") from exc
    if not isinstance(raw, dict) or set(raw) - {"default", "units"}:
        raise ValueError(f"{path}: top level: a mapping with `default` and optional `units`")
    units = raw.get("units") or {}
    if not isinstance(units, dict):
        raise ValueError(f"{path}: units: must map unit codes to clauses")
    return Remedies(
        default=_clause(path, "default", raw.get("default")),
        units={str(code): _clause(path, f"units.{code}", value) for code, value in units.items()},
    )


def _clause(path: Path, where: str, value: object) -> dict[Language, str]:
    zh = value.get("zh") if isinstance(value, dict) else None
    en = value.get("en") if isinstance(value, dict) else None
    if not (isinstance(zh, str) and zh.strip() and isinstance(en, str) and en.strip()):
        raise ValueError(f"{path}: {where}: needs non-empty `zh` and `en` texts")
    return {"zh": zh.strip(), "en": en.strip()}
