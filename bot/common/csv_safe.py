"""CSV that is safe to open in a spreadsheet: every CSV auditbot writes goes through here.

Usage::

    text = csv_text(("trainer", "explanation"), [("U0T1", "=HYPERLINK(\\"http://x\\")")])
    safe_cell("=1+1")      # "'=1+1": shown as text, never run as a formula

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula
to Excel, LibreOffice and Google Sheets (``=HYPERLINK(…)``, ``@SUM(…)``, ``-2+3``). The
OWASP rule for CSV injection: put a single quote before it, which the spreadsheet shows as
text. Quotes, separators and line breaks inside cells are the csv module's to quote;
rows end with ``\r\n`` (RFC 4180), so a lone ``\r`` in a cell is quoted too (with ``\n``
line ends the csv module leaves it bare, and a reader splits the row there).
"""

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """``value`` as text, with a ``'`` before it when a spreadsheet would run it."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """The header and rows as CSV (``\\r\\n`` line ends), every cell through ``safe_cell``.
    Write it as it is (``Path.write_text(text, newline="")``)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return out.getvalue()
