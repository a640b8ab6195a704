"""MISP fields without a STIX home, kept as ``x_misp_*`` custom properties and written back.

- The event's ``threat_level_id``, ``analysis``, ``published``, ``publish_timestamp`` and
  ``RelatedEvent`` go on the hub's report as ``x_misp_event`` (:func:`event_meta`), only the
  keys the event carries. A related event keeps what MISP exports of it except the sending
  instance's database ids (``id``, ``org_id``, ``orgc_id``, ``Org.id``), which mean nothing
  elsewhere.
- An attribute's (or MISP object's) ``first_seen``/``last_seen`` go on the objects made of
  it as ``x_misp_first_seen``/``x_misp_last_seen`` (:func:`seen_notes`), RFC 3339 UTC with
  microseconds (those of a MISP object's attributes in ``x_misp_attribute_seen``, by
  uuid); observed-data also gets them as ``first_observed``/``last_observed`` (the STIX
  home, but it cannot say "no last_seen": STIX requires both ends).

:func:`put_event_meta` and :func:`put_seen` write them back on a PyMISP event/attribute.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pymisp import MISPAttribute, MISPEvent, MISPObject

__all__ = ["event_meta", "put_event_meta", "put_seen", "seen_notes", "seen_stamp"]

_INTS = ("threat_level_id", "analysis", "publish_timestamp")
_RELATED_INTS = ("threat_level_id", "analysis", "distribution", "timestamp")
_RELATED_TEXT = ("uuid", "info", "date")
_SEEN = ("first_seen", "last_seen")


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _published(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


def _org(value: Any) -> dict[str, str] | None:
    if not isinstance(value, dict):
        return None
    org = {k: str(value[k]) for k in ("uuid", "name") if value.get(k) not in (None, "")}
    return org or None


def _related(item: Any) -> dict[str, Any] | None:
    event = item.get("Event", item) if isinstance(item, dict) else None
    if not isinstance(event, dict) or not event.get("uuid"):
        return None
    out: dict[str, Any] = {k: str(event[k]) for k in _RELATED_TEXT if event.get(k) is not None}
    out |= {k: n for k in _RELATED_INTS if (n := _int(event.get(k))) is not None}
    if "published" in event:
        out["published"] = _published(event["published"])
    for key in ("Org", "Orgc"):
        if (org := _org(event.get(key))) is not None:
            out[key.lower()] = org
    return out


def event_meta(event: Mapping[str, Any]) -> dict[str, Any]:
    """The report's ``x_misp_event`` (empty when the event carries none of its fields)."""
    meta: dict[str, Any] = {k: n for k in _INTS if (n := _int(event.get(k))) is not None}
    if "published" in event:
        meta["published"] = _published(event["published"])
    related = [r for item in event.get("RelatedEvent") or () if (r := _related(item))]
    if related:
        meta["related_events"] = related
    return meta


def seen_stamp(value: Any) -> str | None:
    """A MISP ``first_seen``/``last_seen`` as an RFC 3339 UTC timestamp (microseconds);
    None when it is none (PyMISP skips such a value too)."""
    if value in (None, ""):
        return None
    try:
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, int | float) or str(value).replace(".", "", 1).isdigit():
            moment = datetime.fromtimestamp(float(value), UTC)
        else:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # year 1 with a positive offset
        return None
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def seen_notes(attribute: Mapping[str, Any]) -> dict[str, str]:
    """``x_misp_first_seen``/``x_misp_last_seen`` of a MISP attribute (as a dict)."""
    return {f"x_misp_{k}": s for k in _SEEN if (s := seen_stamp(attribute.get(k))) is not None}


def put_event_meta(event: MISPEvent, meta: Any) -> None:
    """Write a report's ``x_misp_event`` back on the event."""
    if not isinstance(meta, dict):
        return
    for key in ("threat_level_id", "analysis"):
        if isinstance(meta.get(key), int):
            setattr(event, key, meta[key])
    if "published" in meta:
        event.published = bool(meta["published"])
    if isinstance(meta.get("publish_timestamp"), int):
        event.publish_timestamp = datetime.fromtimestamp(meta["publish_timestamp"], UTC)
    for related in meta.get("related_events") or ():
        sub = MISPEvent()
        fields = {k: v for k, v in related.items() if k not in ("org", "orgc")}
        fields |= {k.capitalize(): related[k] for k in ("org", "orgc") if related.get(k)}
        sub.from_dict(**fields)
        event.RelatedEvent.append({"Event": sub})  # type: ignore[arg-type]  # pymisp's shape


def put_seen(attribute: MISPAttribute | MISPObject, stored: Iterable[Mapping[str, Any]]) -> None:
    """An attribute's (or object's) ``first_seen``/``last_seen`` from the ``x_misp_*`` of
    the STIX objects made of it; nothing changes when none of them has either (an object
    stored before they were kept)."""
    stored = list(stored)
    if not any(f"x_misp_{k}" in obj for obj in stored for k in _SEEN):
        return
    for key in _SEEN:
        value = next((obj[f"x_misp_{key}"] for obj in stored if obj.get(f"x_misp_{key}")), None)
        if value is not None:
            setattr(attribute, key, value)
        elif key in attribute.__dict__:
            delattr(attribute, key)
