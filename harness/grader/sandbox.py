"""Run a submission's build and tests in a sandbox, bounded in time, output and resources.

Each run is `[unshare ...] python3 init.py [flags] -- COMMAND` (see init.py), from a run
directory of its own (a fresh 0710 directory with a random name in the scratch directory,
its group the slot's).  What isolation this machine allows is found once, by trying it,
strongest first:

  network namespace (loopback only): ports cannot collide between parallel runs, and a
      submission reaches nothing else;
  PID namespace: every process of the run dies with it, even one that called setsid;
  IPC and UTS namespaces: SysV shared memory, semaphores and message queues die with the
      run too, and the host name is the sandbox's;
  mount namespace: a new root holding the system's directories read-only, the run's own
      directory, and nothing else of the machine (not the course, not the other runs, not
      the submissions); one private tmpfs, with a size, for /tmp, /var/tmp and /dev/shm,
      and another for the test runner's temporary files;
  as root: the submission's programs run as an unprivileged uid of their own (one per
      parallel slot, so RLIMIT_NPROC, which counts per real uid and spares root, is per run;
      and so a submission cannot signal, trace or overwrite the test runner, which stays
      root, nor read its files); not as root: `unshare --user --map-root-user` makes the
      namespaces possible, and the commands run without capabilities;
  a cgroup (v2, or v1's memory and pids hierarchies) per submission, where the machine
      lets the grader make one: a cap on the memory and the processes of all of its
      programs at once (Cgroups below).
Whatever is missing is said in the report; rlimits, timeouts, process groups and a child
subreaper apply always.  The grader's tests (harness/tests/test_grade*.py) check all this.
"""
import ctypes
import os
import pwd
import re
import secrets
import selectors
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass

LINE_MAX = 4096  # longer lines are cut: a flood may come without newlines
# What every sandbox shows of the machine besides these (see init.py's SYSTEM).
SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")


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


# --- SysV IPC, without an IPC namespace ---------------------------------------------------

IPC_RMID = 0
_libc = ctypes.CDLL(None, use_errno=True)


def ipc_objects(uids):
    """SysV shared memory segments, semaphore sets and message queues that one of uids
    created or owns: [(kind, id)], from /proc/sysvipc."""
    found = []
    for kind in ("shm", "sem", "msg"):
        try:
            with open(f"/proc/sysvipc/{kind}") as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        if not lines:
            continue
        names = lines[0].split()
        for line in lines[1:]:
            row = dict(zip(names, line.split()))
            try:
                if int(row["uid"]) in uids or int(row["cuid"]) in uids:
                    found.append((kind, int(row[{"shm": "shmid", "sem": "semid",
                                                 "msg": "msqid"}[kind]])))
            except (KeyError, ValueError):
                continue
    return found


def remove_ipc(uids):
    for kind, ident in ipc_objects(uids):
        if kind == "shm":
            _libc.shmctl(ident, IPC_RMID, None)
        elif kind == "sem":
            _libc.semctl(ident, 0, IPC_RMID)
        else:
            _libc.msgctl(ident, IPC_RMID, None)


# --- cgroups ------------------------------------------------------------------------------

