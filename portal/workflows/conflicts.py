"""Conflict of interest between an expert and an applicant, as pure predicates.

Assigning refuses an expert with any conflict; a conflict found after scoring excludes
that expert's score from the consensus. Both uses call the same function.
"""

from dataclasses import dataclass, field
from typing import Literal

ConflictReason = Literal["same_enterprise", "declared_relationship", "same_employer"]


@dataclass(frozen=True, kw_only=True)
class ExpertAffiliation:
    """What is known about an expert's ties: their own enterprise account, employer, declarations.

    `employer_uscc` is the unified social credit code of the expert's employer, so that
    spelling variants of a company name cannot hide a conflict.
    """

    expert_id: int
    enterprise_id: int | None = None
    employer_uscc: str | None = None
    declared_enterprise_ids: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True, kw_only=True)
class ApplicantParties:
    """The applying enterprise and the employers of the people named on its application."""

    enterprise_id: int
    uscc: str
    team_employer_usccs: frozenset[str] = field(default_factory=frozenset)


def conflict_reasons(expert: ExpertAffiliation, applicant: ApplicantParties) -> tuple[ConflictReason, ...]:
    """Every reason the expert may not judge this application; empty means no conflict.

    - same_enterprise: the expert belongs to the applicant (its account or its payroll);
    - declared_relationship: the expert declared a tie to the applicant;
    - same_employer: the expert works where a member of the applicant's team works.
    """
    reasons: list[ConflictReason] = []
    if expert.enterprise_id == applicant.enterprise_id or _same_code(expert.employer_uscc, applicant.uscc):
        reasons.append("same_enterprise")
    if applicant.enterprise_id in expert.declared_enterprise_ids:
        reasons.append("declared_relationship")
    if expert.employer_uscc is not None and any(
        _same_code(expert.employer_uscc, code) for code in applicant.team_employer_usccs
    ):
        reasons.append("same_employer")
    return tuple(reasons)


def has_conflict(expert: ExpertAffiliation, applicant: ApplicantParties) -> bool:
    return bool(conflict_reasons(expert, applicant))


def _same_code(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.strip().upper() == b.strip().upper()
