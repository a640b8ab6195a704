"""Stream cases through one long-lived, isolated tool process; record each case's fate.

Cases go to the tool in batches over a pipe; answers come back one line per case. When the
tool crashes, hangs, floods or exceeds memory, the process is killed and restarted, and the
cases still unanswered are re-sent one at a time so the failure lands on the right case.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import tempfile
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson

from . import bwrap, seccomp
from .errors import SandboxError
from .isolation import Confinement, Limits, clean_env, confinement_for, preexec
from .pidlimit import PidCap
from .verdict import Verdict

_MEMORY_MARKERS = (b"MemoryError", b"bad_alloc", b"Cannot allocate memory", b"out of memory")
_SIGNALS = {signal.SIGXCPU: "CPU time limit", signal.SIGXFSZ: "file size limit",
            signal.SIGKILL: "killed", signal.SIGSEGV: "segmentation fault"}


class _Failure(Exception):
    def __init__(self, outcome: str, detail: str) -> None:
        super().__init__(detail)
        self.outcome, self.detail = outcome, detail


class ToolProcess:
    """One running instance of the tool, with its pipes and private working directory.

    The tool is given nothing of the hub: no inherited descriptor but the runner's own
    pipes (stdin, stdout, stderr, events), an environment built from scratch and, under
    bubblewrap, a filesystem view of only ``confined.readable`` and the system."""

    def __init__(self, argv: Sequence[str], limits: Limits, confined: Confinement,
                 pythonpath: list[str], env: dict[str, str] | None = None) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="bayanihan-tool-"))
        self.pids = PidCap(limits.processes)
        ev_read, ev_write = os.pipe()
        self.events_fd = ev_read
        child_env = clean_env(self.workdir, pythonpath, ev_write, {
            "BAYANIHAN_SANDBOX_BLOCK_NET": "0" if confined.netns else "1",
            "BAYANIHAN_SANDBOX_BLOCK_ESCAPES": "0" if confined.bubblewrap else "1",
            "BAYANIHAN_SANDBOX_PRIVATE_TMP": "1" if confined.bubblewrap else "0",
            "BAYANIHAN_SANDBOX_VIEWS": os.pathsep.join([str(self.workdir), *confined.readable]),
            **(env or {})})
        own = [ev_write]
        info_read = -1
        if confined.bubblewrap:
            info_read, info_write = os.pipe()
            filter_fd = seccomp.program_fd()
            own += [info_write] + ([filter_fd] if filter_fd is not None else [])
            arguments = bwrap.args_fd(bwrap.options(
                self.workdir, confined.readable, child_env, scratch=limits.scratch_bytes,
                info_fd=info_write,
                seccomp_fd=filter_fd, hidden=confined.hidden))
            own.append(arguments)
            command = [str(bwrap.executable()), "--args", str(arguments), "--", *argv]
            popen_env: dict[str, str] = {}  # bwrap's own /proc/1/environ stays empty
        else:
            command, popen_env = list(argv), child_env
        try:
            self.proc = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, pass_fds=tuple(own), close_fds=True, cwd=self.workdir,
                env=popen_env, start_new_session=True,
                preexec_fn=preexec(limits, confined.netns and not confined.bubblewrap,
                                   self.pids),
            )
        except BaseException:
            os.close(ev_read)
            if info_read >= 0:
                os.close(info_read)
            self.pids.reap()
            _rmtree(self.workdir)
            raise
        finally:
            for fd in own:
                os.close(fd)
        self.stderr_tail = b""
        self.survivors = 0
        self.hook_active = False
        self.answered = False
        self.started = time.monotonic()
        inner = bwrap.child_pid(info_read, limits.startup_timeout) if info_read >= 0 else \
            self.proc.pid
        self._snmp = f"/proc/{inner}/net/snmp" if confined.netns and inner else None
        self.no_route_seen = self.no_routes()
        for fd in (self.proc.stdin.fileno(), self.proc.stdout.fileno(),
                   self.proc.stderr.fileno(), ev_read):
            os.set_blocking(fd, False)

    def no_routes(self) -> int:
        """Kernel count of the tool namespace's network attempts: unroutable packets, TCP
        connection attempts and UDP datagrams (nothing else uses that namespace)."""
        if self._snmp is None:
            return 0
        try:
            with open(self._snmp, "rb") as fh:
                lines = fh.read().split(b"\n")
            table: dict[bytes, int] = {}
            for head, values in zip(lines[0::2], lines[1::2], strict=False):
                proto = head.split(b":")[0]
                for key, value in zip(head.split()[1:], values.split()[1:], strict=False):
                    table[proto + b"." + key] = int(value)
            return sum(table.get(k, 0) for k in (b"Ip.OutNoRoutes", b"Tcp.ActiveOpens",
                                                 b"Udp.OutDatagrams"))
        except (OSError, ValueError):
            return 0

    def kill(self) -> str:
        """Kill the whole process group; return how the tool ended."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        code = self.proc.wait()
        with contextlib.suppress(OSError):  # what the tool said last, e.g. MemoryError
            while chunk := os.read(self.proc.stderr.fileno(), 1 << 16):
                self.stderr_tail = (self.stderr_tail + chunk)[-8192:]
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            with contextlib.suppress(OSError):
                stream.close()
        os.close(self.events_fd)
        self.survivors = len(self.pids.reap())  # whatever it left, even in a new session
        _rmtree(self.workdir)
        return _describe_exit(code)


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name} ({_SIGNALS.get(-code, 'signal')})"
        except ValueError:
            return f"signal {-code}"
    return f"exit status {code}"


