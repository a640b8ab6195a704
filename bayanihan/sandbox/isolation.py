"""Isolation of a tool process: bubblewrap namespaces and filesystem view (:mod:`.bwrap`),
seccomp (:mod:`.seccomp`), a ``pids`` cgroup (:mod:`.pidlimit`), rlimits, a clean
environment, a private work directory, no network.

Without bubblewrap (no user namespaces) a tool is refused unless the operator asks for an
unsafe run; such a run gets only rlimits, a clean environment and, when the kernel allows,
a network namespace (``unshare(CLONE_NEWNET)``), and its card says "not isolated".
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
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import bwrap, pidlimit, seccomp
from .errors import SandboxError

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
    scratch_bytes: int = 256 << 20  # private /tmp and work directory, each (bubblewrap)
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


@dataclass(frozen=True)
class Confinement:
    """How tool processes of one run are confined.

    ``bubblewrap``: namespaces and a read-only view of only ``readable`` (plus the system);
    ``netns``: a private network namespace (always with bubblewrap); ``hidden``: the hub's
    own paths (data folder, database, key files), masked should a view ever contain them."""

    bubblewrap: bool
    netns: bool
    readable: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()

    def with_readable(self, paths: Sequence[str]) -> Confinement:
        return Confinement(self.bubblewrap, self.netns, (*self.readable, *paths), self.hidden)


def confinement(netns: bool = True, unsafe_no_isolation: bool = False,
                readable: Sequence[str] = (), hidden: Sequence[str] = ()) -> Confinement:
    """The confinement this machine gives; refuse when bubblewrap cannot run, unless the
    operator explicitly accepts an unsafe run. A tool naming a hidden file is refused."""
    for view in readable:
        if any(os.path.abspath(view) == os.path.abspath(h) for h in hidden):
            raise SandboxError("--tool", "the tool would need to see the hub's own data "
                               f"({view}); move the tool's files out of the hub's data folder")
    ok, why = bwrap.usable()
    if ok:
        return Confinement(True, True, tuple(readable), tuple(hidden))
    if not unsafe_no_isolation:
        raise SandboxError("--unsafe-no-isolation", f"{why}; refusing to run an untrusted "
                           "tool without isolation (pass --unsafe-no-isolation to run it "
                           "anyway; the card will say 'not isolated')")
    return Confinement(False, netns and network_namespace_available(), tuple(readable),
                       tuple(hidden))


def hub_paths(data_dir: str, database_url: str) -> tuple[str, ...]:
    """The hub's own files a tool must never see: its data folder, the key files in it
    (``*.key``, e.g. the first admin key) and a SQLite database with its journals."""
    data = Path(data_dir).resolve()
    paths = [data, *sorted(data.glob("*.key"))]
    if database_url.startswith("sqlite"):
        db = Path(database_url.split("///", 1)[-1].split("?", 1)[0]).resolve()
        paths += [db, *(db.with_name(db.name + s) for s in ("-wal", "-shm", "-journal"))]
    return tuple(str(p) for p in paths)


PACKAGE = Path(__file__).resolve().parents[1]  # the hub's code (never its data): worker, childsite


def views(argv: Sequence[str], pythonpath: Sequence[str] = ()) -> list[str]:
    """What a tool started as ``argv`` may read: its program (and interpreter prefix), the
    files it names, its Python path and the hub's code (for the worker and audit hook)."""
    if not argv:
        return []
    named = [os.path.abspath(a) for a in argv[1:] if os.path.isfile(a)]
    return [*bwrap.program_views(argv[0]), *named, *pythonpath, str(PACKAGE)]


def confinement_for(argv: Sequence[str], pythonpath: Sequence[str] = (), netns: bool = True,
                    unsafe_no_isolation: bool = True) -> Confinement:
    """The confinement for one tool command (bubblewrap when it can run here)."""
    return confinement(netns, unsafe_no_isolation, views(argv, pythonpath))


