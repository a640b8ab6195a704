"""Loaded into Python tools under test: reports (and, without a namespace, refuses) network use,
and reports attempts to reach beyond the sandbox (files outside the tool's view, databases,
signals to other processes).

Each attempt is written as one JSON line to the harness's event pipe. Under bubblewrap the
kernel makes the attempts fail; the hook only names them. In an unsafe run (no bubblewrap,
``BAYANIHAN_SANDBOX_BLOCK_ESCAPES=1``) it also refuses them, which binds Python tools only.
"""

import contextlib
import json
import os
import sys

_FD = os.environ.get("BAYANIHAN_SANDBOX_EVENT_FD")
_BLOCK = os.environ.get("BAYANIHAN_SANDBOX_BLOCK_NET") == "1"
_BLOCK_ESCAPES = os.environ.get("BAYANIHAN_SANDBOX_BLOCK_ESCAPES") == "1"
_NET = {"socket.connect", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo"}
_SYSTEM = ("/usr/", "/lib", "/bin/", "/sbin/", "/etc/ld.so.cache", "/etc/localtime",
           "/etc/ssl/", "/etc/alternatives/", "/dev/null", "/dev/urandom", "/dev/random",
           "/dev/zero", "/dev/tty", "/dev/fd/", "/dev/shm/", "/proc/self/",
           "/proc/thread-self/")
_TMP = ("/tmp/",) if os.environ.get("BAYANIHAN_SANDBOX_PRIVATE_TMP") == "1" else ()
_VIEWS = tuple(p.rstrip("/") for p in
               os.environ.get("BAYANIHAN_SANDBOX_VIEWS", "").split(os.pathsep) if p)
CURRENT = {"case": None}


def _reading(mode, flags):
    if isinstance(mode, str):
        return not any(c in mode for c in "wax+")
    return isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) == 0


def _outside(path, reading):
    """Whether ``path`` lies outside what the tool was given (its views, the system, /tmp)."""
    if isinstance(path, int):
        return False
    try:
        name = os.path.abspath(os.fsdecode(path))
    except (TypeError, ValueError):
        return False
    if name.startswith(_SYSTEM) or name.startswith(f"/proc/{os.getpid()}/"):
        return False
    if any(name == v or name.startswith(v + "/") for v in _VIEWS):
        return False
    if _TMP and (name == "/tmp" or name.startswith("/tmp/")):
        # its private /tmp is scratch, unless it looks there for what is not there
        return reading and not os.path.exists(name)
    return True


def _escape(event, args):
    """The kind of escape an audit event is, or None."""
    if event == "open" and args and _outside(args[0], _reading(*(list(args[1:3]) + [None] * 2)[:2])):
        return "file"
    if event == "sqlite3.connect":
        return "database"
    if event in ("os.kill", "os.killpg") and args and args[0] not in (0, os.getpid()):
        return "signal"
    return None


def _report(record):
    if CURRENT["case"] is not None:
        record["case"] = CURRENT["case"]
    with contextlib.suppress(OSError, ValueError, TypeError):
        os.write(int(_FD), (json.dumps(record) + "\n").encode())


def _hook(event, args):
    if event in _NET:
        target = f"{args[0]}:{args[1]}" if event == "socket.getaddrinfo" else args[-1]
        _report({"event": "network", "call": event, "target": repr(target)[:200]})
        if _BLOCK:
            raise PermissionError("network access refused by the sandbox")
        return
    kind = _escape(event, args)
    if kind is None:
        return
    _report({"event": "escape", "kind": kind, "call": event, "target": repr(args[0])[:200]})
    if _BLOCK_ESCAPES:
        raise PermissionError(f"{kind} access refused by the sandbox")


if _FD:
    try:
        os.write(int(_FD), b'{"event": "hello"}\n')
        sys.addaudithook(_hook)
    except (OSError, ValueError):
        pass
