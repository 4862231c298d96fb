"""The `listing:` block of a rule file: an approval that enters a public register.

A measure whose approval puts something on public record (a product in the procurement
catalogue, an award in a public register) says so here, in the pack, so that the portal
never has to know which measure ids do this: a second pack declares its own.

```yaml
listing:
  register: catalogue          # catalogue: dated entries that expire and are renewed
                               # awards: a yearly public register of awards
  valid_years: 3               # catalogue only: how long an entry stays listed
  remind_days: 60              # catalogue only: remind the enterprise this many days before expiry
  publish_amount: false        # awards only: print the granted amount in the register
  fields: {name: product_name, kind: product_kind, track: track, summary: summary, specs: specifications}
  source: {note: {zh: ..., en: ...}, confidence: proposal}
```
`fields` maps the register's columns to the measure's form fields; a column's labels for
enum values come from that form field's `options`.
"""

from dataclasses import dataclass

from portal.rules.text import Reader, Text

REGISTERS = ("catalogue", "awards")
LISTING_COLUMNS = ("name", "kind", "track", "summary", "specs")
_CONFIDENCE = ("high", "medium", "medium-high", "unsourced", "proposal")


@dataclass(frozen=True)
class ListingSource:
    """Where the register's parameters (the validity above all) come from."""

    document: str | None
    article: str | None
    note: Text
    confidence: str | None


@dataclass(frozen=True)
class ListingSpec:
    """What an approval of this measure enters, and for how long."""

    register: str
    fields: dict[str, str]
    valid_years: int | None
    remind_days: int
    publish_amount: bool
    source: ListingSource

    @property
    def expires(self) -> bool:
        return self.valid_years is not None


def _positive_int(r: Reader, key: str) -> int | None:
    value = r.raw(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise r.error(key, f"expected a positive whole number, got {value!r}")
    return value


def read_listing(parent: Reader) -> ListingSpec | None:
    """The parsed `listing:` block, or None when the measure puts nothing on public record."""
    if not parent.has("listing"):
        return None
    r = parent.reader("listing")
    r.only({"register", "fields", "valid_years", "remind_days", "publish_amount", "source"})
    register = r.choice("register", REGISTERS)
    fields_block = r.reader("fields")
    fields_block.only(set(LISTING_COLUMNS))
    fields = {
        column: str(fields_block.text_field(column)) for column in LISTING_COLUMNS if fields_block.has(column)
    }
    if "name" not in fields:
        raise fields_block.error(None, "missing required field 'listing.fields.name'")
    valid_years = _positive_int(r, "valid_years")
    remind_days = _positive_int(r, "remind_days")
    if register == "catalogue" and valid_years is None:
        raise r.error(None, "a catalogue listing needs `valid_years` (cite its source or mark it a proposal)")
    if register != "catalogue" and (valid_years is not None or remind_days is not None):
        raise r.error(
            "valid_years" if valid_years is not None else "remind_days", "only a catalogue listing expires"
        )
    publish = r.raw("publish_amount")
    if publish is not None and not isinstance(publish, bool):
        raise r.error("publish_amount", "expected true or false")
    if register != "awards" and publish:
        raise r.error("publish_amount", "only an awards register publishes amounts")
    s = r.reader("source")
    s.only({"document", "article", "note", "confidence"})
    confidence = s.raw("confidence")
    if confidence is not None and confidence not in _CONFIDENCE:
        raise s.error("confidence", f"{confidence!r} is not one of {', '.join(_CONFIDENCE)}")
    note = s.text("note", required=False)
    document = s.text_field("document", required=False)
    if note is None and document is None:
        raise s.error(None, "cite a `document` or explain the choice in a `note`")
    return ListingSpec(
        register=register,
        fields=fields,
        valid_years=valid_years,
        remind_days=remind_days if remind_days is not None else 60,
        publish_amount=bool(publish),
        source=ListingSource(
            document=document,
            article=s.text_field("article", required=False),
            note=note or Text("", ""),
            confidence=None if confidence is None else str(confidence),
        ),
    )
