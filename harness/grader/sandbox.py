"""Run a submission's build and tests in a sandbox, bounded in time, output and resources.

Each run is `[unshare ...] python3 init.py [flags] -- COMMAND` (see init.py).  What isolation
this machine allows is found once, by trying it, strongest first:

  network namespace (loopback only): ports cannot collide between parallel runs, and a
      submission reaches nothing else;
  PID namespace: every process of the run dies with it, even one that called setsid;
  mount namespace: a private tmpfs /tmp, /var/tmp and /dev/shm, and every other mount
      read-only but the run's own directory;
  as root: the submission's programs run as an unprivileged uid of their own (one per
      parallel slot, so RLIMIT_NPROC, which counts per real uid and spares root, is per run;
      and so a submission cannot signal, trace or overwrite the test runner, which stays
      root); not as root: `unshare --user --map-root-user` makes the namespaces possible,
      and the commands run without capabilities.
Whatever is missing is said in the report; rlimits, timeouts, process groups and a child
subreaper apply always.  The grader's tests (harness/tests/test_grade.py) check all this.
"""
import os
import pwd
import re
import selectors
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass

INIT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "init.py")
LINE_MAX = 4096  # longer lines are cut: a flood may come without newlines


@dataclass
class Result:
    status: object  # exit status, 128+N for signal N; None if it had to be killed
    output: str  # stdout and stderr, bounded (see Capture)
    timed_out: bool
    seconds: float
    infra: object  # None, or what went wrong with the sandbox itself


class Capture:
    """Keeps a run's output up to cap bytes; past that, only the lines that match keep (the
    TAP and pytest result lines the grader parses), so that a flood costs nothing."""

    def __init__(self, cap, keep):
        self.cap, self.keep = cap, keep
        self.lines, self.size, self.dropped, self.partial = [], 0, 0, b""

    def feed(self, data):
        data = self.partial + data
        *whole, self.partial = data.split(b"\n")
        if len(self.partial) > LINE_MAX:
            whole.append(self.partial)
            self.partial = b""
        for line in whole:
            self._line(line)

    def _line(self, line):
        if len(line) > LINE_MAX:
            self.dropped += len(line) - LINE_MAX
            line = line[:LINE_MAX] + b" [...]"
        if self.size < self.cap or (self.keep and self.keep.match(line)):
            self.lines.append(line)
            self.size += len(line) + 1
        else:
            self.dropped += len(line) + 1

    def text(self):
        if self.partial:
            self._line(self.partial)
            self.partial = b""
        out = b"\n".join(self.lines).decode("utf-8", "backslashreplace")
        if self.dropped:
            out += f"\n[... {self.dropped} bytes of output left out ...]"
        return out


def _tasks_of(uid):
    """How many processes and threads uid runs now (what RLIMIT_NPROC counts)."""
    n = 0
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/status") as f:
                status = f.read()
        except (OSError, ValueError):
            continue
        m = re.search(r"^Uid:\s+(\d+)", status, re.M)
        t = re.search(r"^Threads:\s+(\d+)", status, re.M)
        if m and int(m.group(1)) == uid:
            n += int(t.group(1)) if t else 1
    return n


def pids_of(uid):
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if os.stat(f"/proc/{pid}").st_uid == uid:
                    out.append(int(pid))
            except OSError:
                pass
    return out


