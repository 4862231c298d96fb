"""How values read in hints, trace messages and catalogue cards: ratios in %, money in 万元 (zh) or
CNY (en). This is the one formatter of ratios for people: 50%, 12.5%, never 50.0%.

Numbers are rounded for people, but never so far that a failing value reads like its threshold:
the decimals grow until the value, the thresholds and the gap all show as different numbers, so
a failing 39.99 % prints as "39.99%，需 ≥ 40%", never as "40%，需 ≥ 40%". Trailing zeros are
dropped. Rounding is half-up (四舍五入) and done here. Babel gives each locale's symbols (read
once); the digits are laid out by Python's own format specification (or `str`, below a
thousand), which is what Babel's `#,##0.##` pattern does for these symbols at a twentieth of the
cost (a hint is formatted per enterprise; `tests/rules/test_display.py` checks the two agree).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.numbers import get_decimal_symbol, get_group_symbol, get_minus_sign_symbol

from portal.locales import BABEL_LOCALES, YUAN_EN
from portal.rules.text import Text


def _symbols(locale: str) -> dict[int, str] | None:
    """How to turn Python's "-1,234.5" into the locale's text; None when it is the same already."""
    table = {ord(","): get_group_symbol(locale), ord("."): get_decimal_symbol(locale)}
    table[ord("-")] = get_minus_sign_symbol(locale)
    return None if all(chr(k) == v for k, v in table.items()) else table


_SYMBOLS = {lang: _symbols(locale) for lang, locale in BABEL_LOCALES.items()}
# Thresholds in rule files have at most a few decimals; show them exactly up to this many.
_EXACT_UP_TO = 4
# Past this many decimals two different Decimal values are a matter of division noise, not policy.
_MOST_DIGITS = 12
_TEN_THOUSAND = Decimal(10_000)
# 1, 0.1, 0.01, …: the quantum of each number of decimals, made once.
_QUANTA = tuple(Decimal(1).scaleb(-digits) for digits in range(_MOST_DIGITS + 1))
# Python's format specification for each number of decimals, grouped by thousands.
_SPECS = tuple(f",.{digits}f" for digits in range(_MOST_DIGITS + 1))


@dataclass(frozen=True, slots=True)
class _Style:
    """One way of showing a number: its decimal shift, unit text, and most decimals by default.

    Trailing zeros are dropped ("50%", "5,000万元", "CNY 1,250.5").
    """

    shift: int
    before: str
    after: str
    digits: int

    def scaled(self, number: Decimal) -> Decimal:
        return number.scaleb(self.shift)

    def rounded(self, number: Decimal, digits: int) -> Decimal:
        """The number as shown with `digits` decimals, back in its own unit (for comparing)."""
        return self.scaled(number).quantize(_QUANTA[digits], ROUND_HALF_UP).scaleb(-self.shift)

    def render(self, number: Decimal, digits: int, lang: str) -> str:
        shown = self.scaled(number).quantize(_QUANTA[digits], ROUND_HALF_UP)
        return self.text(shown, digits, lang)

    def text(self, shown: Decimal, digits: int, lang: str) -> str:
        """A number already scaled and rounded to `digits` decimals, with its unit."""
        return f"{self.before}{layout(shown, digits, lang)}{self.after}"


def layout(number: Decimal | int, digits: int, lang: str) -> str:
    """Babel's `#,##0.##` for a number quantized to `digits`, in `lang`'s symbols.

    Below a thousand no group separator shows, and `str` writes the same digits as the format
    specification at a fifth of the cost (a hint lays out three numbers per failed comparison);
    past six leading zeros `str` would switch to an exponent.
    """
    if type(number) is Decimal:
        text = str(number) if -6 <= number.adjusted() <= 2 else format(number, _SPECS[digits])
    elif not digits and -1000 < number < 1000:
        text = str(number)
    else:
        text = format(number, _SPECS[digits])
    if digits:
        text = text.rstrip("0").rstrip(".")
    symbols = _SYMBOLS[lang] if lang in _SYMBOLS else _SYMBOLS["zh"]
    return text if symbols is None else text.translate(symbols)


_RATIO = _Style(2, "", "%", 1)
_RATIO_GAP = {"zh": _Style(2, "", " 个百分点", 1), "en": _Style(2, "", " percentage points", 1)}
_MONEY_EN = _Style(0, YUAN_EN, "", 2)  # as `portal.locales.money` writes exact amounts
_MONEY_WAN = _Style(-4, "", "万元", 2)
_MONEY_YUAN = _Style(0, "", "元", 2)
_PLAIN = _Style(0, "", "", 2)


_SCALED_KINDS = frozenset({"ratio", "money"})  # the kinds `_style` does not show as plain numbers


def _style(number: Decimal, kind: str, lang: str, gap: bool = False) -> _Style:
    zh = lang == "zh"
    if kind == "ratio":
        return _RATIO_GAP["zh" if zh else "en"] if gap else _RATIO
    if kind == "money":
        if not zh:
            return _MONEY_EN
        return _MONEY_WAN if abs(number) >= _TEN_THOUSAND else _MONEY_YUAN
    return _PLAIN


def _number(value: object) -> Decimal | None:
    if type(value) is Decimal:  # the usual case, and immutable: no copy
        return value
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    return Decimal(value)


def _places(number: Decimal) -> int:
    exponent = number.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


@lru_cache(maxsize=4096)
def _exact_places(bound: Decimal, kind: str, lang: str) -> int:
    """Decimals that show a threshold exactly (thresholds repeat: one per rule leaf)."""
    return min(_places(_style(bound, kind, lang).scaled(bound)), _EXACT_UP_TO)


def digits_for(value: object, expected: Sequence[object], kind: str, lang: str, gap: object = None) -> int:
    """Decimals that show each threshold exactly and tell every differing number apart.

    `value` is the observed value, `expected` the thresholds it was compared with, `gap` the
    shortfall or excess when there is one (it must not show as zero while the others differ).
    """
    seen = _number(value)
    bounds = [b for b in (_number(e) for e in expected) if b is not None]
    numbers = [n for n in (seen, *bounds) if n is not None]
    if not numbers:
        return 0
    styles = [(n, _style(n, kind, lang)) for n in numbers]
    digits = max(style.digits for _, style in styles)
    for bound in bounds:
        digits = max(digits, _exact_places(bound, kind, lang))
    short = _number(gap)
    gap_style = _style(short, kind, lang, gap=True) if short is not None else None

    def ambiguous(d: int) -> bool:
        shown = [style.rounded(n, d) for n, style in styles]
        for i, a in enumerate(numbers):
            for j in range(i + 1, len(numbers)):
                if a != numbers[j] and shown[i] == shown[j]:
                    return True
        return short is not None and gap_style is not None and short != 0 and gap_style.rounded(short, d) == 0

    while digits < _MOST_DIGITS and ambiguous(digits):
        digits += 1
    return digits


def format_shortfall(
    value: object, expected: object, gap: object, kind: str, lang: str
) -> tuple[str, str, str]:
    """A value, the threshold it missed and the gap, as `digits_for` and `format_value` show them.

    The same texts as those three calls, worked out in one pass: each number is scaled once and
    rounded once per candidate number of decimals, and the last rounding is the one shown (a
    failed comparison is formatted for every enterprise that misses it).
    """
    if type(value) is int and type(expected) is int and type(gap) is int and kind not in _SCALED_KINDS:
        # Whole numbers in a plain style: every differing one shows apart with no decimals.
        return layout(value, 0, lang), layout(expected, 0, lang), layout(gap, 0, lang)
    seen, bound, short = _number(value), _number(expected), _number(gap)
    if seen is None or bound is None or short is None:
        digits = digits_for(value, [expected], kind, lang, gap)
        return (
            format_value(value, kind, lang, digits),
            format_value(expected, kind, lang, digits),
            format_gap(gap, kind, lang, digits),
        )
    seen_style, bound_style = _style(seen, kind, lang), _style(bound, kind, lang)
    gap_style = _style(short, kind, lang, gap=True)
    seen_scaled, bound_scaled = seen.scaleb(seen_style.shift), bound.scaleb(bound_style.shift)
    gap_scaled = short.scaleb(gap_style.shift)
    digits = max(seen_style.digits, bound_style.digits, _exact_places(bound, kind, lang))
    differ = seen != bound
    same_unit = seen_style.shift == bound_style.shift  # then the shown numbers compare as they are
    while True:
        quantum = _QUANTA[digits]
        seen_shown = seen_scaled.quantize(quantum, ROUND_HALF_UP)
        bound_shown = bound_scaled.quantize(quantum, ROUND_HALF_UP)
        gap_shown = gap_scaled.quantize(quantum, ROUND_HALF_UP)
        if digits >= _MOST_DIGITS:
            break
        if same_unit:
            reads_as_bound = seen_shown == bound_shown
        else:
            reads_as_bound = seen_shown.scaleb(-seen_style.shift) == bound_shown.scaleb(-bound_style.shift)
        if not (differ and reads_as_bound) and not (short and not gap_shown):
            break
        digits += 1
    return (
        seen_style.text(seen_shown, digits, lang),
        bound_style.text(bound_shown, digits, lang),
        gap_style.text(gap_shown, digits, lang),
    )


def format_value(value: object, kind: str, lang: str, digits: int | None = None) -> str:
    """A value as a reader expects it; `digits` (from `digits_for`) overrides the default decimals."""
    zh = lang == "zh"
    if value is None:
        return "未知" if zh else "unknown"
    if isinstance(value, bool):
        return ("是" if value else "否") if zh else ("yes" if value else "no")
    number = _number(value)
    if number is not None:
        style = _style(number, kind, lang)
        return style.render(number, style.digits if digits is None else digits, lang)
    if isinstance(value, tuple | list | frozenset):
        return ", ".join(format_value(v, kind, lang, digits) for v in value)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def format_enum(value: object, labels: Mapping[str, Text], lang: str) -> str:
    """Enum values by their labels (天河区, not tianhe); a list joins with the language's comma."""
    if isinstance(value, tuple | list | frozenset):
        return ", ".join(format_enum(v, labels, lang) for v in value)
    if value is None:
        return format_value(value, "enum", lang)
    text = labels.get(str(value))
    return text.get(lang) if text is not None else str(value)


def format_gap(gap: object, kind: str, lang: str, digits: int | None = None) -> str:
    """A shortfall or excess: percentage points for ratios, otherwise in the value's own unit."""
    number = _number(gap)
    if number is None:
        return format_value(gap, kind, lang, digits)
    style = _style(number, kind, lang, gap=True)
    return style.render(number, style.digits if digits is None else digits, lang)


def format_threshold(value: object, kind: str, lang: str) -> str:
    """A constant from a rule file, shown exactly (up to a few decimals): for trace messages, the
    potential-benefit hint and the portal's catalogue cards, which say an amount the same way."""
    if isinstance(value, tuple | list | frozenset):
        return ", ".join(format_threshold(v, kind, lang) for v in value)
    return format_value(value, kind, lang, digits_for(None, [value], kind, lang))
