"""Errors of the forms engine: bad answers (shown next to a field) and bad form files (lint)."""

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FieldError:
    """A validation problem tied to one answer (`path` is the field name, dotted when nested)."""

    path: str
    message: str


class FormFileError(Exception):
    """A form file that cannot be loaded; names the file and the offending key."""

    def __init__(self, path: Path, where: str, message: str) -> None:
        super().__init__(f"{path}: {where}: {message}")
        self.path = path
        self.where = where
        self.message = message


def errors_by_path(errors: list[FieldError]) -> dict[str, str]:
    """The shape the form macros take: the first message for each field path."""
    result: dict[str, str] = {}
    for e in errors:
        result.setdefault(e.path, e.message)
    return result
