"""TLP 2.0 as STIX 2.1 marking-definition objects (OASIS cti-stix-common-objects).

The ``stix2`` library only knows TLP 1.0; the hub carries the OASIS TLP 2.0 objects
and reads TLP 1.0 references as their 2.0 equivalents (WHITE is CLEAR).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_CREATED = "2022-10-01T00:00:00.000Z"


class TLP(StrEnum):
    """TLP 2.0 levels, ordered from the widest audience to the narrowest."""

    CLEAR = "clear"
    GREEN = "green"
    AMBER = "amber"
    AMBER_STRICT = "amber+strict"
    RED = "red"

    @property
    def rank(self) -> int:
        return _ORDER.index(self)

    @property
    def marking_id(self) -> str:
        return MARKING_IDS[self]

    @property
    def label(self) -> str:
        return f"TLP:{self.value.upper()}"

    @classmethod
    def parse(cls, text: str) -> TLP:
        """``"amber+strict"``, ``"TLP:AMBER+STRICT"``, ``"white"`` … to a level."""
        key = text.strip().lower().removeprefix("tlp:").replace("_", "+")
        if key == "white":
            key = "clear"
        try:
            return cls(key)
        except ValueError:
            raise ValueError(
                f"unknown TLP level {text!r}: use clear, green, amber, amber+strict or red"
            ) from None


_ORDER = [TLP.CLEAR, TLP.GREEN, TLP.AMBER, TLP.AMBER_STRICT, TLP.RED]

MARKING_IDS: dict[TLP, str] = {
    TLP.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    TLP.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    TLP.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    TLP.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    TLP.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

#: TLP 1.0 marking ids predefined by STIX 2.1, read as their TLP 2.0 level.
TLP1_IDS: dict[str, TLP] = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": TLP.CLEAR,
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": TLP.GREEN,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": TLP.AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": TLP.RED,
}

LEVEL_BY_MARKING: dict[str, TLP] = {v: k for k, v in MARKING_IDS.items()} | TLP1_IDS

#: What an object with no TLP marking is treated as.
DEFAULT_TLP = TLP.AMBER


def marking_definition(level: TLP) -> dict[str, object]:
    """The OASIS TLP 2.0 marking-definition object for ``level``."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": MARKING_IDS[level],
        "created": TLP2_CREATED,
        "name": level.label,
        "extensions": {
            TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level.value}
        },
    }


def tlp_of(marking_refs: Iterable[str] | None) -> TLP | None:
    """The most restrictive TLP among ``marking_refs``; None when there is none."""
    found: TLP | None = None
    for ref in marking_refs or ():
        level = LEVEL_BY_MARKING.get(ref)
        if level is not None and (found is None or level.rank > found.rank):
            found = level
    return found


def object_marking_refs(obj: dict[str, Any]) -> list[str]:
    """Every marking an object carries: ``object_marking_refs`` and the ``marking_ref`` of each
    of its ``granular_markings``. The most restrictive TLP on any part governs the whole
    object (a CLEAR indicator whose description is marked RED is RED): the hub serves
    objects whole, so it never hands out a part to a reader the part's marking excludes."""
    refs = obj.get("object_marking_refs")
    found = [r for r in refs if isinstance(r, str)] if isinstance(refs, list) else []
    granular = obj.get("granular_markings")
    if isinstance(granular, list):
        found += [g["marking_ref"] for g in granular
                  if isinstance(g, dict) and isinstance(g.get("marking_ref"), str)]
    return found


def is_tlp_marking(ref: str) -> bool:
    return ref in LEVEL_BY_MARKING
