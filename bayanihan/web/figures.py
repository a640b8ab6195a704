"""The overview's numbers and charts: counts by member state and vector over a window,
trends by vector and by language. Every query is filtered by ``share.policy.visible``;
the charts are SVG drawn here (no charting library, nothing fetched by the browser)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import BigInteger, Connection, and_, cast, func, select

from bayanihan.ingest.reports import VECTORS
from bayanihan.model.members import MEMBER_STATES
from bayanihan.model.stix import now_us
from bayanihan.share.policy import Reader, visible
from bayanihan.store.schema import stix_objects
from bayanihan.store.tables_reports import report_facets, report_index

DAY_US = 86_400 * 1_000_000
WINDOWS = (7, 30, 90, 365)
#: one colour per vector, always with its name beside it (legend and tile text)
VECTOR_COLOURS = {"phishing": "#1f77b4", "malware": "#d62728", "identity-fraud": "#9467bd",
                  "reconnaissance": "#2ca02c", "other": "#7f7f7f"}


@dataclass(frozen=True)
class Tile:
    code: str
    name: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _base(reader: Reader, since_us: int) -> Any:
    return and_(stix_objects.c.is_latest.is_(True), visible(reader),
                report_index.c.last_seen_us >= since_us)


def tiles(conn: Connection, reader: Reader, days: int) -> list[Tile]:
    """The eleven member states with counts by vector of the reports targeting them."""
    since = now_us() - days * DAY_US
    rows = conn.execute(
        select(report_facets.c.value, report_index.c.vector, func.count())
        .select_from(report_facets.join(report_index,
                                        report_index.c.object_pk == report_facets.c.object_pk)
                     .join(stix_objects, stix_objects.c.pk == report_index.c.object_pk))
        .where(report_facets.c.facet == "country",
               report_facets.c.value.in_(list(MEMBER_STATES)), _base(reader, since))
        .group_by(report_facets.c.value, report_index.c.vector))
    counts: dict[str, dict[str, int]] = {code: {} for code in MEMBER_STATES}
    for code, vector, n in rows:
        counts[code][vector] = n
    return [Tile(code, MEMBER_STATES[code][0], counts[code]) for code in MEMBER_STATES]


def trend(conn: Connection, reader: Reader, days: int, by: str,
          ) -> tuple[list[int], dict[str, list[int]]]:
    """(day numbers, series name -> count per day) by ``vector`` or ``language``."""
    since = now_us() - days * DAY_US
    day = cast(report_index.c.first_seen_us / DAY_US, BigInteger)
    if by == "vector":
        key: Any = report_index.c.vector
        source: Any = report_index.join(stix_objects,
                                        stix_objects.c.pk == report_index.c.object_pk)
        extra: Any = report_index.c.first_seen_us >= since
    else:
        key = report_facets.c.value
        source = report_facets.join(report_index,
                                    report_index.c.object_pk == report_facets.c.object_pk) \
            .join(stix_objects, stix_objects.c.pk == report_index.c.object_pk)
        extra = and_(report_facets.c.facet == "language", report_index.c.first_seen_us >= since)
    rows = conn.execute(select(key, day, func.count()).select_from(source)
                        .where(_base(reader, since), extra).group_by(key, day))
    first = since // DAY_US + 1
    span = list(range(first, now_us() // DAY_US + 1))
    series: dict[str, list[int]] = {}
    for name, d, n in rows:
        if first <= d <= span[-1]:
            series.setdefault(name, [0] * len(span))[d - first] += n
    top = sorted(series, key=lambda s: -sum(series[s]))[:6]
    return span, {name: series[name] for name in top}


_PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#7f7f7f"]


def line_chart(title: str, span: list[int], series: dict[str, list[int]]) -> Markup:
    """A small line chart with a legend naming every line and a table-free text summary."""
    w, h, pad = 480, 180, 30
    peak = max([1] + [max(v) for v in series.values()])
    step = (w - 2 * pad) / max(1, len(span) - 1)
    parts = [f'<svg class="chart" viewBox="0 0 {w} {h + 20 * len(series)}" role="img" '
             f'aria-labelledby="t-{abs(hash(title))}"><title id="t-{abs(hash(title))}">'
             f'{escape(title)}</title>',
             f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="#555"/>',
             f'<text x="2" y="{pad}" font-size="11">{peak}</text>',
             f'<text x="2" y="{h - pad}" font-size="11">0</text>']
    for i, (name, values) in enumerate(series.items()):
        colour = VECTOR_COLOURS.get(name, _PALETTE[i % len(_PALETTE)])
        dash = "" if i % 2 == 0 else ' stroke-dasharray="5 3"'
        points = " ".join(f"{pad + j * step:.1f},{h - pad - (v / peak) * (h - 2 * pad):.1f}"
                          for j, v in enumerate(values))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} '
                     f'points="{points}"/>')
        y = h + 20 * i
        parts.append(f'<line x1="{pad}" y1="{y - 4}" x2="{pad + 20}" y2="{y - 4}" '
                     f'stroke="{colour}" stroke-width="3"{dash}/>'
                     f'<text x="{pad + 26}" y="{y}" font-size="12">{escape(name)}: '
                     f'{sum(values)}</text>')
    if not series:
        parts.append(f'<text x="{pad}" y="{h / 2}" font-size="13">nothing in this window</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def vectors() -> tuple[str, ...]:
    return VECTORS
