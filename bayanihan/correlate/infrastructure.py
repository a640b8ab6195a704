"""Infrastructure links: normalised observables two reports share.

A report's cyber-observables (as the report ingest normalised them) give link values of six
kinds: ``url`` (the canonical URL), ``domain`` (registered domain, eTLD+1, of URLs, domain
names and sender addresses), ``ip``, ``phone`` (E.164), ``wallet`` and ``sender`` (e-mail
address), and ``lookalike``: the confusable skeleton (:func:`bayanihan.model.skeleton.skeleton`,
Unicode TR39) of that registered domain, so ``pаypal-verify.com`` (Cyrillic ``а``) meets
``paypal-verify.com`` ("lookalike of …"; not counted again when the two share the domain
itself). Values on the warning lists (:mod:`bayanihan.correlate.links`, e.g. URL shorteners,
big webmail, public DNS) are never evidence, and a value that more than
``max_reports_per_value`` reports hold links nothing more: a common value is not a campaign.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, delete, func, select

from bayanihan.correlate.links import Link, LinkRules, pair
from bayanihan.correlate.tables_campaigns import infra_value
from bayanihan.ingest.observables.domains import registered_domain
from bayanihan.model.skeleton import skeleton
from bayanihan.store.bulk import insert_rows

__all__ = ["index_values", "shared_values", "values_of"]

MAX_VALUE = 400
_SCO_KIND = {"url": "url", "ipv4-addr": "ip", "ipv6-addr": "ip",
             "bayanihan-phone-number": "phone", "bayanihan-crypto-wallet": "wallet",
             "email-addr": "sender"}


def _host_of(url: str) -> str | None:
    rest = url.split("://", 1)[-1]
    host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1]
    if host.startswith("["):
        return None  # an IPv6 literal: no registered domain
    return host.split(":", 1)[0].lower() or None


def _domain(host: str | None) -> str | None:
    if not host or host.replace(".", "").isdigit():
        return None
    try:
        return registered_domain(host.encode("idna").decode("ascii"))
    except (UnicodeError, ValueError):
        return None


def _skeleton(domain: str) -> str:
    try:
        return skeleton(domain.encode("ascii").decode("idna"))
    except UnicodeError:
        return domain


def values_of(objects: Iterable[dict[str, Any]]) -> set[tuple[str, str]]:
    """(kind, value) link values of a report's cyber-observables."""
    out: set[tuple[str, str]] = set()
    for obj in objects:
        value = obj.get("value")
        if not isinstance(value, str) or not value:
            continue
        kind = _SCO_KIND.get(obj.get("type", ""))
        host: str | None = None
        if kind is not None:
            out.add((kind, value.lower() if kind in ("sender", "ip") else value))
        if obj.get("type") == "url":
            host = _host_of(value)
        elif obj.get("type") == "domain-name":
            host = value.lower()
        elif obj.get("type") == "email-addr":
            host = value.rsplit("@", 1)[-1].lower()
        domain = _domain(host)
        if domain:
            out.add(("domain", domain))
            out.add(("lookalike", _skeleton(domain)))
    return {(k, v) for k, v in out if len(v) <= MAX_VALUE}


def index_values(conn: Connection, report_id: str, values: set[tuple[str, str]]) -> None:
    """Make ``values`` the report's link values (replacing any it had)."""
    conn.execute(delete(infra_value).where(infra_value.c.report_id == report_id))
    insert_rows(conn, infra_value, ("kind", "value", "report_id"),
                [(k, v, report_id) for k, v in sorted(values)])


def shared_values(conn: Connection, report_id: str, values: set[tuple[str, str]],
                  rules: LinkRules) -> tuple[list[Link], list[tuple[str, str]]]:
    """Links to other reports through ``values``, and the values skipped as too common.

    A value is skipped when it is on a warning list or held by more than
    ``rules.max_reports_per_value`` reports (this one included).
    """
    usable = [(k, v) for k, v in values  # a lookalike of a common domain is common too
              if not rules.is_common("domain" if k == "lookalike" else k, v.lower())]
    common = sorted(set(values) - set(usable))
    holders: dict[tuple[str, str], list[str]] = defaultdict(list)
    for kind in {k for k, _ in usable}:
        wanted = [v for k, v in usable if k == kind]
        for start in range(0, len(wanted), 500):
            counts: dict[str, int] = dict(conn.execute(
                select(infra_value.c.value, func.count())
                .where(infra_value.c.kind == kind, infra_value.c.value.in_(wanted[start:start + 500]))
                .group_by(infra_value.c.value)).all())
            too_many = {v for v, n in counts.items() if n > rules.max_reports_per_value}
            common += [(kind, v) for v in sorted(too_many)]
            ok = [v for v in counts if v not in too_many]
            if not ok:
                continue
            rows = conn.execute(select(infra_value.c.value, infra_value.c.report_id).where(
                infra_value.c.kind == kind, infra_value.c.value.in_(ok),
                infra_value.c.report_id != report_id))
            for value, other in rows:
                holders[(kind, other)].append(value)
    links = []
    for (kind, other), matched in sorted(holders.items()):
        if kind == "lookalike" and ("domain", other) in holders:
            continue  # the same registered domain: already a link
        a, b = pair(report_id, other)
        why = (f"lookalike of {', '.join(sorted(matched))}" if kind == "lookalike"
               else f"{len(matched)} shared {kind} value(s)")
        links.append(Link(a, b, kind, 1.0, tuple(sorted(matched)), why))
    return links, common
