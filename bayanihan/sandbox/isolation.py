"""Isolation of a tool process: rlimits, clean environment, private temp dir, no network.

The network is removed with a Linux network namespace (``unshare(CLONE_NEWNET)``) when the
kernel and privileges allow; otherwise the tool runs with the host network and the card says so
(Python tools are then still refused connections by the audit hook in ``childsite``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
CHILDSITE = Path(__file__).with_name("childsite")
EVENT_FD_ENV = "BAYANIHAN_SANDBOX_EVENT_FD"
_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


@dataclass(frozen=True)
class Limits:
    """Per-tool limits; sizes in bytes, times in seconds."""

    cpu_seconds: int = 600
    memory_bytes: int = 1 << 30
    open_files: int = 64
    processes: int = 64
    file_size: int = 16 << 20
    case_timeout: float = 5.0
    startup_timeout: float = 60.0  # extra allowance for the first answer after a (re)start
    run_timeout: float = 3600.0
    output_line_bytes: int = 1 << 20
    batch_size: int = 512
    give_up_after: int = 25  # starts in a row that die or hang before answering anything

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@functools.cache
def network_namespace_available() -> bool:
    """Whether a child can be put in a fresh network namespace here (probed once)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        done = subprocess.run(
            [sys.executable, "-c", "pass"], preexec_fn=_enter_netns, timeout=30,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def _enter_netns() -> None:
    if _libc.unshare(CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def preexec(limits: Limits, netns: bool) -> Callable[[], None]:
    """The function the child runs between fork and exec."""

    def setup() -> None:
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if netns:
            _enter_netns()
        pairs = (
            (resource.RLIMIT_CPU, limits.cpu_seconds),
            (resource.RLIMIT_AS, limits.memory_bytes),
            (resource.RLIMIT_NOFILE, limits.open_files),
            (resource.RLIMIT_NPROC, limits.processes),
            (resource.RLIMIT_FSIZE, limits.file_size),
            (resource.RLIMIT_CORE, 0),
        )
        for which, value in pairs:
            resource.setrlimit(which, (value, value))

    return setup


def clean_env(workdir: Path, pythonpath: list[str], event_fd: int,
              passthrough: dict[str, str] | None = None) -> dict[str, str]:
    """A minimal environment: nothing inherited except what the operator passes through."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(workdir),
        "TMPDIR": str(workdir),
        "LANG": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": os.pathsep.join([str(CHILDSITE), *pythonpath]),
        "OMP_NUM_THREADS": "1",
        EVENT_FD_ENV: str(event_fd),
    }
    env.update(passthrough or {})
    return env


def status(netns_requested: bool) -> dict[str, Any]:
    """What isolation a run actually gets, for the report card."""
    netns = netns_requested and network_namespace_available()
    return {
        "network_namespace": netns,
        "network": "none (private network namespace)" if netns else
        "host network; Python tools refused by audit hook only",
        "python_audit_hook": True,
        "runs_as_uid": os.geteuid(),
        "nproc_enforced": os.geteuid() != 0,
        "notes": [] if os.geteuid() != 0 else [
            "tool runs as root: RLIMIT_NPROC is not enforced for root",
        ],
    }
