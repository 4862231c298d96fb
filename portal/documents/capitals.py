"""RMB amounts in Chinese capital numerals (大写金额), as 支付结算办法 附一 prescribes.

cn2an's "rmb" mode was checked against every example in CRITERIA-SOURCES §11 and the edge
cases in tests/documents/test_capitals.py (zeros inside and around 万/亿, 角 = 0 with 分 ≠ 0,
whole yuan, fractions only, zero) and is right on all of them, so it does the conversion.
What it does not do is refuse bad input: it rounds a third decimal away and prints 负 for a
negative amount. A letter must never show an amount other than the decided one, so this
wrapper rejects both before cn2an sees them, and hands it the exact decimal digits as text
(never a float).
"""

from __future__ import annotations

from decimal import Decimal

import cn2an

# cn2an's limit: sixteen integer digits. A subsidy never comes near it.
_MAX_AMOUNT = Decimal("9999999999999999.99")
_FEN = Decimal("0.01")


def rmb_capital(amount: Decimal) -> str:
    """Write `amount` (yuan) in capitals, e.g. Decimal("16409.02") → "壹万陆仟肆佰零玖元零贰分".

    The caller prints "人民币" directly before the result, as the rules require.
    """
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise ValueError(f"amount must be a finite Decimal, got {amount!r}")
    if amount < 0:
        raise ValueError(f"amount cannot be negative: {amount}")
    if amount > _MAX_AMOUNT:
        raise ValueError(f"amount is too large for capital numerals: {amount}")
    fen = amount.quantize(_FEN)
    if fen != amount:
        raise ValueError(f"amount has more than two decimal places (fen): {amount}")
    # abs() turns Decimal("-0.00") into "0.00", which cn2an would otherwise print as 负零元整.
    result: str = cn2an.an2cn(f"{abs(fen):f}", "rmb")
    return result
