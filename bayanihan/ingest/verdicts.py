"""Validation verdicts of parsed objects, with no database code: what worker processes run.

A validation worker imports only this module and what it needs (``model.validation``,
``model.stix20``, orjson), not the store or SQLAlchemy, so it is ready a few tenths of a
second after it is spawned. ``bundles.check_objects`` takes the verdicts as ``known``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from typing import Any

import orjson

from bayanihan.model.stix20 import is_stix20, upgrade
from bayanihan.model.validation import validate

__all__ = ["Verdicts", "problems_of", "slice_verdicts", "verdicts", "warm"]

#: The problems of the objects of a bundle that have any: index -> [(field, reason)].
Verdicts = dict[int, list[tuple[str, str]]]


def problems_of(obj: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, reason) of each problem of one JSON object, upgraded first if it is STIX 2.0."""
    if is_stix20(obj):
        obj = upgrade(obj)
    return [(p.path, p.reason) for p in validate(obj)]


def verdicts(objects: Sequence[Any], part: int = 0, parts: int = 1) -> Verdicts:
    """Validation verdicts of the JSON objects in ``objects`` (no database access); with
    ``parts`` > 1, of every ``parts``-th object from index ``part``."""
    found: Verdicts = {}
    for i in range(part, len(objects), parts):
        obj = objects[i]
        if isinstance(obj, dict) and (problems := problems_of(obj)):
            found[i] = problems
    return found


def slice_verdicts(raw: bytes) -> Verdicts:
    """In a worker: the verdicts of a JSON list of objects (a slice of a large ingest)."""
    objects = orjson.loads(raw)
    if not isinstance(objects, list):
        raise ValueError("a slice is a JSON list of objects")
    return verdicts(objects)


def _watch_parent(parent: int, every: float = 0.5) -> None:
    """In a worker: end this process as soon as the process that started it is gone, however
    it died (``kill -9`` included: a worker blocked on its task queue never learns of it
    otherwise, and the multiprocessing resource tracker lives as long as any worker does).
    Polls ``getppid`` rather than ``PR_SET_PDEATHSIG``, which fires when the *thread* that
    spawned the worker ends, not the process."""
    while os.getppid() == parent:
        time.sleep(every)
    os._exit(0)


def warm(parent: int | None = None) -> None:
    """Worker start-up: die with the parent; compile the schemas before the first task."""
    if parent is not None:
        threading.Thread(target=_watch_parent, args=(parent,), name="bayanihan-parent-watch",
                         daemon=True).start()
        if os.getppid() != parent:  # the parent died while this worker started
            os._exit(0)
    from bayanihan.model.validation import load_schemas

    load_schemas()
