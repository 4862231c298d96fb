"""The plain values a decision letter is rendered from.

The letter engine is pure: the services layer copies what it knows about a decision into
these frozen records, and the renderer never looks anything up. Validation happens here,
once, so that a malformed decision fails before WeasyPrint spends time on it and names the
field that is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, tzinfo
from decimal import Decimal
from typing import Literal, cast, get_args

LetterKind = Literal["approval", "rejection", "disbursement", "suspension", "reinstatement", "revocation"]
# Letters about a public register entry: they act on a listing, not on the application, and need reasons.
LISTING_LETTER_KINDS: frozenset[str] = frozenset({"suspension", "reinstatement", "revocation"})
# Letters that take something away, and so must state the right of appeal (行政复议/行政诉讼).
APPEALABLE_KINDS: frozenset[str] = frozenset({"rejection", "suspension", "revocation"})
Language = Literal["zh", "en"]
BenefitKind = Literal["money", "ratio", "number"]
CriterionOutcome = Literal["pass", "fail", "unknown"]
# A criterion, or the heading of a group of the lines below it ("any one of the following").
TraceKind = Literal["criterion", "any", "all", "not"]


@dataclass(frozen=True, slots=True)
class BenefitLine:
    """One named benefit value of a decision, e.g. a reward in yuan or a compensation ratio."""

    name: str
    label_zh: str
    label_en: str
    amount: Decimal
    kind: BenefitKind = "money"

    def __post_init__(self) -> None:
        _require_text(
            f"benefit {self.name!r}", name=self.name, label_zh=self.label_zh, label_en=self.label_en
        )
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite():
            raise ValueError(f"benefit {self.name!r}: amount must be a finite Decimal, got {self.amount!r}")
        if self.kind not in get_args(BenefitKind):
            raise ValueError(f"benefit {self.name!r}: kind must be one of {get_args(BenefitKind)}")
        if self.kind == "money" and self.amount < 0:
            raise ValueError(f"benefit {self.name!r}: a money amount cannot be negative")


@dataclass(frozen=True, slots=True)
class TraceLine:
    """One criterion the decision relied on, with the legal source it cites, or a group's heading.

    The lines after a group's heading with a greater `depth` are its members. `covered` marks a
    line inside an "any one of" group that another option meets: not met, and not needed.
    A heading's words come from the letter's wording, so it carries no id or message.
    """

    criterion_id: str
    message_zh: str
    message_en: str
    outcome: CriterionOutcome
    source: str = ""
    kind: TraceKind = "criterion"
    depth: int = 0
    covered: bool = False

    def __post_init__(self) -> None:
        if self.kind not in get_args(TraceKind):
            raise ValueError(f"trace line {self.criterion_id!r}: kind must be one of {get_args(TraceKind)}")
        if self.kind == "criterion":
            _require_text(
                f"trace line {self.criterion_id!r}",
                criterion_id=self.criterion_id,
                message_zh=self.message_zh,
                message_en=self.message_en,
            )
        if isinstance(self.depth, bool) or not isinstance(self.depth, int) or self.depth < 0:
            raise ValueError(f"trace line {self.criterion_id!r}: depth must be an int of at least 0")
        if self.outcome not in get_args(CriterionOutcome):
            raise ValueError(
                f"trace line {self.criterion_id!r}: outcome must be one of {get_args(CriterionOutcome)}"
            )


@dataclass(frozen=True, slots=True)
class PaymentNotice:
    """When a disbursement was paid and into which account, as its notice prints it.

    `paid_on` is the day the payment was recorded paid, in the issuing city. The account is
    printed masked (`****1234`): the notice travels further than the payment file does. Both
    the bank and the account are None when the enterprise gave no account to print.
    """

    paid_on: date
    bank_name: str | None = None
    account_masked: str | None = None

    def __post_init__(self) -> None:
        if type(self.paid_on) is not date:
            raise ValueError(f"payment: paid_on must be a datetime.date, got {self.paid_on!r}")
        if (self.bank_name is None) != (self.account_masked is None):
            raise ValueError("payment: the bank and the account are given together or not at all")
        if self.bank_name is not None:
            _require_text("payment", bank_name=self.bank_name, account_masked=cast(str, self.account_masked))
        if self.account_masked is not None and not self.account_masked.startswith("****"):
            raise ValueError("payment: the account must be masked to its last digits (****1234)")


@dataclass(frozen=True, slots=True)
class LetterData:
    """Everything printed on (and embedded in) one decision letter.

    `measure_source` is the legal source as one line: the document and its article.
    `reasons` is either a list of reasons or one free-text comment from the reviewer.
    `supersedes_code` names the verification code of the letter this one corrects; a correction
    also names that letter's number and day (`supersedes_doc_number`, `supersedes_issued_on`) and
    why it is corrected (`correction_reason`), while `reasons` are the corrected text it prints.
    `zone` is the issuing city's time zone, in which `issued_on` starts (the PDF's dates).
    `subject` names what a letter about a register entry acts on (the product and its entry).
    """

    kind: LetterKind
    lang: Language
    doc_number: str
    issuing_unit_zh: str
    issuing_unit_en: str
    issued_on: date
    enterprise_name: str
    enterprise_uscc: str
    measure_id: str
    measure_title_zh: str
    measure_title_en: str
    measure_source: str
    outcome: str
    reasons: list[str] | str
    rule_hash: str
    verification_code: str
    verify_url: str
    benefits: list[BenefitLine] = field(default_factory=list)
    trace: list[TraceLine] = field(default_factory=list)
    supersedes_code: str | None = None
    zone: tzinfo = UTC
    subject: str | None = None
    # 核定兑现金额: the money the decision grants (None for a status-only decision).
    granted_amount: Decimal | None = None
    # The right-of-appeal clause, in the letter's language, from the pack (required on refusals).
    remedy: str = ""
    # A disbursement notice's payment: the day it was paid and the account (None on other letters).
    payment: PaymentNotice | None = None
    supersedes_doc_number: str | None = None
    supersedes_issued_on: date | None = None
    correction_reason: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in get_args(LetterKind):
            raise ValueError(f"letter: kind must be one of {get_args(LetterKind)}, got {self.kind!r}")
        if self.lang not in get_args(Language):
            raise ValueError(f"letter: lang must be one of {get_args(Language)}, got {self.lang!r}")
        _require_text(
            "letter",
            doc_number=self.doc_number,
            issuing_unit_zh=self.issuing_unit_zh,
            issuing_unit_en=self.issuing_unit_en,
            enterprise_name=self.enterprise_name,
            enterprise_uscc=self.enterprise_uscc,
            measure_id=self.measure_id,
            measure_title_zh=self.measure_title_zh,
            measure_title_en=self.measure_title_en,
            measure_source=self.measure_source,
            outcome=self.outcome,
            verification_code=self.verification_code,
        )
        # datetime is a subclass of date; a timestamp here would print a time-zone-dependent day.
        if type(self.issued_on) is not date:
            raise ValueError(f"letter: issued_on must be a datetime.date, got {self.issued_on!r}")
        if not self.rule_hash or any(char.isspace() for char in self.rule_hash):
            raise ValueError("letter: rule_hash must be a non-empty string without spaces")
        if not self.verify_url.startswith(("https://", "http://")):
            raise ValueError(f"letter: verify_url must be an absolute http(s) URL, got {self.verify_url!r}")
        if not all(isinstance(reason, str) for reason in self.reason_list):
            raise ValueError("letter: reasons must be a string or a list of strings")
        if self.kind == "rejection" and not any(reason.strip() for reason in self.reason_list):
            raise ValueError("letter: a rejection must state its reasons")
        if self.kind in LISTING_LETTER_KINDS and (
            not self.subject or not any(reason.strip() for reason in self.reason_list)
        ):
            raise ValueError(f"letter: a {self.kind} letter must name its subject and state its reasons")
        if self.granted_amount is not None and (
            not isinstance(self.granted_amount, Decimal)
            or not self.granted_amount.is_finite()
            or self.granted_amount < 0
        ):
            raise ValueError(
                f"letter: granted_amount must be a Decimal of at least 0, got {self.granted_amount!r}"
            )
        if self.kind == "disbursement" and self.granted_amount is None and not self.benefits:
            raise ValueError("letter: a disbursement letter must carry the granted amount or a benefit")
        if self.payment is not None and self.kind != "disbursement":
            raise ValueError(f"letter: only a disbursement letter states a payment, not a {self.kind} letter")
        self._check_supersedes()
        if self.kind in APPEALABLE_KINDS and not self.remedy.strip():
            raise ValueError(f"letter: a {self.kind} letter must state the right of appeal (remedy)")

    def _check_supersedes(self) -> None:
        """A correction names the letter it replaces by code, number and day; no other letter does."""
        if self.supersedes_code is None:
            if (self.supersedes_doc_number, self.supersedes_issued_on, self.correction_reason) != (None,) * 3:
                raise ValueError("letter: only a correction names a letter it replaces or why it corrects it")
            return
        _require_text(
            "letter",
            supersedes_code=self.supersedes_code,
            supersedes_doc_number=cast(str, self.supersedes_doc_number),  # checked as a string here
            **({"correction_reason": self.correction_reason} if self.correction_reason is not None else {}),
        )
        if type(self.supersedes_issued_on) is not date:
            raise ValueError(
                f"letter: supersedes_issued_on must be a datetime.date, got {self.supersedes_issued_on!r}"
            )

    @property
    def reason_list(self) -> list[str]:
        """The reasons as a list, whichever form the caller passed."""
        return [self.reasons] if isinstance(self.reasons, str) else list(self.reasons)


def _require_text(where: str, **values: str) -> None:
    for name, value in values.items():
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{where}: {name} must be a non-empty string")
