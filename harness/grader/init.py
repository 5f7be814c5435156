#!/usr/bin/env python3
"""init.py - the first process of one grading sandbox: harness/grade runs every build and every
test run of a submission through it (from a copy in its scratch directory, so that nothing in
the sandbox, /proc/1/cmdline included, names the course's own directory).

    python3 init.py [--loopback] [--hostname NAME]
                    [--root RUNDIR --host-mntns INODE [--ro PATH]... [--tmp-mb N]
                     [--rtmp DIR [--rtmp-gid GID]]]
                    [--uid UID | --drop-caps] [--cgroup PROCS]... [--rlimit NAME=N]...
                    [--stdout FILE [--stdout-max BYTES] [--stdout-keep REGEX]]
                    [--errfd FD] [--cwd DIR] -- COMMAND...

Started under `unshare --net --pid --ipc --uts --mount --fork --mount-proc` it is PID 1 of the
sandbox; without namespaces it is a plain parent process.  Either way it:

  --loopback      brings `lo` up (a new network namespace starts with it down) and checks
                  that 127.0.0.1 works: the tests talk over nothing else;
  --hostname      names the sandbox's own UTS namespace;
  --root          (needs a mount namespace of its own) builds a new root and pivots into it:
                  the system's directories (/usr, /etc, /bin, /lib...) and each --ro PATH
                  read-only, /dev, /sys, a /proc of the PID namespace, RUNDIR (the one run's
                  directory) at its own path, and nothing else: not the course, not the
                  grader's scratch directory with the other runs in it, not the submissions,
                  not the results.  /tmp, /var/tmp and /dev/shm are one fresh tmpfs of
                  --tmp-mb MiB (the programs' only writable place, and their disk quota);
                  --rtmp DIR (inside RUNDIR) another, the test runner's, that the programs
                  (group --rtmp-gid) may read but not write;
  runs COMMAND in a session of its own, under the rlimits given, in each cgroup whose
  cgroup.procs file is given (--cgroup), as UID (and the group of the same number) if given,
  with no_new_privs, with --drop-caps without any capability (for the root of a user
  namespace), with its stdout on FILE if given (--stdout: a channel only the grader reads,
  through a pipe that this process copies to FILE: the first --stdout-max bytes, then only
  the lines that match --stdout-keep, so that neither the command's file-size limit nor a
  flood can cut its results short);
  reaps every process (it is a child subreaper: orphans come to it, even after setsid), and
  once COMMAND exits kills whatever is left before it exits itself with COMMAND's status
  (128+N for signal N).  As PID 1 the kernel would do that too, to the whole namespace.

Once set up it writes "ready" to --errfd, a pipe only the grader reads; a failure of the
sandbox itself goes there too, and exits 125, so that the grader can tell an infrastructure
error from what COMMAND printed.
Standard library only: it runs on the grading machine's /usr/bin/python3.
"""
import argparse
import ctypes
import fcntl
import os
import platform
import re
import resource
import signal
import socket
import struct
import threading

PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
# What a program needs of the machine to run: the rest of the new root is empty.
SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "i686": 217, "i386": 217,
                  "armv7l": 218, "ppc64le": 203, "s390x": 217}

libc = ctypes.CDLL(None, use_errno=True)
errfd = 2


def die(msg):
    """A failure of the sandbox, not of the command: report it where the grader looks."""
    try:
        os.write(errfd, f"sandbox: {msg}\n".encode())
    except OSError:
        pass
    os._exit(125)


def check(rc, what):
    if rc != 0:
        e = ctypes.get_errno()
        die(f"{what}: {os.strerror(e)}")


def loopback_up():
    # ioctl rather than `ip link set lo up`: iproute2 may be missing on a grading image.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(s, SIOCGIFFLAGS, req))[1]
        if not flags & IFF_UP:
            fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sh", b"lo", flags | IFF_UP))
    with socket.create_server(("127.0.0.1", 0)) as s:  # raises if loopback does not work
        socket.create_connection(s.getsockname(), timeout=5).close()


libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]


def mount(src, target, fstype, flags, data, what=None):
    check(libc.mount(src and src.encode(), target.encode(), fstype and fstype.encode(), flags,
                     data and data.encode()), what or f"mount {target}")


def pivot_root(new, old):
    if hasattr(libc, "pivot_root"):
        rc = libc.pivot_root(new.encode(), old.encode())
    else:
        number = SYS_PIVOT_ROOT.get(platform.machine())
        if number is None:
            die(f"pivot_root: unknown system call number on {platform.machine()}")
        rc = libc.syscall(number, new.encode(), old.encode())
    check(rc, "pivot_root")


def mount_points():
    """The mount points of this namespace, in mount order (field 5 of mountinfo, \\ooo-escaped)."""
    with open("/proc/self/mountinfo", "rb") as f:
        return [os.fsdecode(re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]),
                                   line.split()[4])) for line in f]


