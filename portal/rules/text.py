"""Bilingual text and the small schema-reading helpers every pack file shares."""

from dataclasses import dataclass
from pathlib import Path

from portal.rules.errors import RuleFileError
from portal.rules.yaml_loader import YList, YMap

LANGS = ("zh", "en")


@dataclass(frozen=True, slots=True)
class Text:
    """A zh/en pair; either side may be empty in a draft, which lint reports."""

    zh: str
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh

    def to_json(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}


class Reader:
    """Reads one YAML mapping, naming file, line and dotted field in every error."""

    def __init__(self, path: Path, data: object, field: str, line: int) -> None:
        if not isinstance(data, YMap):
            raise RuleFileError(path, line, field, f"expected a mapping, got {type(data).__name__}")
        self.path = path
        self.data = data
        self.field = field

    def sub(self, key: str) -> str:
        return f"{self.field}.{key}" if self.field else key

    def line(self, key: str | None = None) -> int:
        return self.data.line if key is None else self.data.line_of(key)

    def error(self, key: str | None, message: str) -> RuleFileError:
        return RuleFileError(self.path, self.line(key), self.sub(key) if key else self.field, message)

    def only(self, allowed: set[str]) -> None:
        for key in self.data:
            if key not in allowed:
                raise self.error(key, f"unknown field (allowed: {', '.join(sorted(allowed))})")

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str) -> object:
        return self.data.get(key)

    def require(self, key: str) -> object:
        if key not in self.data or self.data[key] is None:
            raise self.error(None, f"missing required field {self.sub(key)!r}")
        return self.data[key]

    def text_field(self, key: str, required: bool = True) -> str | None:
        value = self.require(key) if required else self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, str | int):
            raise self.error(key, f"expected text, got {type(value).__name__}")
        return str(value)

    def choice(self, key: str, options: tuple[str, ...], default: str | None = None) -> str:
        value = self.data.get(key, default)
        if value is None:
            raise self.error(None, f"missing required field {self.sub(key)!r}")
        if value not in options:
            raise self.error(key, f"{value!r} is not one of {', '.join(options)}")
        return str(value)

    def reader(self, key: str) -> "Reader":
        return Reader(self.path, self.require(key), self.sub(key), self.line(key))

    def mapping(self, key: str) -> YMap:
        value = self.data.get(key)
        if value is None:
            empty = YMap()
            empty.line, empty.key_lines = self.line(key), {}
            return empty
        if not isinstance(value, YMap):
            raise self.error(key, "expected a mapping")
        return value

    def sequence(self, key: str) -> YList:
        value = self.data.get(key)
        if value is None:
            empty = YList()
            empty.line, empty.item_lines = self.line(key), []
            return empty
        if not isinstance(value, YList):
            raise self.error(key, "expected a list")
        return value

    def text(self, key: str, required: bool = True) -> Text | None:
        """A {zh, en} pair. Missing sides are kept empty here and reported by lint."""
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.error(None, f"missing required field {self.sub(key)!r}")
            return None
        if isinstance(value, str):
            raise self.error(key, "expected {zh: ..., en: ...}, got plain text")
        sub = Reader(self.path, value, self.sub(key), self.line(key))
        sub.only(set(LANGS))
        return Text(sub.text_field("zh", required=False) or "", sub.text_field("en", required=False) or "")
