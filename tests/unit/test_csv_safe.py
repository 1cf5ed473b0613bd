"""Every CSV auditbot writes is safe to open in a spreadsheet (OWASP CSV injection)."""

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.common.csv_safe import FORMULA_STARTS, csv_text, safe_cell


def test_formula_starts_get_a_quote_and_the_rest_is_unchanged():
    assert safe_cell('=HYPERLINK("http://evil.example","x")') == \
        '\'=HYPERLINK("http://evil.example","x")'
    assert [safe_cell(v) for v in ("+1", "-2+3", "@SUM(A1)", "\tx", "\rx")] == [
        "'+1", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx"]
    assert [safe_cell(v) for v in ("pass", "a=b", "", None, 3, "'=x")] == [
        "pass", "a=b", "", "", "3", "'=x"]


@settings(deadline=None)  # timings vary on a loaded machine
@given(st.lists(st.lists(st.text(), min_size=1, max_size=4), min_size=1, max_size=5))
def test_no_cell_read_back_starts_like_a_formula_and_none_loses_text(rows: list[list[str]]):
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    text = csv_text([f"c{i}" for i in range(width)], rows)
    read = list(csv.reader(io.StringIO(text, newline="")))[1:]
    assert len(read) == len(rows)
    for written, back in zip(rows, read, strict=True):
        for cell, got in zip(written, back, strict=True):
            assert not got.startswith(FORMULA_STARTS)
            assert got == (f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell)
