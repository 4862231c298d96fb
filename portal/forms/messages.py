"""zh-CN and English texts for JSON Schema keywords, written for an applicant, not a developer.

jsonschema's own messages quote Python reprs ("'abc' is too long"); a clerk needs "最多 20 个字符"
next to the field. Messages are keyed by the failing keyword; the limit comes from the schema.
"""

from collections.abc import Mapping
from typing import Any

_MESSAGES: Mapping[str, Mapping[str, str]] = {
    "required": {"zh": "此项为必填项。", "en": "This field is required."},
    "type.string": {"zh": "请填写文字。", "en": "Enter text."},
    "type.integer": {"zh": "请填写整数。", "en": "Enter a whole number."},
    "type.number": {"zh": "请填写数字（如 1234.56）。", "en": "Enter a number (e.g. 1234.56)."},
    "type.ratio": {
        "zh": "请以小数填写比例（如 0.75 即 75%）。",
        "en": "Enter the share as a decimal (0.75 is 75%).",
    },
    "number.too_large": {"zh": "数字过大，请核对。", "en": "This number is too large; check it."},
    "type.boolean": {"zh": "请选择是或否。", "en": "Choose yes or no."},
    "type.array": {"zh": "请选择一项或多项。", "en": "Choose one or more items."},
    "type.object": {"zh": "格式不正确。", "en": "This value has the wrong shape."},
    "minimum": {"zh": "不能小于 {limit}。", "en": "Must be at least {limit}."},
    "exclusiveMinimum": {"zh": "必须大于 {limit}。", "en": "Must be greater than {limit}."},
    "maximum": {"zh": "不能大于 {limit}。", "en": "Must be at most {limit}."},
    "exclusiveMaximum": {"zh": "必须小于 {limit}。", "en": "Must be less than {limit}."},
    "multipleOf": {"zh": "须为 {limit} 的整数倍。", "en": "Must be a multiple of {limit}."},
    "multipleOf.places": {"zh": "最多保留 {limit} 位小数。", "en": "Use at most {limit} decimal places."},
    # Lengths in 字, as the forms' help texts give them ("50 至 2000 字"); `length` has both ends.
    "minLength": {"zh": "至少 {limit} 字。", "en": "Use at least {limit:,} characters."},
    "maxLength": {"zh": "最多 {limit} 字。", "en": "Use at most {limit:,} characters."},
    "length": {
        "zh": "请填写 {limit[0]} 至 {limit[1]} 字。",
        "en": "Use {limit[0]:,} to {limit[1]:,} characters.",
    },
    "pattern": {"zh": "格式不正确。", "en": "This value is not in the expected format."},
    "enum": {"zh": "请从列表中选择。", "en": "Choose one of the listed options."},
    "const": {"zh": "请确认此项。", "en": "Please confirm this item."},
    "minItems": {"zh": "至少选择 {limit} 项。", "en": "Choose at least {limit} items."},
    "maxItems": {"zh": "最多选择 {limit} 项。", "en": "Choose at most {limit} items."},
    "uniqueItems": {"zh": "选项不能重复。", "en": "Items must not repeat."},
    "format.date": {"zh": "请填写日期，格式为 YYYY-MM-DD。", "en": "Enter a date as YYYY-MM-DD."},
    "format.email": {"zh": "请填写有效的电子邮箱。", "en": "Enter a valid email address."},
    "format.uri": {"zh": "请填写完整的网址。", "en": "Enter a full web address."},
    "format.cn-uscc": {
        "zh": "统一社会信用代码无效（应为 18 位且校验位正确）。",
        "en": "Not a valid unified social credit code (18 characters with a correct check digit).",
    },
    # A form field's `not_before` / `not_after`; the limit is the day in words (2026年11月27日).
    "not_after.today": {"zh": "不能晚于今天（{limit}）。", "en": "Cannot be later than today ({limit})."},
    "not_after": {"zh": "不能晚于{limit}。", "en": "Cannot be later than {limit}."},
    "not_before.today": {"zh": "不能早于今天（{limit}）。", "en": "Cannot be earlier than today ({limit})."},
    "not_before": {"zh": "不能早于{limit}。", "en": "Cannot be earlier than {limit}."},
    # A bound by another date field of the form; `label` is that other field's, in the same language.
    "not_after.field": {
        "zh": "不能晚于“{label}”（{limit}）。",
        "en": "Cannot be later than the {label} ({limit}).",
    },
    "not_before.field": {
        "zh": "不能早于“{label}”（{limit}）。",
        "en": "Cannot be earlier than the {label} ({limit}).",
    },
    "format": {"zh": "格式不正确。", "en": "This value is not in the expected format."},
    "additionalProperties": {"zh": "表单包含未知字段。", "en": "The form contains an unknown field."},
    "invalid": {"zh": "填写内容无效。", "en": "This value is not valid."},
}


def message(key: str, lang: str, limit: Any = None, label: str | None = None) -> str:
    """The text for a keyword (or `type.X` / `format.X`), falling back to the generic one;
    `label` is another field's, for a bound that names it."""
    texts = _MESSAGES.get(key) or _MESSAGES.get(key.split(".", 1)[0]) or _MESSAGES["invalid"]
    text = texts["en" if lang == "en" else "zh"]
    return text.format(limit=limit, label=label) if "{" in text else text
