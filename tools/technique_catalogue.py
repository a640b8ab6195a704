"""Regenerate ``bayanihan/model/techniques.json``: the technique catalogue shipped in the package.

Reads the ATT&CK and ATLAS releases in ``../shared/data`` (or the files given) and keeps, per
technique that is neither revoked nor deprecated: its id (``T1566``, ``AML.T0051``), the
STIX id of its ``attack-pattern``, its name and its tactics. With MITRE's ATT&CK notice and
ATLAS's Apache-2.0 notice. Run from the checkout::

    .venv/bin/python tools/technique_catalogue.py
    .venv/bin/python tools/technique_catalogue.py enterprise.json.gz mobile.json ics.json atlas.json
"""

from __future__ import annotations

import argparse
import gzip
import sys
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bayanihan.model.atlas import external_ids  # noqa: E402
from bayanihan.model.techniques import CATALOGUE_PATH, NOTICES  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
DEFAULT_FILES = [DATA / "attack" / "enterprise-attack-stix20.json.gz",
                 DATA / "attack" / "mobile-attack-17.1.json.gz", DATA / "atlas" / "stix-atlas.json"]


def read_objects(path: Path) -> list[dict[str, Any]]:
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    doc = orjson.loads(raw)
    return doc["objects"] if isinstance(doc, dict) else doc


def catalogue(paths: list[Path]) -> dict[str, Any]:
    techniques: dict[str, dict[str, Any]] = {}
    sources = []
    for path in paths:
        objects = read_objects(path)
        sources.append({"file": path.name, "objects": len(objects)})
        for obj in objects:
            if obj.get("revoked") or obj.get("x_mitre_deprecated"):
                continue
            for ext in external_ids(obj):
                prior = techniques.get(ext)
                if prior is not None and prior["modified"] >= str(obj.get("modified", "")):
                    continue
                techniques[ext] = {
                    "stix_id": obj["id"], "name": obj.get("name", ""),
                    "tactics": sorted({p["phase_name"] for p in obj.get("kill_chain_phases", ())
                                       if isinstance(p, dict) and "phase_name" in p}),
                    "modified": str(obj.get("modified", "")),
                }
    return {"notices": NOTICES, "sources": sources,
            "techniques": dict(sorted(techniques.items()))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, default=DEFAULT_FILES)
    parser.add_argument("--out", type=Path, default=CATALOGUE_PATH)
    args = parser.parse_args()
    built = catalogue(args.files)
    args.out.write_bytes(orjson.dumps(built) + b"\n")
    print(f"{len(built['techniques'])} techniques -> {args.out}")


if __name__ == "__main__":
    main()