def _rmtree(path: Path) -> None:
    for root, dirs, files in os.walk(path, topdown=False):
        for name in files:
            Path(root, name).unlink(missing_ok=True)
        for name in dirs:
            Path(root, name).rmdir()
    path.rmdir()


class Session:
    """Runs cases through a tool process, restarting it after failures."""

    def __init__(self, argv: Sequence[str], limits: Limits, netns: bool,
                 pythonpath: list[str] | None = None, env: dict[str, str] | None = None,
                 confined: Confinement | None = None) -> None:
        self.argv, self.limits = list(argv), limits
        self.pythonpath, self.env = pythonpath or [], env
        self.confined = confined or confinement_for(self.argv, self.pythonpath, netns)
        self.netns = self.confined.netns
        self.proc: ToolProcess | None = None
        self.restarts = 0
        self.hook_seen = False
        self.startup_seconds: float | None = None
        self.silent_starts = 0
        self.gave_up = ""
        self.first_crash: dict[str, str] | None = None

    def run(self, cases: Sequence[dict[str, Any]],
            progress: Callable[[int], None] | None = None) -> list[Verdict]:
        """Verdicts for ``cases`` (dicts with at least ``id``), in the same order."""
        deadline = time.monotonic() + self.limits.run_timeout
        self._done: dict[str, Verdict] = {}
        careful: set[str] = set()
        todo = deque(cases)
        try:
            while todo and time.monotonic() < deadline:
                batch = [todo.popleft()]
                while (todo and batch[0]["id"] not in careful
                       and len(batch) < self.limits.batch_size and todo[0]["id"] not in careful):
                    batch.append(todo.popleft())
                if not self._batch(batch, careful, deadline):
                    break
                left = [c for c in batch if c["id"] not in self._done]
                todo.extendleft(reversed(left))
                if progress is not None and len(batch) > len(left):
                    progress(len(batch) - len(left))
        finally:
            self.close()
        outcome, detail = ("crash", self.gave_up) if self.gave_up else ("not_run", "run timeout")
        for case in cases:
            self._done.setdefault(case["id"], Verdict(case["id"], outcome, detail=detail))
        return [self._done[c["id"]] for c in cases]

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc = None

    def _batch(self, batch: list[dict[str, Any]], careful: set[str], deadline: float) -> bool:
        """Send one batch; settle what can be settled. False when the run has timed out."""
        if self.proc is None:
            try:
                if "/" in self.argv[0] and not os.access(self.argv[0], os.X_OK):
                    raise PermissionError(f"{self.argv[0]} is not executable")
                self.proc = ToolProcess(self.argv, self.limits, self.confined,
                                        self.pythonpath, self.env)
            except (OSError, subprocess.SubprocessError) as exc:
                raise SandboxError("--tool", f"cannot start {self.argv[0]}: {exc}") from None
        expect: OrderedDict[str, Verdict] = OrderedDict(
            (case["id"], Verdict(case["id"])) for case in batch)
        payload = b"".join(orjson.dumps(c) + b"\n" for c in batch)
        try:
            self._exchange(payload, expect, deadline)
        except _Failure as failure:
            return self._settle_failure(failure, len(batch), expect, careful)
        careful.difference_update(c["id"] for c in batch)
        return True

    def _grace(self) -> float:
        """Start-up allowance: the full one until the tool first answers, then twice what
        its first start-up took (so a case that hangs a fresh process is not waited out)."""
        if self.startup_seconds is None:
            return self.limits.startup_timeout
        return min(self.limits.startup_timeout, 2 * self.startup_seconds + 1.0)

    def _settle_failure(self, failure: _Failure, sent: int,
                        expect: OrderedDict[str, Verdict], careful: set[str]) -> bool:
        assert self.proc is not None
        ended = self.proc.kill()
        tail = self.proc.stderr_tail
        silent = 0 if self.proc.answered else self.silent_starts + 1
        self.silent_starts = silent
        self.proc = None
        self.restarts += 1
        if failure.outcome == "not_run":
            return False
        if self.first_crash is None and failure.outcome == "crash":
            self.first_crash = {"case": next(iter(expect)), "ended": ended,
                                "stderr_tail": tail[-2000:].decode("utf-8", "replace")}
        if silent >= self.limits.give_up_after:
            last = tail.decode("utf-8", "replace").strip().splitlines()[-1:] or ["(none)"]
            self.gave_up = (f"tool gave up: {silent} starts in a row without one answer; "
                            f"stderr: {last[0][:200]}")
            return False
        culprit_id = next(iter(expect))
        if sent > 1 and culprit_id not in careful:
            # Which case caused it is uncertain (the tool may buffer): retry one at a time.
            careful.update(expect)
            return True
        outcome, detail = failure.outcome, failure.detail
        if outcome in ("crash", "timeout"):
            detail = f"{detail}; {ended}"
        if outcome == "crash":
            last = tail.decode("utf-8", "replace").strip().splitlines()[-1:]
            detail += f"; stderr: {last[0][:200]}" if last else ""
            if any(m in tail for m in _MEMORY_MARKERS):
                outcome = "memory_exceeded"
        culprit = expect.pop(culprit_id)
        culprit.outcome, culprit.detail = outcome, detail
        culprit.label = culprit.score = None
        self._done[culprit_id] = culprit
        careful.discard(culprit_id)
        return True

    def _exchange(self, payload: bytes, expect: OrderedDict[str, Verdict],
                  deadline: float) -> None:
        assert self.proc is not None
        proc = self.proc
        sel = selectors.DefaultSelector()
        out_fd, err_fd, in_fd = (proc.proc.stdout.fileno(), proc.proc.stderr.fileno(),
                                 proc.proc.stdin.fileno())
        sel.register(proc.events_fd, selectors.EVENT_READ, "events")
        sel.register(err_fd, selectors.EVENT_READ, "stderr")
        sel.register(out_fd, selectors.EVENT_READ, "stdout")
        sel.register(in_fd, selectors.EVENT_WRITE, "stdin")
        view = memoryview(payload)
        buf = b""
        last = time.monotonic()
        writing = True
        try:
            while expect:
                now = time.monotonic()
                grace = 0.0 if proc.answered else self._grace()
                wait = min(last + self.limits.case_timeout + grace, deadline) - now
                if wait <= 0:
                    if now >= deadline:
                        raise _Failure("not_run", "run timeout")
                    raise _Failure("timeout", f"no answer within {self.limits.case_timeout:g} s")
                ready = sorted(sel.select(wait), key=lambda kv: _ORDER[kv[0].data])
                for key, _ in ready:
                    if key.data == "stdin":
                        if not writing:
                            continue
                        try:
                            view = view[os.write(in_fd, view[: 1 << 16]):]
                        except BrokenPipeError:
                            view = view[:0]
                        if not view:
                            sel.unregister(in_fd)
                            writing = False
                    elif key.data == "events":
                        self._events(os.read(proc.events_fd, 1 << 16), expect)
                    elif key.data == "stderr":
                        proc.stderr_tail = (proc.stderr_tail + os.read(err_fd, 1 << 16))[-8192:]
                    else:
                        chunk = os.read(out_fd, 1 << 20)
                        if not chunk:
                            raise _Failure("crash", "tool exited")
                        self._count_no_routes(expect)
                        buf += chunk
                        *lines, buf = buf.split(b"\n")
                        for line in lines:
                            now = time.monotonic()
                            if line.strip() and expect:
                                self._answer(line, expect, (now - last) * 1000)
                                last = now
                                if not proc.answered and self.startup_seconds is None:
                                    self.startup_seconds = now - proc.started
                                proc.answered = True
                                self.silent_starts = 0
                        if len(buf) > self.limits.output_line_bytes:
                            raise _Failure("output_flood", f"answer line longer than "
                                           f"{self.limits.output_line_bytes} bytes")
        finally:
            sel.close()

    def _answer(self, line: bytes, expect: OrderedDict[str, Verdict], latency: float) -> None:
        if len(line) > self.limits.output_line_bytes:
            raise _Failure("output_flood",
                           f"answer line longer than {self.limits.output_line_bytes} bytes")
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            obj = None
        case_id = obj.get("id") if isinstance(obj, dict) else None
        if not isinstance(case_id, str) or case_id not in expect:
            case_id = next(iter(expect))
            obj = None
        verdict = expect.pop(case_id)
        verdict.latency_ms = round(latency, 3)
        fill_verdict(verdict, obj)
        self._done[verdict.case_id] = verdict

    def _events(self, data: bytes, expect: OrderedDict[str, Verdict]) -> None:
        for line in data.splitlines():
            try:
                event = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if event.get("event") == "hello":
                self.hook_seen = True
                assert self.proc is not None
                self.proc.hook_active = True
                continue
            target = event.get("case")
            verdict = expect.get(target) if isinstance(target, str) else None
            if verdict is None and expect:
                verdict = expect[next(iter(expect))]
            if verdict is None:
                continue
            attempt = f"{event.get('call')} {event.get('target')}"
            if event.get("event") == "escape":
                if len(verdict.escape_attempts) < 20:
                    verdict.escape_attempts.append(f"{event.get('kind')}: {attempt}")
            elif len(verdict.network_attempts) < 20:
                verdict.network_attempts.append(attempt)

    def _count_no_routes(self, expect: OrderedDict[str, Verdict]) -> None:
        """Attribute unroutable packets to the case in hand when no audit hook reports them."""
        assert self.proc is not None
        seen = self.proc.no_routes()
        delta = seen - self.proc.no_route_seen
        self.proc.no_route_seen = seen
        if delta > 0 and not self.proc.hook_active and expect:
            expect[next(iter(expect))].network_attempts.append(
                f"{delta} network attempt(s) (kernel counter; attribution approximate)")


_ORDER = {"events": 0, "stderr": 1, "stdout": 2, "stdin": 3}


def fill_verdict(verdict: Verdict, obj: dict[str, Any] | None) -> None:
    """Check an answer object; set the verdict's outcome, label and score."""
    if obj is None:
        verdict.outcome, verdict.detail = "malformed", "answer is not a JSON object with a known id"
        return
    error = obj.get("error")
    if error is not None:
        verdict.outcome = "memory_exceeded" if error == "memory" else "crash"
        verdict.detail = str(obj.get("detail") or error)[:300] or "tool reported an error"
        return
    label, score = obj.get("label"), obj.get("score")
    if not isinstance(label, str) or not label:
        verdict.outcome, verdict.detail = "malformed", "'label' missing or not a string"
    elif score is not None and (isinstance(score, bool) or not isinstance(score, int | float)
                                or not 0.0 <= score <= 1.0):
        verdict.outcome, verdict.detail = "malformed", "'score' not a number in [0, 1]"
    else:
        verdict.label, verdict.score = label, None if score is None else float(score)
