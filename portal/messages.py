"""The zh/en message catalogue and the two languages, for pages and for what services send.

The texts live beside the pages that use most of them (portal/web/messages*.yaml), but
notifications and e-mails are rendered by services too, in each reader's own language, so
the catalogue is read here, below both.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Final, Literal

from portal.rules.errors import RuleFileError
from portal.rules.yaml_loader import load_yaml

Lang = Literal["zh", "en"]
LANGS: Final[tuple[Lang, ...]] = ("zh", "en")
DEFAULT_LANG: Final[Lang] = "zh"
_CATALOGUE_PATH = Path(__file__).parent / "web" / "messages.yaml"
# The portal pages' strings live beside the chrome's, one file per area, merged into one catalogue.
_CATALOGUE_PATHS = (_CATALOGUE_PATH, *sorted(_CATALOGUE_PATH.parent.glob("messages_*.yaml")))


@lru_cache(maxsize=1)
def catalogue() -> Mapping[str, Mapping[str, str]]:
    """Message key → {zh, en}; read once per process. A key defined in two files is an error."""
    merged: dict[str, dict[str, str]] = {}
    for path in _CATALOGUE_PATHS:
        try:
            data = load_yaml(path)
        except RuleFileError as exc:
            raise ValueError(f"not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise ValueError(f"{path}: must map message keys to their texts")
        for key, texts in data.items():
            # An unquoted comma in a flow mapping silently adds a key; refuse rather than show half a text.
            if not isinstance(texts, dict) or set(texts) != {"zh", "en"}:
                raise ValueError(f"{path}: {key}: needs exactly `zh` and `en`, got {texts!r}")
            if str(key) in merged:
                raise ValueError(f"{path}: {key}: already defined in another messages file")
            merged[str(key)] = {"zh": str(texts["zh"]), "en": str(texts["en"])}
    return merged


def normalise_lang(value: str | None) -> Lang:
    """Any client-supplied language tag mapped to a supported one (zh-CN, en-GB → zh, en)."""
    if value:
        head = value.strip().lower()[:2]
        for lang in LANGS:
            if head == lang:
                return lang
    return DEFAULT_LANG
