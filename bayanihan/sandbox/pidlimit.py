"""A process-count cap for one tool process tree, through the kernel's ``pids`` cgroup.

``RLIMIT_NPROC`` does not bind a tool whose uid maps to root outside its user namespace (the
hub runs as root on many machines), so the cap that holds is a ``pids`` cgroup per tool
process: ``pids.max`` bounds a fork bomb, and the cgroup's member list lets the runner kill
every last process of the tree, even one that started a new session. Where no writable
``pids`` hierarchy exists the cap is not applied and the card says so.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import time
import uuid
from pathlib import Path

PARENT = "bayanihan-sandbox"


@functools.cache
def hierarchy() -> Path | None:
    """A writable ``pids`` cgroup folder to create tool cgroups in, or None."""
    candidates: list[Path] = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mounts").read_text().splitlines():
            _, where, fstype, opts, *_ = line.split()
            if fstype == "cgroup" and "pids" in opts.split(","):
                candidates.append(Path(where))
            elif fstype == "cgroup2":
                root = Path(where)
                enabled = (root / "cgroup.subtree_control")
                if enabled.exists() and "pids" in enabled.read_text().split():
                    candidates.append(root)
    for root in candidates:
        folder = root / PARENT
        try:
            folder.mkdir(exist_ok=True)
            probe = folder / f"probe-{os.getpid()}"
            probe.mkdir()
            ok = (probe / "pids.max").exists()
            probe.rmdir()
        except OSError:
            continue
        if ok:
            return folder
    return None


class PidCap:
    """One cgroup capped at ``limit`` processes; ``join`` runs in the child before exec."""

    def __init__(self, limit: int) -> None:
        base = hierarchy()
        self.path: Path | None = None
        if base is None:
            return
        path = base / uuid.uuid4().hex
        try:
            path.mkdir()
            (path / "pids.max").write_text(str(limit))
        except OSError:
            with contextlib.suppress(OSError):
                path.rmdir()
            return
        self.path = path
        self._procs = str(path / "cgroup.procs")

    @property
    def applied(self) -> bool:
        return self.path is not None

    def join(self) -> None:
        """Move the calling process into the cgroup (async-signal-safe enough for preexec)."""
        if self.path is not None:
            fd = os.open(self._procs, os.O_WRONLY)
            try:
                os.write(fd, b"0")
            finally:
                os.close(fd)

    def members(self) -> list[int]:
        if self.path is None:
            return []
        try:
            return [int(p) for p in Path(self._procs).read_text().split()]
        except (OSError, ValueError):
            return []

    def reap(self, timeout: float = 10.0) -> list[int]:
        """Kill every process left in the cgroup, remove it; return pids that would not die."""
        if self.path is None:
            return []
        deadline = time.monotonic() + timeout
        left = self.members()
        while left and time.monotonic() < deadline:
            for pid in left:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.01)
            left = self.members()
        with contextlib.suppress(OSError):
            self.path.rmdir()
        return left
