"""The batch USCC check (Arrow, over the values' bytes) agrees with python-stdnum on every value."""

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import uscc

from portal.screening.inputs import uscc_invalid

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

# Mostly well-formed codes (a right or a wrong check character), with malformed text mixed in.
well_formed = st.builds(
    lambda digits, body, last: digits + body + last,
    st.text("0123456789", min_size=8, max_size=8),
    st.text(ALPHABET, min_size=9, max_size=9),
    st.sampled_from(ALPHABET),
)
codes = st.one_of(
    well_formed,
    well_formed.map(lambda code: code[:17] + uscc.calc_check_digit(code[:17])),
    st.none(),
    st.text(max_size=20),
    st.text("0123456789IOSVZ", min_size=18, max_size=18),
)


def _expected(values: list[str | None]) -> list[bool | None]:
    # A batch value is read exactly as written: stdnum would first strip spaces and upper-case it.
    return [None if v is None else v != uscc.compact(v) or not uscc.is_valid(v) for v in values]


@settings(max_examples=200, deadline=None)
@given(st.lists(codes, max_size=40), st.integers(0, 5))
def test_agrees_with_stdnum(values: list[str | None], skip: int) -> None:
    array = pa.array(values, pa.string())
    assert uscc_invalid(array).to_pylist() == _expected(values)
    # A slice starts inside the buffers: offsets must be read from where it starts.
    part = array.slice(min(skip, len(values)))
    assert uscc_invalid(part).to_pylist() == _expected(values[min(skip, len(values)) :])


def test_large_strings_and_empty_arrays() -> None:
    good = "91440101" + "MA59ABCDE"
    good += uscc.calc_check_digit(good)
    assert uscc_invalid(pa.array([good, "x", None], pa.large_string())).to_pylist() == [False, True, None]
    assert uscc_invalid(pa.array([], pa.string())).to_pylist() == []
    assert uscc_invalid(pa.array([None, "12\u202e3"], pa.string())).to_pylist() == [None, True]


def test_spaced_or_lower_case_codes_are_refused() -> None:
    good = "91440101MA59ABCDE" + uscc.calc_check_digit("91440101MA59ABCDE")
    assert uscc_invalid(pa.array([" " + good, good.lower(), good])).to_pylist() == [True, True, False]
