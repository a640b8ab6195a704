"""The bubblewrap command line that confines one tool process.

The tool gets new user, mount, PID, IPC, UTS, cgroup and network namespaces, a non-root uid,
a root filesystem that is an empty tmpfs with read-only views of ``/usr`` (and the ``/lib*``,
``/bin`` links into it), of a few harmless files of ``/etc``, of the interpreter it names
(for a venv: the venv and its base Python's prefix) and of its own files; a private ``/tmp``,
``/dev`` and ``/proc`` (its own PID namespace only) and one writable work directory (both
size-capped tmpfs). Nothing
of the hub's data folder, database, key files or environment is mounted or passed.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import select
import shutil
import subprocess
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

SANDBOX_UID = 65534  # "nobody" inside the sandbox
NAMESPACES = ("user", "mount", "pid", "ipc", "uts", "cgroup", "network")
_ETC = ("/etc/ld.so.cache", "/etc/alternatives", "/etc/localtime", "/etc/ssl/certs")
_SYSTEM = ("/usr",)
_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


def executable() -> str | None:
    return shutil.which("bwrap")


@functools.cache
def usable() -> tuple[bool, str]:
    """Whether bubblewrap can create its namespaces here (probed once), and why not."""
    path = executable()
    if path is None:
        return False, "bubblewrap (bwrap) is not installed"
    try:
        done = subprocess.run(
            [path, *base_args(), "--", "/usr/bin/true" if Path("/usr/bin/true").exists()
             else "true"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, timeout=30, check=False, env={})
    except (OSError, subprocess.SubprocessError) as exc:
        return False, f"bubblewrap failed to start: {exc}"
    if done.returncode != 0:
        why = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["?"]
        return False, f"bubblewrap cannot create namespaces here: {why[0][:200]}"
    return True, ""


@functools.cache
def _help() -> bytes:
    path = executable()
    if path is None:
        return b""
    try:
        done = subprocess.run([path, "--help"], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return b""
    return done.stdout + done.stderr


def disables_userns() -> bool:
    """Whether this bubblewrap can forbid nested user namespaces (``--disable-userns``, 0.8+):
    without it a tool could still ``clone(CLONE_NEWUSER)``, which the seccomp filter (no
    argument filtering) does not stop."""
    return b"--disable-userns" in _help()


def sizes_tmpfs() -> bool:
    """Whether this bubblewrap can cap a tmpfs (``--size``, 0.8+)."""
    return b"--size BYTES" in _help()


def _tmpfs(where: str, scratch: int | None) -> list[str]:
    size = ["--size", str(scratch)] if scratch and sizes_tmpfs() else []
    return [*size, "--tmpfs", where]


def base_args(scratch: int | None = None) -> list[str]:
    """Namespaces, uid, session and the system part of the filesystem view; ``scratch``
    caps the private ``/tmp`` (it lives in memory)."""
    args = ["--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--unshare-net", "--unshare-cgroup-try", *(
                ["--disable-userns"] if disables_userns() else []), "--uid", str(SANDBOX_UID),
            "--gid", str(SANDBOX_UID), "--hostname", "sandbox", "--die-with-parent",
            "--new-session", "--proc", "/proc", "--dev", "/dev", *_tmpfs("/tmp", scratch)]
    for path in _SYSTEM:
        args += ["--ro-bind", path, path]
    for link in _LINKS:
        if os.path.islink(link):
            args += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            args += ["--ro-bind", link, link]
    for path in _ETC:
        args += ["--ro-bind-try", path, path]
    return args


def options(workdir: Path, readable: Iterable[str], env: dict[str, str],
            *, scratch: int | None = None, info_fd: int | None = None, seccomp_fd: int | None = None,
            hidden: Iterable[str] = ()) -> list[str]:
    """The bubblewrap options (everything before ``-- COMMAND``) for a tool with ``env`` and
    the given views; any ``hidden`` path that a view would show is masked (an empty folder,
    or ``/dev/null`` for a file). Pass them through ``--args FD`` (:func:`args_fd`) so the
    tool cannot read them (its views, the hub's paths) from ``/proc/1/cmdline``."""
    args = base_args(scratch)
    views = _outermost(_outside_system(readable))
    for item in views:
        args += ["--ro-bind", item, item]
    for item in sorted({os.path.abspath(h) for h in hidden}):
        if os.path.exists(item) and any(within(item, v) for v in views):
            args += ["--tmpfs", item] if os.path.isdir(item) else ["--ro-bind", "/dev/null", item]
    # the work directory: a tmpfs of at most ``scratch`` bytes at the host folder's path (so
    # a tool cannot fill the host's disk), nothing of it shared with the host
    args += [*_tmpfs(str(workdir), scratch), "--chdir", str(workdir), "--clearenv"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    if info_fd is not None:
        args += ["--info-fd", str(info_fd)]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    return args


def args_fd(args: Sequence[str]) -> int:
    """A file descriptor holding ``args`` NUL-separated, for ``bwrap --args FD``."""
    fd = os.memfd_create("bayanihan-bwrap-args", 0)
    os.write(fd, b"".join(os.fsencode(a) + b"\0" for a in args))
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def within(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or lies inside it."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _outermost(paths: Iterable[str]) -> list[str]:
    """Sorted paths without those inside another (a folder's view already shows them)."""
    kept: list[str] = []
    for item in sorted(set(paths)):
        if not any(within(item, k) for k in kept):
            kept.append(item)
    return kept


def _outside_system(paths: Iterable[str]) -> Iterable[str]:
    for raw in paths:
        item = os.path.abspath(raw)
        if not os.path.exists(item) or item == "/":
            continue
        if any(item == s or item.startswith(s + "/") for s in _SYSTEM):
            continue
        yield item


def program_views(program: str) -> list[str]:
    """What running ``program`` needs to see: itself, and for ``…/bin/x`` its prefix (for a
    venv, the venv and the base interpreter's prefix from ``pyvenv.cfg``); symlinks followed
    for the view only, the program itself still runs by the name it was given."""
    views = [program]
    for candidate in (Path(program), Path(os.path.realpath(program))):
        views.append(str(candidate))
        if candidate.parent.name != "bin":
            continue
        prefix = candidate.parent.parent
        if prefix == Path("/") or not _python_prefix(prefix):
            continue  # only an interpreter's own tree, never e.g. a home folder with bin/
        views.append(str(prefix))
        cfg = prefix / "pyvenv.cfg"
        if cfg.is_file():
            for line in cfg.read_text(errors="replace").splitlines():
                key, _, value = line.partition("=")
                if key.strip() == "home" and value.strip():
                    views.append(str(Path(value.strip()).parent))
    return views


def _python_prefix(prefix: Path) -> bool:
    """A virtual environment or a Python installation (``lib/python3.*``)."""
    return (prefix / "pyvenv.cfg").is_file() or any((prefix / "lib").glob("python3*"))


def child_pid(fd: int, timeout: float) -> int | None:
    """The tool's pid (host view) from bubblewrap's ``--info-fd`` report; closes ``fd``."""
    data = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
            with contextlib.suppress(ValueError):
                pid = json.loads(data).get("child-pid")
                return pid if isinstance(pid, int) else None
    finally:
        os.close(fd)
    return None
