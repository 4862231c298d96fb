"""What a use case raises when it will not do what was asked; nothing has been written then.

Each error maps to one HTTP status (web) or one CLI message, so callers never inspect text:
NotFound → 404, Forbidden → 403, Conflict → 409, ValidationFailed → 422, Refused → 409/403
by `code`, BadStoredState → 500 with a message an operator can act on.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


class ServiceError(Exception):
    """Base of every refusal a service gives; the transaction has been rolled back."""


class _Worded(ServiceError):
    """An error that carries a sentence for people in each language."""

    message_zh: str
    message_en: str

    def said_in(self, lang: str) -> str:
        """The sentence in `lang`; the English one is written lower-case to read inside a log
        line, so a page gets it with a capital and a full stop."""
        if lang != "en":
            return self.message_zh
        text = self.message_en.strip()
        if not text:
            return text
        text = text[0].upper() + text[1:]
        return text if text[-1] in ".!?" else f"{text}."


class NotFound(ServiceError):
    """No such object, or one the actor may not see: the two are deliberately indistinguishable."""

    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"{kind} {key} not found")
        self.kind = kind
        self.key = key


class Forbidden(_Worded):
    """The actor may see the object but not do this to it (e.g. an undeclared expert reading files)."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en


class Conflict(ServiceError):
    """The object changed since the caller read it, or the request clashes with stored data."""

    def __init__(self, message: str, *, current_version: int | None = None) -> None:
        super().__init__(message)
        self.current_version = current_version


class StaleVersion(Conflict):
    """`expected_version` is not the stored version: someone else acted first."""

    def __init__(self, kind: str, key: object, expected: int, current: int | None) -> None:
        # `current` is None when a guarded UPDATE matched no row: the writer that won is unknown.
        where = f"is at version {current}" if current is not None else "has changed"
        super().__init__(
            f"{kind} {key} {where}, not version {expected}; reload and try again", current_version=current
        )
        self.expected = expected


@dataclass(frozen=True)
class FieldProblem:
    """One bad input value, by field path, with the message to show next to it.

    `code` names the kind of problem, so a page can say it in the reader's language; `params`
    are what its words need (the limit of a too-long value).
    """

    path: str
    message: str
    code: str = ""
    params: Mapping[str, object] = field(default_factory=dict)


class ValidationFailed(ServiceError):
    """The input has field-level errors; `errors` lists them in the order a person should fix them."""

    def __init__(self, errors: Sequence[FieldProblem]) -> None:
        super().__init__("; ".join(f"{e.path}: {e.message}" for e in errors))
        self.errors = list(errors)


class Refused(_Worded):
    """A rule of the workflow or the policy says no (wrong role, guard failed, locked account, ...).

    `code` is stable (the workflow engine's refusal codes plus the services' own), the
    messages are for the person who pressed the button.
    """

    def __init__(self, code: str, message_zh: str, message_en: str, detail: str | None = None) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en
        self.detail = detail


class BadStoredState(ServiceError):
    """A stored row the engines cannot interpret (an unknown state or workflow): an operator must fix it."""

    def __init__(self, kind: str, key: object, problem: str) -> None:
        super().__init__(f"{kind} {key}: {problem}; the stored row needs repair by an operator")
        self.kind = kind
        self.key = key
        self.problem = problem
