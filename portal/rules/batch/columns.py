"""The layout of the facts table that compiled rules read: one column per supplied fact.

Column names are the qualified fact names with `__` for the dot (`enterprise__revenue`), so no
engine needs quoting and an entity's facts never collide with another's.
"""


def sql_column(qualified_fact: str) -> str:
    """`enterprise.revenue` → `enterprise__revenue`."""
    entity, _, name = qualified_fact.partition(".")
    return f"{entity}__{name}"
