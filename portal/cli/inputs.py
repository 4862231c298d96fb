"""The CLI's door of the one boundary rule (`portal.text_rules`): no control or bidi characters.

Every argument of every command is checked before Click parses it, and files whose contents
become text fields are checked member by member; a refusal is one line naming the argument or
the file and field, with exit status 2, never a traceback. Tab, CR and LF pass: an argument
such as a letter's corrected reasons may span lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from typer.core import TyperGroup

from portal.cli.bootstrap import fail
from portal.text_rules import escaped, first_refused, first_refused_member

REFUSED = "contains a control or bidirectional-override character, which is not accepted"


def _argument_name(args: list[str], index: int) -> str:
    """`--option` for an option's value, else the argument's position (1-based)."""
    arg = args[index]
    if arg.startswith("--"):
        return arg.split("=", 1)[0]
    if index > 0 and args[index - 1].startswith("-") and "=" not in args[index - 1]:
        return f"the value of {args[index - 1]}"
    return f"argument {index + 1}"


class GuardedGroup(TyperGroup):
    """The root command group: refuses a hostile argument before any command sees it."""

    # `ctx` is Typer's vendored Click context, whose type is private to Typer.
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        refused = first_refused([(str(i), arg) for i, arg in enumerate(args)], multi_line=True)
        if refused is not None:
            raise fail(f"{_argument_name(args, int(refused))} {REFUSED}", 2)
        return super().parse_args(ctx, args)


def refuse_hostile(path: Path, document: object) -> None:
    """Exit 2 naming `path` and the field when a text field of the file's document is refused."""
    member = first_refused_member(document)
    if member is not None:
        raise fail(f"{path}: field `{escaped(member)}` {REFUSED}", 2)