def show(path, root, recursive=True):
    """Bind path (a directory or a file) at the same place under root."""
    inside = root + path
    if os.path.isdir(path):
        os.makedirs(inside, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(inside), exist_ok=True)
        if not os.path.exists(inside):
            open(inside, "w").close()
    mount(path, inside, None, MS_BIND | (MS_REC if recursive else 0), None, f"bind {path}")


def new_root(rundir, ro_paths, tmp_mb, rtmp, rtmp_gid, pidns):
    """Build the new root on rundir/.root and pivot into it (see the docstring)."""
    root = os.path.join(rundir, ".root")
    # Nothing mounted here may reach the machine's own mount tree, nor back.
    mount(None, "/", None, MS_REC | MS_PRIVATE, None, "make the mounts private")
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    for top in SYSTEM:
        if os.path.islink(top):  # /bin -> usr/bin on a merged-/usr system
            os.symlink(os.readlink(top), root + top)
        elif os.path.isdir(top):
            show(top, root)
    show("/dev", root)
    show("/sys", root)
    os.makedirs(root + "/proc")
    if pidns:
        mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
    else:
        show("/proc", root)
    # The programs' temporary space: one tmpfs, so one quota, for all three places.
    scratch = root + "/.tmp"
    os.makedirs(scratch)
    mount("tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmp_mb}m,mode=0755")
    for name, place in (("tmp", "/tmp"), ("var-tmp", "/var/tmp"), ("shm", "/dev/shm")):
        os.mkdir(os.path.join(scratch, name))
        os.chmod(os.path.join(scratch, name), 0o1777)
        os.makedirs(root + place, exist_ok=True)
        mount(os.path.join(scratch, name), root + place, None, MS_BIND, None)
    check(libc.umount2(scratch.encode(), MNT_DETACH), "umount the temporary space")
    os.rmdir(scratch)
    for path in ro_paths:  # after /tmp: a tool's directory there is shown all the same
        if os.path.exists(path) and not os.path.exists(root + path):
            show(path, root)
    # The run's own directory (it may be under /tmp: then inside the programs' tmpfs).
    show(rundir, root, recursive=False)
    if rtmp:
        mode = "0750" if rtmp_gid is not None else "0755"
        gid = f",gid={rtmp_gid}" if rtmp_gid is not None else ""
        mount("tmpfs", root + rtmp, "tmpfs", MS_NOSUID | MS_NODEV,
              f"size={tmp_mb}m,mode={mode},uid=0{gid}")
    os.chdir(root)
    pivot_root(".", ".")  # the old root is now stacked on the new one: take it away
    check(libc.umount2(b".", MNT_DETACH), "umount the old root")
    os.chdir("/")
    writable = {rundir, "/tmp", "/var/tmp", "/dev/shm"} | ({rtmp} if rtmp else set())
    for mp in mount_points():
        if mp in writable or mp.startswith(("/proc", "/sys", "/dev")):
            continue
        try:
            flags = os.statvfs(mp).f_flag  # ST_NOSUID... are MS_NOSUID...: keep them
        except OSError:
            continue  # hidden under another mount
        # MS_BIND: this mount's own flags only, in this namespace's copy of it.  A mount
        # that stays writable would be a hole: the sandbox fails, and the grader falls back
        # to a weaker one that says so.
        mount(None, mp, None, flags | MS_REMOUNT | MS_BIND | MS_RDONLY, None,
              f"cannot make {mp} read-only")


def children():
    """PIDs whose parent is this process (orphans included: we are their subreaper)."""
    me, kids = os.getpid(), []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    stat = f.read()
            except OSError:
                continue  # gone meanwhile
            # After the command name, which may hold spaces and parentheses: state, ppid.
            if int(stat[stat.rindex(b")") + 2:].split()[1]) == me:
                kids.append(int(entry))
    return kids


def kill_all():
    """SIGKILL every descendant: kill the children, reap them, and go again for the orphans
    that come up to us, until none is left (bounded: a fork bomb is capped by RLIMIT_NPROC)."""
    for _ in range(1000):
        kids = children()
        if not kids:
            return
        for pid in kids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in kids:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


