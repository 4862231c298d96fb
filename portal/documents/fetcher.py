"""The only way a letter can pull anything into its PDF.

WeasyPrint's default fetcher follows file:, http: and https: URLs, so a `<link
rel="attachment" href="file:///etc/passwd">` reaching the HTML embeds that file in the PDF
(STACK-NOTES). Letters print text that applicants typed; Jinja2 escapes it, and this fetcher
is the second wall should anything ever get through unescaped: it serves `data:` URLs and the
package's own files under `portal-asset:NAME`, and refuses everything else without touching
the disk or the network.
"""

from __future__ import annotations

import mimetypes
from importlib import resources
from typing import Any

from weasyprint.urls import URLFetcher, URLFetcherResponse

ASSET_SCHEME = "portal-asset:"
_ASSET_PACKAGE = "portal.documents"
_ASSET_DIR = "assets"


class AssetOnlyFetcher(URLFetcher):  # type: ignore[misc]  # weasyprint ships no type hints
    """A URL fetcher that allows `data:` and `portal-asset:` URLs and nothing else.

    It subclasses URLFetcher because WeasyPrint 70 reads private attributes of the fetcher
    (a plain function fails with AttributeError: _fail_on_errors). Redirects are off, and
    the base class's protocol filter only lets `data:` through to urllib.
    """

    def __init__(self) -> None:
        super().__init__(allowed_protocols={"data"}, allow_redirects=False, fail_on_errors=False)

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        """Serve a packaged asset; anything but `data:` raises ValueError (disallowed protocol)."""
        if url.startswith(ASSET_SCHEME):
            name = url.removeprefix(ASSET_SCHEME)
            return URLFetcherResponse(url, read_asset(name), {"Content-Type": _content_type(name)})
        return super().fetch(url, headers)


def read_asset(name: str) -> bytes:
    """The bytes of a packaged asset; only plain file names in the assets folder resolve."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"not a packaged asset name: {name!r}")
    asset = resources.files(_ASSET_PACKAGE).joinpath(_ASSET_DIR, name)
    if not asset.is_file():
        raise ValueError(f"no packaged asset named {name!r}")
    return asset.read_bytes()


def _content_type(name: str) -> str:
    guessed, _ = mimetypes.guess_type(name)
    return guessed or "application/octet-stream"
