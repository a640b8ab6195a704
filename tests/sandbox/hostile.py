"""A hostile tool under test (copied into each test's folder; never imported by the hub).

Each case's text names one attack and its target, ``ATTACK|ARG``; the tool tries it and
answers ``escaped`` when it worked, ``blocked`` when it failed (``spawned`` for the
grandchild, whose survival only the test can judge; ``forks:N`` for the fork bomb). It uses
only the standard library so any ``python3`` runs it.
"""

import contextlib
import ctypes
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time

CLONE_NEWUSER = 0x10000000


def read(path, marker=""):
    with open(path, "rb") as fh:
        data = fh.read()
    return marker.encode() in data if marker else True


def environ_anywhere(marker):
    for name in os.listdir("/proc"):
        if name.isdigit():
            with contextlib.suppress(OSError):
                if read(f"/proc/{name}/environ", marker):
                    return True
    return False


def write(path):
    with open(path, "w") as fh:
        fh.write("written by a hostile tool\n")
    return True


def update(db):
    conn = sqlite3.connect(f"file:{db}?mode=rw", uri=True, timeout=1)
    try:
        cur = conn.execute("UPDATE stix_objects SET tlp='clear', audience=NULL WHERE tlp='red'")
        conn.execute("UPDATE stix_objects SET tlp='clear'")
        conn.commit()
        return cur.rowcount >= 0
    finally:
        conn.close()


def signal_pid(pid):
    os.kill(int(pid), signal.SIGUSR1)
    return True


def signal_parent(_):
    os.kill(os.getppid(), signal.SIGUSR1)
    return os.getppid() > 1  # pid 1 is the sandbox's own reaper, not the hub


def connect(port):
    socket.create_connection(("127.0.0.1", int(port)), timeout=1).close()
    return True


def resolve(name):
    socket.getaddrinfo(name, 80)
    return True


def grandchild(marker):
    subprocess.Popen([sys.executable, "-c", "import os, time; os.setsid(); time.sleep(600)",
                      marker], start_new_session=True, stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True)
    time.sleep(0.2)
    return "spawned"


def fork_bomb(count):
    children = 0
    for _ in range(int(count)):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            time.sleep(30)
            os._exit(0)
        children += 1
    return f"forks:{children}"


def new_namespace(_):
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.unshare(CLONE_NEWUSER) == 0


def nested_namespace(_):
    """A raw clone(CLONE_NEWUSER): seccomp (no argument filter) lets the call through, so
    only bubblewrap's --disable-userns refuses it."""
    number = {"x86_64": 56, "aarch64": 220}.get(os.uname().machine)
    if number is None:
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    pid = libc.syscall(number, CLONE_NEWUSER | signal.SIGCHLD, 0, 0, 0, 0)
    if pid == 0:
        os._exit(0)
    if pid < 0:
        return False
    os.waitpid(pid, 0)
    return True


def fill_disk(where):
    """Write 1 MiB files into ``where`` (its work directory or /tmp) until refused."""
    written = 0
    for i in range(400):
        try:
            with open(os.path.join(where or ".", f"fill-{i}"), "wb") as fh:
                fh.write(b"\0" * (1 << 20))
        except OSError:
            break
        written += 1
    return f"mib:{written}"


def hub_pid_visible(pid):
    return pid in os.listdir("/proc")


def descriptors(_):
    targets = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            targets.append(os.readlink(f"/proc/self/fd/{fd}"))
    return "fds:" + ";".join(sorted(targets))


def environment(marker):
    return any(marker in v for v in os.environ.values())


ATTACKS = {
    "shadow": lambda arg: read("/etc/shadow"),
    "read": read,
    "environ": lambda arg: read(arg.split("@")[1], arg.split("@")[0]),
    "environ_any": environ_anywhere,
    "write": write,
    "sqlite": update,
    "signal": signal_pid,
    "signal_parent": signal_parent,
    "connect": connect,
    "resolve": resolve,
    "grandchild": grandchild,
    "fork_bomb": fork_bomb,
    "unshare": new_namespace,
    "nested_userns": nested_namespace,
    "fill": fill_disk,
    "proc": hub_pid_visible,
    "fds": descriptors,
    "env": environment,
}

for line in sys.stdin:
    case = json.loads(line)
    attack, _, arg = case["text"].partition("|")
    try:
        outcome = ATTACKS[attack](arg)
    except Exception as exc:
        outcome = False
        print(f"{case['id']}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
    label = outcome if isinstance(outcome, str) else ("escaped" if outcome else "blocked")
    print(json.dumps({"id": case["id"], "label": label}), flush=True)
