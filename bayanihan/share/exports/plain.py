"""Plain lists (one value a line) and CSV with context columns."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator

from bayanihan.model.stix import format_ms
from bayanihan.share.exports.formats import Context, Format, header_lines, value_pages

__all__ = ["csv_rows", "plain_list"]

CSV_COLUMNS = ("kind", "value", "lookalike_of", "tlp", "confidence", "first_seen", "last_seen",
               "campaigns", "countries", "indicators")


def plain_list(fmt: Format) -> Callable[[Context], Iterator[str]]:
    """A renderer writing one value a line under the header."""
    def render(ctx: Context) -> Iterator[str]:
        yield "".join(f"# {line}\n" for line in header_lines(ctx, fmt))
        for kind in sorted(ctx.scope.kinds):
            for page in value_pages(ctx, kind):
                yield "\n".join(page) + "\n"
    return render


def csv_rows(ctx: Context, fmt: Format) -> Iterator[str]:
    yield "".join(f"# {line}\n" for line in header_lines(ctx, fmt))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for n, row in enumerate(ctx.fetch(ctx.scope, context=True), 1):
        lookalike = row.skeleton if row.skeleton and row.skeleton != row.value else ""
        writer.writerow((row.kind, row.value, lookalike, row.tlp, row.confidence,
                         format_ms(row.first_seen_us), format_ms(row.last_seen_us),
                         " ".join(row.campaigns), " ".join(row.countries),
                         " ".join(row.indicators)))
        if n % 1000 == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()

