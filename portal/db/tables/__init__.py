"""Every table of the portal; importing this module registers them on `SQLModel.metadata`."""

# `base` sets the constraint naming convention, so it must load before any table module;
# a package's __init__ runs before its submodules, and this import sorts first.
from portal.db.tables import base
from portal.db.tables.applications import (
    Application,
    ApplicationAnswers,
    ApplicationAttachment,
    Attachment,
    SubmittedAttachment,
    Transition,
)
from portal.db.tables.audit import AuditCheckpoint, AuditEvent
from portal.db.tables.banks import ApiKey, Bank, BankAccessLog, BankConsent, Loan
from portal.db.tables.base import DecisionOutcome, LetterKind, ListingStatus, Role
from portal.db.tables.blobs import AttachmentBlob
from portal.db.tables.decisions import Decision, DocNumberCounter, Letter, Objection
from portal.db.tables.experts import ExpertAssignment, ExpertConflict, ExpertScore
from portal.db.tables.listings import Listing, ListingEvent
from portal.db.tables.notifications import Notification
from portal.db.tables.payments import (
    BatchStatus,
    LineOutcome,
    PaymentBatch,
    PaymentLine,
    PaymentReturn,
    PaymentReturnLine,
    ReturnResult,
)
from portal.db.tables.people import Enterprise, EnterpriseProfile, SavedView, User
from portal.db.tables.screening import RunStatus, ScreeningRun, SelfCheckResult
from portal.db.tables.sessions import PasswordReset, WebSession
from portal.db.tables.verification import EnterpriseClaim, EnterpriseVerification

__all__ = [
    "ApiKey",
    "Application",
    "ApplicationAnswers",
    "ApplicationAttachment",
    "Attachment",
    "AttachmentBlob",
    "AuditCheckpoint",
    "AuditEvent",
    "Bank",
    "BankAccessLog",
    "BankConsent",
    "BatchStatus",
    "Decision",
    "DecisionOutcome",
    "DocNumberCounter",
    "Enterprise",
    "EnterpriseClaim",
    "EnterpriseProfile",
    "EnterpriseVerification",
    "ExpertAssignment",
    "ExpertConflict",
    "ExpertScore",
    "Letter",
    "LetterKind",
    "LineOutcome",
    "Listing",
    "ListingEvent",
    "ListingStatus",
    "Loan",
    "Notification",
    "Objection",
    "PasswordReset",
    "PaymentBatch",
    "PaymentLine",
    "PaymentReturn",
    "PaymentReturnLine",
    "ReturnResult",
    "Role",
    "RunStatus",
    "SavedView",
    "ScreeningRun",
    "SelfCheckResult",
    "SubmittedAttachment",
    "Transition",
    "User",
    "WebSession",
    "base",
]
