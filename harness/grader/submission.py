"""Submissions: find a learner's sources in a directory or an archive, safely.

A submission is laid out like labs/: one NN-topic/ directory per lab, holding the .c and .h
files either in NN-topic/starter/ or directly; possibly wrapped in one top-level directory.
Archives (.tar.gz, .tgz, .tar, .zip) are hostile input: a member with an absolute path, a
`..`, a link or a device rejects the whole archive, and so do too many members or bytes, a
name too long, or an extended (pax, GNU long name) header too large; only the .c and .h
files are written out.  harness/grade runs unpack() in a process of its own, as an
unprivileged user under rlimits (`python3 submission.py unpack NAME DEST < ARCHIVE`), so
that whatever an archive makes Python's tarfile or zipfile do costs the grader nothing.
Every reason for a rejection is one line of bounded length.
"""
import os
import re
import shutil
import stat
import sys
import tarfile
import zipfile

MAX_MEMBERS = 2000  # files and directories in an archive
MAX_BYTES = 50 << 20  # all of an archive's files, uncompressed
MAX_SOURCE = 1 << 20  # one .c or .h file
MAX_SOURCES = 200  # .c and .h files of one lab
MAX_NAME = 1024  # bytes of a member's path
MAX_PART = 255  # bytes of one component of it
MAX_HEADER = 64 << 10  # bytes of one pax or GNU long-name header
MAX_HEADERS = 1 << 20  # bytes of all of them
REJECTED_STATUS = 3  # the unpacking process's exit status for a rejected archive
ARCHIVES = (".tar.gz", ".tgz", ".tar", ".zip")
SOURCE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*\.[ch]$")


class Rejected(Exception):
    """The submission cannot be graded safely; the message (one line) says why."""

    def __init__(self, message):
        super().__init__(one_line(message))


def one_line(text, limit=300):
    """text on one line, at most limit characters: a reason that cannot flood a report."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 5] + " [...]"


def _shown(name):
    """A member's name for a message: quoted, and short."""
    return repr(name if len(name) <= 80 else name[:80] + "...")


def name_of(path):
    """A submission's name: its directory's or archive's base name, safe as a file name."""
    base = os.path.basename(os.path.normpath(path))
    for ext in ARCHIVES:
        if base.endswith(ext):
            base = base[: -len(ext)]
            break
    return re.sub(r"[^A-Za-z0-9._-]", "_", base).lstrip(".") or "submission"


def is_archive(path):
    return os.path.isfile(path) and path.endswith(ARCHIVES)


def _safe_member(name):
    """The member's path as a list of parts, or Rejected if it could land outside."""
    if len(os.fsencode(name)) > MAX_NAME:
        raise Rejected(f"archive member with a name longer than {MAX_NAME} bytes: {_shown(name)}")
    name = name.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise Rejected(f"archive member with an absolute path: {_shown(name)}")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise Rejected(f"archive member with '..' in its path: {_shown(name)}")
    if any(len(os.fsencode(p)) > MAX_PART for p in parts):
        raise Rejected(f"archive member with a name part longer than {MAX_PART} bytes: "
                       f"{_shown(name)}")
    return parts


def _wanted(parts):
    """Whether a member is written out: only what could be a source (.c, .h)."""
    return bool(parts) and parts[-1].endswith((".c", ".h"))


class _BoundedInfo(tarfile.TarInfo):
    """tarfile reads a pax or GNU long-name header's data whole into memory before anything
    else: refuse one larger than MAX_HEADER (a 1 MB .tar.gz can announce gigabytes)."""

    def _proc_member(self, tf):
        if self.type in (tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE,
                         tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK):
            if self.size > MAX_HEADER:
                raise Rejected(f"archive with an extended header of {self.size} bytes "
                               f"(at most {MAX_HEADER >> 10} KiB)")
            total = getattr(tf, "_grade_headers", 0) + self.size
            if total > MAX_HEADERS:
                raise Rejected(f"archive with more than {MAX_HEADERS >> 20} MiB of extended "
                               f"headers")
            tf._grade_headers = total
        return super()._proc_member(tf)


def _write(dest, parts, src, size):
    """Copy at most size bytes of the file object src to dest/parts, never through a link."""
    path = os.path.join(dest, *parts)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as out:
        left = size
        while left > 0:
            chunk = src.read(min(left, 1 << 16))
            if not chunk:
                break
            out.write(chunk)
            left -= len(chunk)
        if src.read(1):  # more than the header said
            raise Rejected(f"archive member {_shown('/'.join(parts))} is larger than it claims")


