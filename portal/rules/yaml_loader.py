"""YAML reading for pack files: numbers as Decimal, line numbers kept, YAML 1.1 traps closed.

PyYAML's SafeLoader turns `0.05` into a float and `on:` / `yes` into booleans. Policy numbers
must stay exact and `on:` is a key in examples, so this loader reads non-integer numbers as
`Decimal`, accepts only true/false as booleans, rejects duplicate keys, and remembers the line
of every mapping key and sequence item so schema errors can name the line.
"""

import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from portal.rules.errors import RuleFileError

_BOOL_TAG = "tag:yaml.org,2002:bool"


class YMap(dict[str, object]):
    """A mapping that knows its own line and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class YList(list[object]):
    """A sequence that knows its own line and the line of each item (1-based)."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class _PackLoader(yaml.CSafeLoader):
    text_keys = True


class _AnyKeyLoader(_PackLoader):
    """For the calendar, whose years are keys (`2026:`)."""

    text_keys = False


_PackLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_PackLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct_decimal(loader: _PackLoader, node: ScalarNode) -> Decimal:
    text = str(loader.construct_scalar(node)).replace("_", "")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"not a finite number: {text}", node.start_mark
        ) from exc
    if not value.is_finite():
        raise yaml.constructor.ConstructorError(None, None, f"not a finite number: {text}", node.start_mark)
    return value


def _construct_map(loader: _PackLoader, node: MappingNode) -> YMap:
    loader.flatten_mapping(node)
    result = YMap()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if loader.text_keys and not isinstance(key, str):
            # Keys are names; a bare date or number as a key is almost always a typo.
            raise yaml.constructor.ConstructorError(
                None, None, f"mapping keys must be text, got {key!r}", key_node.start_mark
            )
        if key in result:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_seq(loader: _PackLoader, node: SequenceNode) -> YList:
    result = YList(loader.construct_object(item, deep=True) for item in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [item.start_mark.line + 1 for item in node.value]
    return result


_PackLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)
_PackLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_PackLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def load_yaml(path: Path, *, text_keys: bool = True) -> object:
    """Parse one pack file; syntax errors become RuleFileError with the offending line.

    The one YAML reader of the portal: rules, facts, units, pack.yaml, forms, workflows, rubrics,
    letter wording, the calendar (`text_keys=False`: its years are keys) and the message
    catalogues. `text_keys` refuses a key that is not text (a bare date or number is a typo).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleFileError(path, 0, "", f"cannot read file: {exc}") from exc
    try:
        loader = _PackLoader if text_keys else _AnyKeyLoader
        return yaml.load(text, Loader=loader)  # noqa: S506 - both loaders derive from CSafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        raise RuleFileError(path, line, "", exc.problem or str(exc)) from exc
    except yaml.YAMLError as exc:
        raise RuleFileError(path, 0, "", str(exc)) from exc
