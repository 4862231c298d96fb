"""Safe YAML whose floats are read as Decimal from their text, shared by the forms and rubric loaders.

`0.1` stays 0.1 and limits such as `multipleOf: 0.01` stay exact; `.nan` and `.inf` are refused
at their line rather than becoming numbers no comparison can use. (The rule-file loader has its
own, line-tracking loader in `portal.rules.yaml_loader`.)
"""

from decimal import Decimal, InvalidOperation

import yaml


class DecimalSafeLoader(yaml.CSafeLoader):
    """yaml.CSafeLoader (libyaml) with floats as finite Decimals."""


def _decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    text = str(loader.construct_scalar(node))
    try:
        number = Decimal(text.replace("_", ""))
    except InvalidOperation:  # YAML's `.nan` and `.inf` are floats but not Decimal literals
        number = Decimal("NaN")
    if not number.is_finite():
        problem = f"{text!r} is not a finite number"
        raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark)
    return number


DecimalSafeLoader.add_constructor("tag:yaml.org,2002:float", _decimal)