class Sandbox:
    def __init__(self, python, scratch, limits, uid_base, jobs, namespaces=True):
        self.python, self.scratch, self.limits = python, scratch, limits
        self.is_root = os.geteuid() == 0
        self.active, self.lock, self.closed = set(), threading.Lock(), False
        self.prefix, self.flags, self.features = [], [], set()
        self.uids = []
        if self.is_root:
            self.uids = self._claim_uids(uid_base, jobs)
        self._detect(namespaces)
        # As root with setpriv, the submission's programs get the slot's uid and the test
        # runner stays root; otherwise runner and programs share a uid (the slot's, or ours).
        self.setpriv = shutil.which("setpriv") if self.is_root else None
        if self.setpriv:
            probe = self.run([self.setpriv, f"--reuid={self.uids[0]}", f"--regid={self.uids[0]}",
                              "--clear-groups", "--no-new-privs", "true"],
                             env={"PATH": "/usr/bin:/bin"}, cwd="/", timeout=30)
            if probe.status != 0:
                self.setpriv = None

    def _claim_uids(self, base, jobs):
        """uids for the slots that are nobody's and no other grader's: a grader holds an
        abstract socket named after its range while it runs (gone with it, no file left),
        so that graders running side by side take different ranges."""
        for attempt in range(64):
            first = base + attempt * 256
            uids = list(range(first, first + jobs))
            lock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                lock.bind(f"\0harness-grade-uids-{first}")
            except OSError:
                lock.close()
                continue
            free = True
            for uid in uids:
                try:
                    pwd.getpwuid(uid)
                    free = False
                except KeyError:
                    free = free and not pids_of(uid)
            if free:
                self.uid_lock = lock
                return uids
            lock.close()
        raise SystemExit(f"grade: no free uids from {base} on (--uid-base)")

    def _detect(self, namespaces):
        unshare = shutil.which("unshare") if namespaces else None
        user = [] if self.is_root else ["--user", "--map-root-user"]
        keep = ["--private-tmp", self.scratch, "--tmp-mb", str(self.limits["tmp_mb"]),
                "--host-mntns", str(os.stat("/proc/self/ns/mnt").st_ino)]
        tries = []
        if unshare:
            tries = [
                ([unshare, *user, "--net", "--pid", "--fork", "--mount-proc", "--kill-child"],
                 ["--loopback", *keep], {"net", "pid", "tmp"}),
                ([unshare, *user, "--net", "--mount"], ["--loopback", *keep], {"net", "tmp"}),
                ([unshare, *user, "--net"], ["--loopback"], {"net"}),
            ]
        for prefix, flags, features in tries:
            self.prefix, self.flags, self.features = prefix, flags, features
            self.userns = bool(prefix) and not self.is_root
            # It works, and (with a mount namespace) nothing outside is writable.
            probe = os.path.join(self.scratch, "probe")
            r = self.run([self.python, "-c", f"open({probe!r}, 'w')"],
                         env={"PATH": "/usr/bin:/bin"}, cwd="/", timeout=30)
            wrote = os.path.exists(probe)
            if wrote:
                os.unlink(probe)
            if not r.infra and (not wrote if "tmp" in features else r.status == 0):
                return
        self.prefix, self.flags, self.features, self.userns = [], [], set(), False

    def describe(self):
        f = self.features
        parts = ["network namespace with loopback only" if "net" in f
                 else "NO network namespace: programs share the machine's network",
                 "PID namespace" if "pid" in f else "no PID namespace (child subreaper only)",
                 "private /tmp, /var/tmp, /dev/shm, all else read-only" if "tmp" in f
                 else "shared /tmp, files writable where the user may write"]
        if self.userns:
            parts.append(f"user namespace; everything runs as uid {os.getuid()}")
        elif self.is_root and self.setpriv:
            parts.append(f"programs under test run as uid {self.uids[0]}+slot with no_new_privs"
                         ", the test runner as root")
        elif self.is_root:
            parts.append(f"tests and programs run as uid {self.uids[0]}+slot (no setpriv)")
        else:
            parts.append(f"everything runs as uid {os.getuid()}, the grader's own")
        lim = self.limits
        parts.append(f"rlimits: CPU {lim['cpu_seconds']} s, address space {lim['memory_mb']} MiB "
                     f"(compiler {lim['build_memory_mb']}, test runners "
                     f"{lim['runner_memory_mb']}), "
                     f"{lim['processes']} processes, files {lim['file_size_mb']} MiB, "
                     f"{lim['open_files']} open files, no core dumps")
        return "; ".join(parts)

    def student_uid(self, slot):
        return self.uids[slot] if self.is_root else None

    def _rlimits(self, memory_mb=None):
        lim = dict(self.limits, memory_mb=memory_mb or self.limits["runner_memory_mb"])
        nproc = lim["processes"]
        if not self.is_root and not self.userns:
            nproc += _tasks_of(os.getuid())  # counted with all of our own processes
        mb = 1 << 20
        return [f"cpu={lim['cpu_seconds']}", f"as={lim['memory_mb'] * mb}", f"nproc={nproc}",
                f"fsize={lim['file_size_mb'] * mb}", f"nofile={lim['open_files']}", "core=0"]

    def run(self, argv, *, env, cwd, timeout, uid=None, cap=1 << 20, keep=None, memory_mb=None,
            writable=()):
        """Run argv in the sandbox (as uid, if given) with the output bounded by cap bytes
        (past it, only lines matching keep); SIGKILL everything at timeout seconds.
        memory_mb: the address-space limit (default: the test runners'); writable: the directories
        it may write to besides its private /tmp (with a mount namespace)."""
        if self.closed:
            return Result(None, "", False, 0.0, "the grader is stopping")
        r, w = os.pipe()
        cmd = [*self.prefix, self.python, "-I", INIT, *self.flags, "--errfd", str(w),
               "--cwd", cwd]
        for path in writable if "tmp" in self.features else ():
            cmd += ["--writable", path]
        for spec in self._rlimits(memory_mb):
            cmd += ["--rlimit", spec]
        if uid is not None:
            cmd += ["--uid", str(uid)]
        if self.userns:
            cmd += ["--drop-caps"]
        cmd += ["--", *argv]
        start = time.monotonic()
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, env=env, pass_fds=(w,),
                                    start_new_session=True)
        except OSError as e:
            os.close(r)
            os.close(w)
            return Result(None, "", False, 0.0, f"cannot start the sandbox: {e}")
        os.close(w)
        with self.lock:
            self.active.add(proc)
            if self.closed:  # stop_all ran while this one was starting
                self._stop(proc)
        out, err = Capture(cap, keep), Capture(4096, None)
        timed_out, hard_end = False, None
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ, out)
        sel.register(r, selectors.EVENT_READ, err)
        try:
            while sel.get_map():
                now = time.monotonic()
                if not timed_out and now >= start + timeout:
                    timed_out, hard_end = True, now + 10
                    self._stop(proc)
                if hard_end and now >= hard_end:
                    break  # something still holds the pipe: give up on the rest
                for key, _ in sel.select((hard_end or start + timeout) - now):
                    data = os.read(key.fd, 1 << 16)
                    if data:
                        key.data.feed(data)
                    else:
                        sel.unregister(key.fileobj)
            try:  # the output has ended: the run is ending too
                status = proc.wait(10)
            except subprocess.TimeoutExpired:
                self._stop(proc)
                status = proc.wait()
        except BaseException:  # the grader is being stopped: take the run with it
            self._stop(proc)
            raise
        finally:
            sel.close()
            proc.stdout.close()
            os.close(r)
            with self.lock:
                self.active.discard(proc)
        seconds = time.monotonic() - start
        note = err.text().strip()
        infra = None
        if note.startswith("sandbox:") or "\nsandbox:" in note:
            infra = note[note.index("sandbox:"):]
        elif not note.startswith("ready") and not timed_out:
            # init never got going: unshare (or python) failed; what it said is the output.
            infra = "the sandbox did not start: " + (out.text().strip()[-500:] or f"status {status}")
        if uid is not None and "pid" not in self.features:
            self.sweep(uid)
        return Result(None if timed_out else (status if status >= 0 else 128 - status),
                      out.text(), timed_out, seconds, infra)

    def _stop(self, proc):
        """End a run: SIGKILL takes a PID namespace down whole; without one, init gets
        SIGTERM first, to kill its subtree, and SIGKILL if that does not end it."""
        try:
            if "pid" not in self.features:
                os.kill(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(5)
                    return
                except subprocess.TimeoutExpired:
                    pass
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass

    def sweep(self, uid):
        """Without a PID namespace: kill anything still running as a slot's uid (nothing
        else runs as it), and remove what it left in the shared temporary directories."""
        for _ in range(100):
            pids = pids_of(uid)
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.05)  # let the kernel finish them before looking again
        if "tmp" not in self.features:
            for d in ("/tmp", "/var/tmp", "/dev/shm"):
                try:
                    entries = list(os.scandir(d))
                except OSError:
                    continue
                for e in entries:
                    try:
                        if e.stat(follow_symlinks=False).st_uid != uid:
                            continue
                        if e.is_dir(follow_symlinks=False):
                            shutil.rmtree(e.path, ignore_errors=True)
                        else:
                            os.unlink(e.path)
                    except OSError:
                        pass

    def stop_all(self):
        """The grader is being stopped: end every run now."""
        with self.lock:
            self.closed = True
            procs = list(self.active)
        for proc in procs:
            self._stop(proc)
