"""A member's intake settings: when a cluster becomes a draft report, and what happens then.

A cluster crosses the threshold when it holds at least ``min_count`` messages from at least
``min_senders`` distinct senders received in at least ``min_countries`` countries. The hub
then drafts a report for the member's analysts; with ``auto_publish`` it publishes the draft
at once at ``publish_tlp``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import Connection, delete, insert, select

from bayanihan.errors import InvalidInput
from bayanihan.messages.tables import message_settings
from bayanihan.model.stix import now_us

TLPS = ("clear", "green", "amber", "amber+strict", "red")


@dataclass(frozen=True)
class IntakeSettings:
    min_count: int = 50
    min_senders: int = 3
    min_countries: int = 1
    auto_publish: bool = False
    publish_tlp: str = "amber"

    def crossed(self, count: int, senders: int, countries: int) -> bool:
        return (count >= self.min_count and senders >= self.min_senders
                and countries >= self.min_countries)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


DEFAULT = IntakeSettings()


def parse(data: object, base: IntakeSettings = DEFAULT) -> IntakeSettings:
    """Settings from a JSON object (fields not given keep ``base``); InvalidInput naming one."""
    if not isinstance(data, dict):
        raise InvalidInput("send a JSON object of settings", ["body"])
    values = base.as_dict()
    for name, value in data.items():
        if name not in values:
            raise InvalidInput(f"{name}: unknown setting", [name])
        if name == "auto_publish":
            if not isinstance(value, bool):
                raise InvalidInput("auto_publish: true or false", [name])
        elif name == "publish_tlp":
            if value not in TLPS:
                raise InvalidInput("publish_tlp: one of " + ", ".join(TLPS), [name])
        elif isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10**9:
            raise InvalidInput(f"{name}: a whole number from 1", [name])
        values[name] = value
    return IntakeSettings(**values)  # type: ignore[arg-type]


def get(conn: Connection, member: str) -> IntakeSettings:
    row = conn.execute(select(message_settings).where(message_settings.c.member == member)).first()
    if row is None:
        return DEFAULT
    return IntakeSettings(row.min_count, row.min_senders, row.min_countries,
                          bool(row.auto_publish), row.publish_tlp)


def put(conn: Connection, member: str, value: IntakeSettings) -> IntakeSettings:
    conn.execute(delete(message_settings).where(message_settings.c.member == member))
    conn.execute(insert(message_settings).values(member=member, updated_us=now_us(),
                                                 **value.as_dict()))
    return value