def run_child(args):
    try:
        os.setsid()  # its own process group: the grader and the tests kill by group
        # Past RLIMIT_FSIZE a write fails with EFBIG instead of killing the writer (the
        # disposition is inherited across exec): a test runner that logs a flooding
        # program's output then goes on, with the log cut short.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        if args.stdout_pipe is not None:
            os.dup2(args.stdout_pipe, 1)
            os.close(args.stdout_pipe)
        for procs in args.cgroup:
            with open(procs, "w") as f:
                f.write(f"{os.getpid()}\n")
        for spec in args.rlimit:
            name, value = spec.split("=")
            limit = int(value)
            resource.setrlimit(getattr(resource, "RLIMIT_" + name.upper()), (limit, limit))
        if args.uid is not None:
            os.setgroups([])
            os.setresgid(args.uid, args.uid, args.uid)
            os.setresuid(args.uid, args.uid, args.uid)
        if args.drop_caps:
            # Root of a user namespace could undo the read-only mounts: with an empty
            # bounding set, its commands start with no capability at all.
            with open("/proc/sys/kernel/cap_last_cap") as f:
                for cap in range(int(f.read()) + 1):
                    check(libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), "dropping capabilities")
        # No setuid binary may give the command back what it was denied.
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        os.umask(0o022)  # what the runner writes for a program under test, it can read
        os.chdir(args.cwd)
        os.execvp(args.command[0], args.command)
    except OSError as e:
        die(f"cannot run {args.command[0]}: {e}")


def relay(r, fd, limit, keep):
    """Copy the pipe r to the file fd: everything up to limit bytes, then only the lines
    that keep matches (each line at most LINE_MAX bytes)."""
    size, partial = 0, b""

    def line(text):
        nonlocal size
        text = text[:LINE_MAX]
        if size + len(text) <= limit or (keep is not None and keep.match(text)):
            os.write(fd, text)
            size += len(text)

    while True:
        try:
            data = os.read(r, 1 << 16)
        except OSError:
            break
        if not data:
            break
        *whole, partial = (partial + data).split(b"\n")
        for text in whole:
            line(text + b"\n")
        if len(partial) > LINE_MAX:
            line(partial + b"\n")
            partial = b""
    if partial:
        line(partial)
    os.close(r)
    os.close(fd)


LINE_MAX = 4096


def main():
    global errfd
    p = argparse.ArgumentParser(prog="init.py")
    p.add_argument("--loopback", action="store_true")
    p.add_argument("--hostname")
    p.add_argument("--root", metavar="RUNDIR")
    p.add_argument("--ro", action="append", default=[])
    p.add_argument("--tmp-mb", type=int, default=256)
    p.add_argument("--rtmp")
    p.add_argument("--rtmp-gid", type=int)
    p.add_argument("--host-mntns", type=int, default=0)
    p.add_argument("--uid", type=int)
    p.add_argument("--drop-caps", action="store_true")
    p.add_argument("--cgroup", action="append", default=[])
    p.add_argument("--rlimit", action="append", default=[])
    p.add_argument("--stdout")
    p.add_argument("--stdout-max", type=int, default=8 << 20)
    p.add_argument("--stdout-keep")
    p.add_argument("--errfd", type=int, default=2)
    p.add_argument("--cwd", default="/")
    p.add_argument("command", nargs="+")
    args = p.parse_args()
    errfd = args.errfd
    os.set_inheritable(errfd, False)  # the command must not be able to write on it

    try:
        if args.loopback:
            loopback_up()
        if args.hostname:
            socket.sethostname(args.hostname)
        if args.root:
            # Mounting here changes the machine itself unless this is a mount namespace of
            # its own: the grader says which one it is in, and that must not be it.
            if os.stat("/proc/self/ns/mnt").st_ino == args.host_mntns:
                die("--root outside a mount namespace of its own")
            pidns = os.getpid() == 1
            new_root(os.path.realpath(args.root), [os.path.realpath(p) for p in args.ro],
                     args.tmp_mb, args.rtmp and os.path.realpath(args.rtmp), args.rtmp_gid,
                     pidns)
    except OSError as e:
        die(str(e))
    args.stdout_pipe = out = None
    if args.stdout:
        try:
            out = os.open(args.stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
                          | os.O_CLOEXEC, 0o600)
        except OSError as e:
            die(f"cannot open {args.stdout}: {e.strerror}")
        r, args.stdout_pipe = os.pipe()
        os.set_inheritable(r, False)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    os.write(errfd, b"ready\n")  # the sandbox is up: what fails from here is the command's

    # The grader stops a run that is out of time with SIGTERM (or SIGKILL when we are PID 1
    # of a namespace, which takes everything with it): leave nothing behind either way.
    def stop(signum, frame):
        kill_all()
        os._exit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop)

    pid = os.fork()
    if pid == 0:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        run_child(args)
    copier = None
    if out is not None:
        os.close(args.stdout_pipe)
        keep = re.compile(args.stdout_keep.encode()) if args.stdout_keep else None
        copier = threading.Thread(target=relay, args=(r, out, args.stdout_max, keep),
                                  daemon=True)
        copier.start()
    status = 0
    while True:
        try:
            got, st = os.wait()
        except ChildProcessError:
            break
        if got == pid:
            status = st
            break
    kill_all()
    if copier is not None:
        copier.join(10)  # every writer is gone: the pipe is at its end
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status)
             else 128 + os.WTERMSIG(status))


if __name__ == "__main__":
    main()
