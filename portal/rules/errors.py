"""The two errors callers must handle: a broken pack file, and bad input facts.

Both carry structured fields so the CLI and the web layer can point at the exact place
(file/line/field, or the qualified fact) without parsing a message.
"""

from pathlib import Path


class RuleFileError(Exception):
    """A pack file that does not follow the schema in docs/rule-files.md."""

    def __init__(self, path: Path | str, line: int, field: str, message: str) -> None:
        self.path = Path(path)
        self.line = line
        self.field = field
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return f"{self.path}:{self.line}: {where}{self.message}"


class FactError(ValueError):
    """A supplied fact that cannot be used: unknown name, wrong type, negative money, bad date or enum.

    `reason` says what is wrong in a word a page can turn into the reader's language
    (`too_large`, `negative`, `places`, `share`, `whole`, `choice`, `future`); `invalid` covers
    the rest, where the fact's type says what was expected.
    """

    def __init__(self, fact: str, message: str, reason: str = "invalid") -> None:
        self.fact = fact
        self.message = message
        self.reason = reason
        super().__init__(f"{fact}: {message}")


class FormulaError(ValueError):
    """A formula that does not parse or does not type-check; callers add the file and line."""
