"""The technique catalogue shipped in the package: ATT&CK and ATLAS ids a fresh hub knows.

``techniques.json`` (made by ``tools/technique_catalogue.py`` from the MITRE releases) maps
each technique id (``T1566``, ``T1566.002``, ``AML.T0051``) to the STIX id of its
``attack-pattern``, its name and tactics. A report may name a technique that the hub has
not stored yet; it then refers to MITRE's own attack-pattern id, so when the operator
loads the full release with ``bayanihan ingest`` the references resolve to it. Loaded on
first use (``Hub.open`` warms it).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import orjson

__all__ = ["CATALOGUE_PATH", "NOTICES", "catalogue", "lookup"]

CATALOGUE_PATH = Path(__file__).with_name("techniques.json")
NOTICES = {
    "attack": "MITRE ATT&CK(R) -- (c) The MITRE Corporation. This work is reproduced and "
              "distributed with the permission of The MITRE Corporation. Terms of use: "
              "https://attack.mitre.org/resources/legal-and-branding/terms-of-use/",
    "atlas": "MITRE ATLAS(TM) -- Copyright 2021-2025 MITRE. Licensed under the Apache License, "
             "Version 2.0 (http://www.apache.org/licenses/LICENSE-2.0); distributed on an "
             "\"AS IS\" BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND.",
}


@cache
def catalogue() -> dict[str, dict[str, Any]]:
    """Technique id -> {stix_id, name, tactics, modified}."""
    if not CATALOGUE_PATH.exists():
        return {}
    return orjson.loads(CATALOGUE_PATH.read_bytes())["techniques"]


def lookup(technique_id: str) -> dict[str, Any] | None:
    return catalogue().get(technique_id)
