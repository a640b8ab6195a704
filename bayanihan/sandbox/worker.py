"""Child-side shim for a Python callable tool: JSON Lines in, JSON Lines out.

Run as ``python worker.py module:function``. The function takes a case dict and returns a
label string, a ``(label, score)`` pair or a dict with ``label`` and ``score``. An exception
becomes ``{"id", "error": "exception"}``; ``MemoryError`` becomes ``"error": "memory"``.
Standalone on purpose: it imports nothing from the package, so it starts fast.
"""

import importlib
import json
import os
import sys


def _verdict(case_id, result):
    if isinstance(result, dict):
        return {"id": case_id, "label": result.get("label"), "score": result.get("score")}
    if isinstance(result, (tuple, list)) and len(result) == 2:
        return {"id": case_id, "label": result[0], "score": result[1]}
    return {"id": case_id, "label": result, "score": None}


def _answer(func, line, current):
    try:
        case = json.loads(line)
        case_id = case.get("id")
    except (ValueError, AttributeError):
        return {"id": None, "error": "malformed-input"}
    current["case"] = case_id
    try:
        out = _verdict(case_id, func(case))
    except MemoryError:
        out = {"id": case_id, "error": "memory"}
    except Exception as exc:  # the tool's fault, recorded against this case
        out = {"id": case_id, "error": "exception", "detail": f"{type(exc).__name__}: {exc}"[:300]}
    current["case"] = None
    return out


def main():
    module_name, _, func_name = sys.argv[1].partition(":")
    func = getattr(importlib.import_module(module_name), func_name)
    try:
        current = sys.modules["sitecustomize"].CURRENT
    except (KeyError, AttributeError):
        current = {}
    pending = b""
    while True:
        chunk = os.read(0, 1 << 16)
        if not chunk:
            return
        pending += chunk
        *lines, pending = pending.split(b"\n")
        out = []
        for line in lines:
            if line.strip():
                out.append(json.dumps(_answer(func, line, current), ensure_ascii=False))
        if out:
            data = ("\n".join(out) + "\n").encode()
            while data:
                data = data[os.write(1, data):]


if __name__ == "__main__":
    main()
