#!/usr/bin/env python3
"""init.py - the first process of one grading sandbox: harness/grade runs every build and every
test run of a submission through it.

    python3 init.py [--loopback] [--private-tmp KEEP --host-mntns INODE] [--writable DIR]...
                    [--uid UID | --drop-caps] [--rlimit NAME=N]... [--errfd FD] [--cwd DIR]
                    -- COMMAND...

Started under `unshare --net --pid --fork --mount-proc` it is PID 1 of the sandbox; without
namespaces it is a plain parent process.  Either way it:

  --loopback      brings `lo` up (a new network namespace starts with it down) and checks
                  that 127.0.0.1 works: the tests talk over nothing else;
  --private-tmp   mounts fresh tmpfs on /tmp, /var/tmp and /dev/shm (needs a mount namespace),
                  so that nothing a submission writes there outlives the run, then binds the
                  directory KEEP (the grader's scratch directory, which may be under /tmp)
                  back at its own path, and makes every other mount read-only, but for
                  /proc, /sys, /dev and each --writable DIR;
  runs COMMAND in a session of its own, under the rlimits given, as UID (and the group
  of the same number) if given, with no_new_privs, and with --drop-caps without any
  capability (for the root of a user namespace);
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
import re
import resource
import signal
import socket
import struct

PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC = 1, 2, 4, 32, 4096, 16384
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1

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


def mount(src, target, fstype, flags, data, what=None):
    check(libc.mount(src and src.encode(), target.encode(), fstype and fstype.encode(), flags,
                     data and data.encode()), what or f"mount {target}")


def private_tmp(keep, size_mb):
    """tmpfs on /tmp, /var/tmp and /dev/shm; keep (under one of them, maybe) bound back in.
    Returns the tmpfs mount points."""
    # Opened before /tmp is covered, so that it can be bound back in afterwards.
    fd = os.open(keep, os.O_PATH | os.O_DIRECTORY)
    done = []
    for d in ("/tmp", "/var/tmp", "/dev/shm"):
        if os.path.isdir(d) and not os.path.islink(d):
            mount("tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size_mb}m,mode=1777")
            done.append(d)
    if not os.path.isdir(keep):  # it was under one of them
        os.makedirs(keep)
        mount(f"/proc/self/fd/{fd}", keep, None, MS_BIND | MS_REC, None)
    os.close(fd)
    return done


def read_only_root(writable, tmpfs):
    """Every mount read-only but /proc, /sys, /dev, the private tmpfs and the writable
    directories: whatever uid the command runs as, it can write nowhere else (a learner's
    program run by a grader that is not root would otherwise run as the instructor)."""
    for w in writable:  # first, so that they stay writable under the read-only scratch
        mount(w, w, None, MS_BIND | MS_REC, None)
    with open("/proc/self/mountinfo", "rb") as f:  # field 5: the mount point, \ooo-escaped
        points = [os.fsdecode(re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]),
                                     line.split()[4])) for line in f]
    for mp in points:
        if mp in tmpfs or mp in writable or mp.startswith(("/proc", "/sys", "/dev")):
            continue
        try:
            flags = os.statvfs(mp).f_flag  # ST_NOSUID... are MS_NOSUID...: keep them
        except OSError:
            continue  # hidden under another mount (the machine's own /tmp, say)
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


def main():
    global errfd
    p = argparse.ArgumentParser(prog="init.py")
    p.add_argument("--loopback", action="store_true")
    p.add_argument("--private-tmp", metavar="KEEP")
    p.add_argument("--tmp-mb", type=int, default=256)
    p.add_argument("--writable", action="append", default=[])
    p.add_argument("--host-mntns", type=int, default=0)
    p.add_argument("--uid", type=int)
    p.add_argument("--drop-caps", action="store_true")
    p.add_argument("--rlimit", action="append", default=[])
    p.add_argument("--errfd", type=int, default=2)
    p.add_argument("--cwd", default="/")
    p.add_argument("command", nargs="+")
    args = p.parse_args()
    errfd = args.errfd
    os.set_inheritable(errfd, False)  # the command must not be able to write on it

    try:
        if args.loopback:
            loopback_up()
        if args.private_tmp:
            # Mounting here changes the machine itself unless this is a mount namespace of
            # its own: the grader says which one it is in, and that must not be it.
            if os.stat("/proc/self/ns/mnt").st_ino == args.host_mntns:
                die("--private-tmp outside a mount namespace of its own")
            tmpfs = private_tmp(args.private_tmp, args.tmp_mb)
            read_only_root([os.path.realpath(w) for w in args.writable], tmpfs)
    except OSError as e:
        die(str(e))
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
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status)
             else 128 + os.WTERMSIG(status))


if __name__ == "__main__":
    main()
