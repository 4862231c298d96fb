"""The one map from the portal's two languages to Babel locales, for pages, letters and hints."""

from collections.abc import Mapping
from typing import Final

BABEL_LOCALES: Final[Mapping[str, str]] = {"zh": "zh_Hans_CN", "en": "en_US"}