def unpack(archive, dest, name=None):
    """Unpack archive (a path, or a seekable binary file whose archive name is name) into
    the empty directory dest: its .c and .h files; Rejected if any member is unsafe."""
    total = 0
    name = name or archive
    try:
        if name.endswith(".zip"):
            with zipfile.ZipFile(archive) as z:
                infos = z.infolist()
                if len(infos) > MAX_MEMBERS:
                    raise Rejected(f"archive has more than {MAX_MEMBERS} members")
                for info in infos:
                    parts = _safe_member(info.filename)
                    # Unix zips keep the file type in the high bits (many tools leave it 0).
                    kind = stat.S_IFMT(info.external_attr >> 16)
                    if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
                        raise Rejected(f"archive member is a link or device: "
                                       f"{_shown(info.filename)}")
                    if info.is_dir() or not parts:
                        continue
                    total += info.file_size
                    if total > MAX_BYTES:
                        raise Rejected(f"archive holds more than {MAX_BYTES >> 20} MiB")
                    if _wanted(parts):
                        with z.open(info) as src:
                            _write(dest, parts, src, info.file_size)
        else:
            opened = (tarfile.open(archive, "r:*", tarinfo=_BoundedInfo) if isinstance(archive, str)
                      else tarfile.open(fileobj=archive, mode="r:*", tarinfo=_BoundedInfo))
            with opened as t:
                for count, m in enumerate(t, 1):  # streamed: a huge member list stops early
                    if count > MAX_MEMBERS:
                        raise Rejected(f"archive has more than {MAX_MEMBERS} members")
                    parts = _safe_member(m.name)
                    if m.isdir() or (not parts and not m.isfile()):
                        continue
                    if not m.isfile():
                        raise Rejected(f"archive member is a link or device: {_shown(m.name)}")
                    total += m.size
                    if total > MAX_BYTES:
                        raise Rejected(f"archive holds more than {MAX_BYTES >> 20} MiB")
                    if _wanted(parts):
                        _write(dest, parts, t.extractfile(m), m.size)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError, ValueError,
            UnicodeError) as e:
        raise Rejected(f"cannot unpack {os.path.basename(name)}: {e}")
    except MemoryError:
        raise Rejected(f"cannot unpack {os.path.basename(name)}: it needs more memory than "
                       f"the grader allows")


def _lab_dirs(d, labs):
    """The entries of d that are some lab's directory."""
    try:
        names = os.listdir(d)
    except OSError:
        return []
    return [n for n in names if any(_is_lab_dir(n, lab) for lab in labs)]


def _is_lab_dir(name, lab):
    return name == lab or re.match(rf"^{lab[:2]}([-_ ].*)?$", name) is not None


def find_root(d, labs):
    """The directory that holds the lab directories: d, or the one directory wrapping them."""
    if _lab_dirs(d, labs):
        return d
    entries = [e for e in os.scandir(d) if not e.name.startswith((".", "__MACOSX"))]
    if len(entries) == 1 and entries[0].is_dir(follow_symlinks=False):
        return entries[0].path
    return d


def sources(root, lab, single):
    """The learner's source files for lab as {name: path}, and where they were found.

    Looks in root/NN-topic/starter/, else root/NN-topic/; with single (one lab graded), a
    root that holds .c files directly is that lab's.  Rejected for a link or a special file
    where a source should be, or absurd sizes."""
    found = None
    candidates = sorted(n for n in os.listdir(root) if _is_lab_dir(n, lab))
    candidates.sort(key=lambda n: n != lab)  # the exact name first
    for name in candidates:
        path = os.path.join(root, name)
        if os.path.islink(path):
            raise Rejected(f"{name} is a symbolic link")
        if not os.path.isdir(path):
            continue
        starter = os.path.join(path, "starter")
        if os.path.islink(starter):
            raise Rejected(f"{name}/starter is a symbolic link")
        found = starter if os.path.isdir(starter) else path
        break
    if found is None and single and any(SOURCE.match(n) for n in os.listdir(root)):
        found = root
    if found is None:
        return {}, None
    files = {}
    for entry in os.scandir(found):
        if not entry.name.endswith((".c", ".h")) or entry.name.startswith("."):
            continue  # not a source (._x.c: macOS's metadata, which tar and zip carry along)
        where = os.path.relpath(entry.path, root)
        if entry.is_symlink() or not entry.is_file(follow_symlinks=False):
            raise Rejected(f"{where} is a link or a special file, not a source file")
        if not SOURCE.match(entry.name):
            raise Rejected(f"{where}: a source file name may hold only letters, digits, _ . + -")
        if entry.stat(follow_symlinks=False).st_size > MAX_SOURCE:
            raise Rejected(f"{where} is larger than {MAX_SOURCE >> 10} KiB")
        files[entry.name] = entry.path
    if len(files) > MAX_SOURCES:
        raise Rejected(f"more than {MAX_SOURCES} source files for {lab}")
    return files, os.path.relpath(found, root)


def merge(starter, submitted, dest):
    """dest gets the starter's files, then the submitted ones over them: what the learner did
    not hand in (such as 04's server.c, handed out complete) is the starter's."""
    os.makedirs(dest)
    for name in sorted(os.listdir(starter)):
        shutil.copyfile(os.path.join(starter, name), os.path.join(dest, name))
    for name, path in submitted.items():
        # O_NOFOLLOW on the source too: it was checked, but may have been swapped since.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as src:
            target = os.path.join(dest, name)
            if os.path.exists(target):
                os.unlink(target)
            _write(dest, [name], src, MAX_SOURCE)


def main(argv):
    """python3 submission.py unpack NAME DEST < ARCHIVE: unpack the archive on stdin (named
    NAME, which says its kind) into DEST; exit 0, or REJECTED_STATUS with the reason on
    stdout (one line)."""
    if len(argv) != 4 or argv[1] != "unpack":
        sys.stderr.write("usage: submission.py unpack NAME DEST < ARCHIVE\n")
        return 2
    try:
        with os.fdopen(0, "rb", closefd=False) as archive:
            unpack(archive, argv[3], argv[2])
    except Rejected as e:
        print(e, flush=True)
        return REJECTED_STATUS
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
