"""Loaded into Python tools under test: reports (and, without a namespace, refuses) network use.

Each attempt is written as one JSON line to the harness's event pipe.
"""

import contextlib
import json
import os
import sys

_FD = os.environ.get("BAYANIHAN_SANDBOX_EVENT_FD")
_BLOCK = os.environ.get("BAYANIHAN_SANDBOX_BLOCK_NET") == "1"
_NET = {"socket.connect", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo"}
CURRENT = {"case": None}


def _hook(event, args):
    if event not in _NET:
        return
    target = f"{args[0]}:{args[1]}" if event == "socket.getaddrinfo" else args[-1]
    record = {"event": "network", "call": event, "target": repr(target)[:200]}
    if CURRENT["case"] is not None:
        record["case"] = CURRENT["case"]
    with contextlib.suppress(OSError, ValueError, TypeError):
        os.write(int(_FD), (json.dumps(record) + "\n").encode())
    if _BLOCK:
        raise PermissionError("network access refused by the sandbox")


if _FD:
    try:
        os.write(int(_FD), b'{"event": "hello"}\n')
        sys.addaudithook(_hook)
    except (OSError, ValueError):
        pass