def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def _mounts():
    """(mount point, fstype, super options) of this process's mount namespace."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields, more = left.split(), right.split()
            if len(fields) >= 5 and len(more) >= 3:
                point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])
                out.append((point, more[0], more[2].split(",")))
    return out


def _own_cgroups():
    """{hierarchy: path} from /proc/self/cgroup: "" for v2's, each controller for v1's."""
    own = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            num, ctrls, path = line.rstrip("\n").split(":", 2)
            for c in (ctrls.split(",") if ctrls else [""]):
                own[c] = path
    return own


class Cgroups:
    """A cap on the memory and the processes of each submission's programs all together: a
    cgroup per submission, grade-RANDOM/sNNNN, made below the grader's own cgroup (v1) or
    beside it (v2, where a cgroup with processes cannot share its controllers).  The
    compiler (init.py --cgroup) and every program under test (lab-exec -c) join it; the
    test runners stay out, so that a submission at its cap cannot take them down.  Where no
    cgroup can be made (no controller, a read-only /sys/fs/cgroup, not root), `kind` is
    None and the rlimits are all there is."""

    def __init__(self, memory_mb, processes):
        self.memory, self.processes = memory_mb << 20, processes
        self.kind, self.bases, self.lock = None, {}, threading.Lock()
        self.name = f"grade-{secrets.token_hex(6)}"
        try:
            self._detect()
        except OSError:
            self._abandon()

    def _detect(self):
        mounts, own = _mounts(), _own_cgroups()
        v2 = next((p for p, t, _ in mounts if t == "cgroup2"), None)
        if v2 is not None and "" in own:
            try:
                with open(os.path.join(v2, "cgroup.controllers")) as f:
                    have = set(f.read().split())
            except OSError:
                have = set()
            if {"memory", "pids"} <= have:
                here = os.path.join(v2, own[""].lstrip("/"))
                # Our own cgroup first (its subtree may be ours to use, as at the root),
                # then its parent, whose children can have the controllers.
                for parent in dict.fromkeys((here, os.path.dirname(here.rstrip("/")))):
                    if not parent.startswith(v2):
                        continue
                    base = os.path.join(parent, self.name)
                    try:
                        os.mkdir(base, 0o755)
                    except OSError:
                        continue
                    try:
                        _write(os.path.join(base, "cgroup.subtree_control"), "+memory +pids")
                        self.kind, self.bases = "v2", {"": base}
                        if self._probe():
                            return
                    except OSError:
                        pass
                    self._abandon()
        bases = {}
        for ctrl in ("memory", "pids"):
            point = next((p for p, t, opts in mounts if t == "cgroup" and ctrl in opts), None)
            if point is None or ctrl not in own:
                break
            base = os.path.join(point, own[ctrl].lstrip("/"), self.name)
            try:
                os.mkdir(base, 0o755)
            except OSError:
                break
            bases[ctrl] = base
        self.kind, self.bases = "v1", bases
        if len(bases) == 2 and self._probe():
            return
        self._abandon()

    def _probe(self):
        """A cgroup of ours works: made, capped, joined by a process that then ends."""
        procs = self.create("probe")
        if not procs:
            return False
        try:
            r = subprocess.run(["/bin/sh", "-c", 'for f; do echo $$ > "$f" || exit 1; done',
                                "sh", *procs], timeout=30, capture_output=True)
            return r.returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            return False
        finally:
            self.remove("probe")

    def _abandon(self):
        for base in self.bases.values():
            for d, dirs, _ in os.walk(base, topdown=False):
                try:
                    os.rmdir(d)
                except OSError:
                    pass
        self.kind, self.bases = None, {}

    def describe(self):
        if not self.kind:
            return "no cgroup (the rlimits only)"
        return (f"cgroup {self.kind} per submission (in {self.name}): {self.memory >> 20} MiB "
                f"of memory and {self.processes} processes for all of its programs together")

    def _dirs(self, name):
        return [os.path.join(base, name) for base in self.bases.values()]

    def create(self, name):
        """Make the cgroup name with the caps; its cgroup.procs files ([] without cgroups)."""
        if not self.kind:
            return []
        with self.lock:
            for d in self._dirs(name):
                os.makedirs(d, exist_ok=True)
            if self.kind == "v2":
                d = self._dirs(name)[0]
                _write(os.path.join(d, "memory.max"), str(self.memory))
                try:
                    _write(os.path.join(d, "memory.swap.max"), "0")
                except OSError:
                    pass  # no swap accounting
                _write(os.path.join(d, "pids.max"), str(self.processes))
            else:
                mem, pids = self._dirs(name)
                _write(os.path.join(mem, "memory.limit_in_bytes"), str(self.memory))
                try:  # memory and swap together: no way around the cap through swap
                    _write(os.path.join(mem, "memory.memsw.limit_in_bytes"), str(self.memory))
                except OSError:
                    pass
                _write(os.path.join(pids, "pids.max"), str(self.processes))
            return [os.path.join(d, "cgroup.procs") for d in self._dirs(name)]

    def remove(self, name):
        """Kill whatever is left in the cgroup name, and remove it."""
        if not self.kind:
            return
        for d in self._dirs(name):
            for _ in range(100):
                try:
                    with open(os.path.join(d, "cgroup.procs")) as f:
                        pids = [int(p) for p in f.read().split()]
                except OSError:
                    break
                if not pids:
                    try:
                        os.rmdir(d)
                    except OSError:
                        time.sleep(0.05)
                        continue
                    break
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                time.sleep(0.05)

    def close(self):
        if self.kind:
            for base in self.bases.values():
                for entry in os.listdir(base) if os.path.isdir(base) else ():
                    if os.path.isdir(os.path.join(base, entry)):
                        self.remove(entry)
        self._abandon()


# --- the sandbox --------------------------------------------------------------------------

class Sandbox:
    def __init__(self, python, init, scratch, limits, uid_base, jobs, namespaces=True,
                 ro_paths=(), course=None):
        """python runs init (a copy of init.py); scratch: the grader's scratch directory;
        ro_paths: directories of the tools outside the system's, shown read-only in the new
        root; course: the course's directory, which no sandbox may see."""
        self.python, self.init, self.scratch, self.limits = python, init, scratch, limits
        self.ro_paths, self.course = list(ro_paths), course
        # What the detection checks a sandbox cannot see: the course's files (its directory
        # itself may be there, empty, on the way to the run's own, if that is below it).
        self.hidden = [os.path.join(course, n) for n in ("Makefile", "solutions", "harness")
                       if os.path.exists(os.path.join(course, n))] if course else []
        self.is_root = os.geteuid() == 0
        self.active, self.lock, self.closed = set(), threading.Lock(), False
        self.prefix, self.flags, self.features = [], [], set()
        self.uids = []
        if self.is_root:
            self.uids = self._claim_uids(uid_base, jobs)
        # As root, the submission's programs get the slot's uid (through lab-exec, or
        # init.py's --uid for the compiler) and the test runner stays root.
        self._detect(namespaces)

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

    def new_rundir(self, slot, prefix="r-"):
        """A fresh run directory: a random name, 0710, the slot's group (as root) so that
        its programs may pass into it and no other slot's may; .root in it for init.py."""
        d = tempfile.mkdtemp(prefix=prefix, dir=self.scratch)
        gid = self.student_uid(slot)
        if gid is not None:
            os.chown(d, 0, gid)
        os.chmod(d, 0o710 if gid is not None else 0o700)
        os.mkdir(os.path.join(d, ".root"), 0o700)
        return d

    def _detect(self, namespaces):
        unshare = shutil.which("unshare") if namespaces else None
        user = [] if self.is_root else ["--user", "--map-root-user"]
        tries = []
        if unshare:
            tries = [
                ([unshare, *user, "--net", "--pid", "--ipc", "--uts", "--mount", "--fork",
                  "--mount-proc", "--kill-child"], {"net", "pid", "ipc", "uts", "mnt"}),
                ([unshare, *user, "--net", "--pid", "--ipc", "--mount", "--fork",
                  "--mount-proc", "--kill-child"], {"net", "pid", "ipc", "mnt"}),
                ([unshare, *user, "--net", "--ipc", "--mount"], {"net", "ipc", "mnt"}),
                ([unshare, *user, "--net", "--ipc"], {"net", "ipc"}),
                ([unshare, *user, "--net"], {"net"}),
            ]
        for prefix, features in tries:
            self.prefix, self.features = prefix, features
            self.userns = bool(prefix) and not self.is_root
            self.flags = ["--loopback"] + (["--hostname", "grade"] if "uts" in features else [])
            if self._probe():
                return
        self.prefix, self.flags, self.features, self.userns = [], [], set(), False

    def _probe(self):
        """The sandbox starts, and (with a mount namespace) shows its run directory, the
        programs' /tmp, and nothing of the course nor of the scratch directory around it."""
        rundir = self.new_rundir(None, "probe-")
        outside = os.path.join(self.scratch, "probe-outside")
        try:
            with open(outside, "w"):
                pass
            code = ("import os, sys\n"
                    "rundir, outside, *hidden = sys.argv[1:]\n"
                    "assert os.path.isdir(rundir)\n"
                    "if os.environ.get('MNT'):\n"
                    "    assert not any(os.path.exists(p) for p in hidden + [outside])\n"
                    "    open('/tmp/probe', 'w').write('x')\n"
                    "    open(os.path.join(rundir, 'probe'), 'w').write('x')\n"
                    "    try:\n"
                    "        open('/usr/probe', 'w')\n"
                    "        sys.exit('/usr is writable')\n"
                    "    except OSError:\n"
                    "        pass\n")
            r = self.run([self.python, "-I", "-c", code, rundir, outside, *self.hidden],
                         env={"PATH": "/usr/bin:/bin", "MNT": "1" if "mnt" in self.features
                              else ""}, cwd="/", timeout=30, rundir=rundir)
            wrote = os.path.exists(os.path.join(rundir, "probe"))
            return not r.infra and r.status == 0 and (wrote or "mnt" not in self.features)
        finally:
            os.unlink(outside)
            shutil.rmtree(rundir, ignore_errors=True)

    def describe(self, cgroups=None):
        f = self.features
        parts = ["network namespace with loopback only" if "net" in f
                 else "NO network namespace: programs share the machine's network",
                 "PID namespace" if "pid" in f else "no PID namespace (child subreaper only)",
                 "IPC namespace" if "ipc" in f
                 else "no IPC namespace (the SysV IPC of the programs' uids removed after)",
                 "UTS namespace" if "uts" in f else "no UTS namespace",
                 "mount namespace: a new root with the system's directories read-only and the "
                 "run's own directory, nothing of the course, the other runs or the "
                 "submissions; private /tmp, /var/tmp, /dev/shm of "
                 f"{self.limits['tmp_mb']} MiB" if "mnt" in f
                 else "NO mount namespace: the machine's files as the user may read them, "
                 "the shared /tmp" + self._course_readable()]
        if self.userns:
            parts.append(f"user namespace; everything runs as uid {os.getuid()}")
        elif self.is_root:
            parts.append(f"programs under test run as uid {self.uids[0]}+slot with no_new_privs"
                         ", the test runner as root")
        else:
            parts.append(f"everything runs as uid {os.getuid()}, the grader's own")
        if cgroups is not None:
            parts.append(cgroups.describe())
        lim = self.limits
        parts.append(f"rlimits: CPU {lim['cpu_seconds']} s, address space {lim['memory_mb']} MiB "
                     f"(compiler {lim['build_memory_mb']}, test runners "
                     f"{lim['runner_memory_mb']}), "
                     f"{lim['processes']} processes, files {lim['file_size_mb']} MiB, "
                     f"{lim['open_files']} open files, no core dumps")
        return "; ".join(parts)

    def _course_readable(self):
        """Without a mount namespace only file modes keep the course from the programs:
        a warning if they do not (every directory down to it, and it, passable by others:
        then a file of a known name in it, with the usual modes, is readable)."""
        for course in [self.course] if self.course else []:
            path, ok = course, True
            while ok and path != "/":
                try:
                    ok = bool(os.stat(path).st_mode & stat.S_IXOTH)
                except OSError:
                    ok = False
                path = os.path.dirname(path)
            if ok:
                return (f" (WARNING: the course at {course} is readable by the programs' "
                        f"users, solutions and all: chmod o-rx it)")
        return ""

    def student_uid(self, slot):
        return self.uids[slot] if self.is_root and slot is not None else None

    def _rlimits(self, memory_mb=None):
        lim = dict(self.limits, memory_mb=memory_mb or self.limits["runner_memory_mb"])
        nproc = lim["processes"]
        if not self.is_root and not self.userns:
            nproc += _tasks_of(os.getuid())  # counted with all of our own processes
        mb = 1 << 20
        return [f"cpu={lim['cpu_seconds']}", f"as={lim['memory_mb'] * mb}", f"nproc={nproc}",
                f"fsize={lim['file_size_mb'] * mb}", f"nofile={lim['open_files']}", "core=0"]

    def run(self, argv, *, env, cwd, timeout, rundir, uid=None, cap=1 << 20, keep=None,
            memory_mb=None, rtmp=None, rtmp_gid=None, cgroup=(), stdout=None,
            stdout_keep=None):
        """Run argv in the sandbox of the run directory rundir (as uid, if given) with the
        output bounded by cap bytes (past it, only lines matching keep); SIGKILL everything
        at timeout seconds.  memory_mb: the address-space limit (default: the test
        runners'); rtmp: the runner's temporary directory in rundir (its own tmpfs with a
        mount namespace), readable by the group rtmp_gid; cgroup: cgroup.procs files the
        command joins; stdout: a file for the command's stdout (else it is the output): its
        first 8 MiB, then the lines that match the regex stdout_keep."""
        if self.closed:
            return Result(None, "", False, 0.0, "the grader is stopping")
        r, w = os.pipe()
        cmd = [*self.prefix, self.python, "-I", self.init, *self.flags, "--errfd", str(w),
               "--cwd", cwd]
        if "mnt" in self.features:
            cmd += ["--root", rundir, "--tmp-mb", str(self.limits["tmp_mb"]),
                    "--host-mntns", str(os.stat("/proc/self/ns/mnt").st_ino)]
            for path in self.ro_paths:
                cmd += ["--ro", path]
            if rtmp:
                cmd += ["--rtmp", rtmp]
                if rtmp_gid is not None:
                    cmd += ["--rtmp-gid", str(rtmp_gid)]
        for spec in self._rlimits(memory_mb):
            cmd += ["--rlimit", spec]
        for procs in cgroup:
            cmd += ["--cgroup", procs]
        if stdout:
            cmd += ["--stdout", stdout]
            if stdout_keep:
                cmd += ["--stdout-keep", stdout_keep]
        if uid is not None:
            cmd += ["--uid", str(uid)]
        if self.userns:
            cmd += ["--drop-caps"]
        cmd += ["--", *argv]
        start = time.monotonic()
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, env=env, pass_fds=(w,),
                                    start_new_session=True, cwd="/")
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
        if "pid" not in self.features:
            for u in {uid, self.program_uid(rundir)} - {None}:
                self.sweep(u)
        return Result(None if timed_out else (status if status >= 0 else 128 - status),
                      out.text(), timed_out, seconds, infra)

    def program_uid(self, rundir):
        """The slot uid whose group a run directory has (its programs'), or None."""
        try:
            gid = os.stat(rundir).st_gid
        except OSError:
            return None
        return gid if gid in self.uids else None

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
        else runs as it); without an IPC namespace, remove its SysV IPC; without a mount
        namespace, what it left in the shared temporary directories."""
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
        if "ipc" not in self.features:
            remove_ipc({uid})
        if "mnt" not in self.features:
            for d in ("/tmp", "/var/tmp", "/dev/shm", "/dev/mqueue"):
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