def preexec(limits: Limits, netns: bool, pids: pidlimit.PidCap | None = None
            ) -> Callable[[], None]:
    """The function the child runs between fork and exec (of bubblewrap or the tool)."""

    def setup() -> None:
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if pids is not None:
            pids.join()
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


def status(confined: Confinement, limits: Limits) -> dict[str, Any]:
    """What isolation a run actually gets, mechanism by mechanism, for the report card."""
    wrapped = confined.bubblewrap
    pids_cap = pidlimit.hierarchy() is not None
    nproc = os.geteuid() != 0  # binds the hub's own uid (a bwrap uid maps to it outside)
    mechanisms = [
        {"name": f"{ns} namespace", "applied": wrapped or (ns == "network" and confined.netns),
         "detail": "bubblewrap" if wrapped else
         ("unshare(CLONE_NEWNET)" if ns == "network" and confined.netns else "not available")}
        for ns in bwrap.NAMESPACES]
    mechanisms += [
        {"name": "non-root uid inside", "applied": wrapped,
         "detail": f"uid {bwrap.SANDBOX_UID}, no capabilities" if wrapped
         else f"runs as uid {os.geteuid()}"},
        {"name": "read-only view of only what the tool needs", "applied": wrapped,
         "detail": "system /usr, the interpreter, the tool's files; private /tmp, /dev, "
                   "/proc and work directory" if wrapped else "the tool sees the host's files"},
        {"name": "dies with the run, new session", "applied": wrapped,
         "detail": "--die-with-parent, --new-session, own PID namespace" if wrapped
         else "parent-death signal and process group only"},
        {"name": "no nested user namespaces", "applied": wrapped and bwrap.disables_userns(),
         "detail": "bwrap --disable-userns" if wrapped and bwrap.disables_userns() else
         "bubblewrap older than 0.8 or not used"},
        {"name": "limit scratch space", "applied": wrapped and bwrap.sizes_tmpfs(),
         "detail": f"/tmp and work directory: tmpfs of {limits.scratch_bytes >> 20} MiB each"
         if wrapped and bwrap.sizes_tmpfs() else "work directory on the host's disk, uncapped"},
        {"name": "seccomp filter", "applied": wrapped and seccomp.program() is not None,
         "detail": f"{len(seccomp.DENIED)} system calls refused" if seccomp.program()
         else "libseccomp not found"},
        {"name": "process count limit", "applied": pids_cap or nproc,
         "detail": f"pids cgroup, at most {limits.processes}" if pids_cap else
         f"RLIMIT_NPROC {limits.processes}" if nproc else
         "no pids cgroup, and RLIMIT_NPROC does not bind a uid that is root outside"},
        {"name": "clean environment, no inherited descriptors", "applied": True,
         "detail": "minimal variables; only the runner's own pipes"},
    ]
    mechanisms += [{"name": f"limit {name}", "applied": True, "detail": detail} for name, detail in (
        ("cpu time", f"{limits.cpu_seconds} s"), ("memory", f"{limits.memory_bytes >> 20} MiB"),
        ("open files", str(limits.open_files)), ("file size", f"{limits.file_size >> 20} MiB"),

        ("case time", f"{limits.case_timeout:g} s"), ("run time", f"{limits.run_timeout:g} s"))]
    missing = [m["name"] for m in mechanisms if not m["applied"]]
    netns = wrapped or confined.netns
    return {
        "isolated": not missing,
        "headline": "isolated" if not missing else "not isolated: " + ", ".join(missing),
        "mechanisms": mechanisms,
        "bubblewrap": wrapped,
        "network_namespace": netns,
        "network": "none (private network namespace)" if netns else
        "host network; Python tools refused by audit hook only",
        "python_audit_hook": True,
        "runs_as_uid": bwrap.SANDBOX_UID if wrapped else os.geteuid(),
        "nproc_enforced": pids_cap or nproc,
        "notes": [f"not isolated: {', '.join(missing)}"] if missing else [],
    }
