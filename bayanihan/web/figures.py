"""The overview's numbers and charts: counts by member state and vector over a window,
trends by vector and by language. Every query is filtered by ``share.policy.visible``;
the charts are SVG drawn here (no charting library, nothing fetched by the browser)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import Connection, func, select

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


@dataclass(frozen=True)
class Seen:
    """One visible report in the window: its vector, first-seen day, countries, languages."""

    vector: str
    day: int
    countries: tuple[str, ...]
    languages: tuple[str, ...]


def window(conn: Connection, reader: Reader, days: int) -> list[Seen]:
    """The reports the reader may see whose last sighting falls in the last ``days`` days.

    Two statements: the reports (``report_index`` by vector and last seen, the access
    policy applied once per report), then their country and language facets by primary key.
    """
    since = now_us() - days * DAY_US
    reports = conn.execute(
        select(report_index.c.object_pk, report_index.c.vector, report_index.c.first_seen_us)
        .join(stix_objects, stix_objects.c.pk == report_index.c.object_pk)
        .where(report_index.c.vector.in_(VECTORS), report_index.c.last_seen_us >= since,
               # coalesce(): SQLite would otherwise walk every latest object by the
               # (is_latest, date_added) index instead of the window's reports
               func.coalesce(stix_objects.c.is_latest, False).is_(True),
               visible(reader))).all()
    facets: dict[int, dict[str, list[str]]] = {}
    pks = [r.object_pk for r in reports]
    for i in range(0, len(pks), 5000):
        for pk, facet, value in conn.execute(
                select(report_facets.c.object_pk, report_facets.c.facet, report_facets.c.value)
                .where(report_facets.c.object_pk.in_(pks[i:i + 5000]),
                       report_facets.c.facet.in_(("country", "language")))):
            facets.setdefault(pk, {}).setdefault(facet, []).append(value)
    return [Seen(r.vector, r.first_seen_us // DAY_US,
                 tuple(facets.get(r.object_pk, {}).get("country", ())),
                 tuple(facets.get(r.object_pk, {}).get("language", ())))
            for r in reports]


def tiles(seen: list[Seen]) -> list[Tile]:
    """The eleven member states with counts by vector of the reports targeting them."""
    counts: dict[str, dict[str, int]] = {code: {} for code in MEMBER_STATES}
    for s in seen:
        for code in s.countries:
            if code in counts:
                counts[code][s.vector] = counts[code].get(s.vector, 0) + 1
    return [Tile(code, MEMBER_STATES[code][0], counts[code]) for code in MEMBER_STATES]


def trend(seen: list[Seen], days: int, by: str) -> tuple[list[int], dict[str, list[int]]]:
    """(day numbers, series name -> count per day) by ``vector`` or ``language``, for the
    reports first seen in the window; the six largest series."""
    last = now_us() // DAY_US
    first = last - days + 1
    span = list(range(first, last + 1))
    series: dict[str, list[int]] = {}
    for s in seen:
        if first <= s.day <= last:
            for name in (s.vector,) if by == "vector" else s.languages:
                series.setdefault(name, [0] * len(span))[s.day - first] += 1
    top = sorted(series, key=lambda k: -sum(series[k]))[:6]
    return span, {name: series[name] for name in top}


#: the overview's figures are kept this long per (organisation, window) while no report is
#: added; the live feed and the alerts beside them are never cached
CACHE_SECONDS = 60.0


def cache_of(app: Any, name: str) -> dict[Any, Any]:
    """A cache kept on the application (one per hub, never shared between hubs)."""
    caches: dict[str, dict[Any, Any]] = app.state.__dict__.setdefault("web_caches", {})
    return caches.setdefault(name, {})


@dataclass(frozen=True)
class Summary:
    tiles: list[Tile]
    span: list[int]
    by_vector: dict[str, list[int]]
    by_language: dict[str, list[int]]


def summary(conn: Connection, reader: Reader, days: int, cache: dict[Any, Any]) -> Summary:
    """Tiles and both trends for the reader: computed again when a report was indexed since
    (the newest index row is part of the key), and at least once a minute."""
    newest = conn.execute(select(func.max(report_index.c.object_pk))).scalar()
    key = (reader.org, reader.kind, reader.parent, reader.parent_kind, reader.role, days, newest)
    now = time.monotonic()
    hit = cache.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    seen = window(conn, reader, days)
    span, by_vector = trend(seen, days, "vector")
    made = Summary(tiles(seen), span, by_vector, trend(seen, days, "language")[1])
    if len(cache) > 1000:
        cache.clear()
    cache[key] = (now + CACHE_SECONDS, made)
    return made


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
