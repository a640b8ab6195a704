"""Valid STIX 2.1 objects for tests (deterministic when given a seed)."""

from __future__ import annotations

import random
import uuid
from typing import Any

from bayanihan.model.tlp import TLP


def indicator(n: int = 0, *, tlp: TLP | None = TLP.GREEN, seed: int | None = None,
              modified: str = "2026-11-01T00:00:00.000Z", **extra: Any) -> dict[str, Any]:
    rnd = random.Random(seed if seed is not None else n)
    oid = f"indicator--{uuid.UUID(int=rnd.getrandbits(128), version=4)}"
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": oid,
        "created": "2026-11-01T00:00:00.000Z",
        "modified": modified,
        "name": f"Phishing URL {n}",
        "indicator_types": ["malicious-activity"],
        "pattern": f"[url:value = 'http://login-{n}.bank-verify.example/th']",
        "pattern_type": "stix",
        "valid_from": "2026-11-01T00:00:00Z",
    }
    if tlp is not None:
        obj["object_marking_refs"] = [tlp.marking_id]
    obj.update(extra)
    return obj


def bundle(*objects: dict[str, Any]) -> dict[str, Any]:
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": list(objects)}
