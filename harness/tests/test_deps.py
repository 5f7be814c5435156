"""harness/deps knows every tool that `make` and `make test` run.

The README's two commands must work on a bare Debian 12 (debootstrap --variant=minbase, plus
git and make): `make` runs harness/deps first, which installs what is missing.  A script that
calls a tool deps does not install fails there, late and far from the cause (`make test` once
ended "789 passed, 2 failed" because harness/package needs zip).  So this reads every script
that `make` and `make test` run, finds the external commands it calls, and checks that each is

  - installed by harness/deps (`harness/deps --list`: GROUP PACKAGE COMMAND...), in its core
    group for what `make` and `make test` run, or in the group of the target that runs it
    (harness/memcheck: valgrind; harness/bench: bench; fuzz and lint in the Makefile); or
  - in every Debian 12 minbase (MINBASE below: the command and the package that has it,
    checked with `dpkg -S` where dpkg is); or
  - a shell builtin or keyword, or a function defined in the scripts or by bats.

What counts as a call: the first word of each simple command of a shell script, bats file or
Makefile recipe (after assignments and redirections, and after a prefix command such as env,
timeout, xargs or bats's run), and in Python the first element of a literal argv list given to
subprocess (or a .run of the grader's sandbox).  Not a call: `command -v X`, shutil.which("X")
and the like, which probe for X and cope without it; a path (harness/learn, "$bin"): the
course's own programs, scanned themselves if they are scripts; a word made by an expansion.

A new script anywhere under harness/ or labs/ is scanned too, as core unless GROUP_FILES says
otherwise; a tool it calls that is in neither list fails this test, which names the file and
line.  To fix: add the tool to harness/deps (with its Debian package), or, if minbase has it,
to MINBASE.
"""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Commands every Debian 12 minbase has, with their package (`dpkg -S`), among those the
# scripts use.  Minbase is Priority: required plus apt; MINBASE_PACKAGES is what
# `debootstrap --variant=minbase bookworm` installed (2026-12, less the libraries).
MINBASE = {
    # coreutils
    **{c: "coreutils" for c in """[ basename cat chmod chown comm cp cut date dd df dirname du echo
        env expr false head id install ln ls mkdir mkfifo mktemp mv nproc od paste printf pwd
        readlink realpath rm rmdir seq sha256sum sleep sort split stat stdbuf tac tail tee test
        timeout touch tr true truncate uname uniq wc yes nohup nice""".split()},
    "bash": "bash", "sh": "dash", "dash": "dash",
    "grep": "grep", "egrep": "grep", "sed": "sed", "tar": "tar", "gzip": "gzip",
    "gunzip": "gzip", "zcat": "gzip", "awk": "mawk", "mawk": "mawk",
    "find": "findutils", "xargs": "findutils", "cmp": "diffutils", "diff": "diffutils",
    "which": "debianutils", "run-parts": "debianutils",
    **{c: "util-linux" for c in """flock setpriv setsid unshare runuser nsenter prlimit taskset
        getopt more""".split()},
    "mount": "mount", "umount": "mount",
    "hostname": "hostname", "getent": "libc-bin", "ldd": "libc-bin", "iconv": "libc-bin",
    "locale": "libc-bin", "perl": "perl-base", "tput": "ncurses-bin", "clear": "ncurses-bin",
    "apt-get": "apt", "apt-cache": "apt", "dpkg": "dpkg", "dpkg-query": "dpkg",
    "su": "util-linux", "logger": "bsdutils", "script": "bsdutils",
    "chroot": "coreutils", "pidof": "sysvinit-utils",
}
MINBASE_PACKAGES = set("""adduser apt base-files base-passwd bash bsdutils coreutils dash debconf
    debian-archive-keyring debianutils diffutils dpkg e2fsprogs findutils gpgv grep gzip hostname
    init-system-helpers libc-bin login logsave mawk mount ncurses-base ncurses-bin passwd
    perl-base sed sysvinit-utils tar tzdata usr-is-merged util-linux util-linux-extra""".split())

# Shell builtins and keywords (bash's `compgen -b -k`), which no package provides.
BUILTINS = set("""! [[ ]] { } . : alias bg bind break builtin caller case cd command compgen complete
    compopt continue coproc declare dirs disown do done echo elif else enable esac eval exec
    exit export false fc fg fi for function getopts hash help history if in jobs kill let local
    logout mapfile popd printf pushd pwd read readarray readonly return select set shift shopt
    source suspend test then time times trap true type typeset ulimit umask unalias unset until
    wait while""".split())
# What bats and its libraries define (bats-core, bats-support, bats-assert).
BATS_FUNCTIONS = set("""run load skip bats_load_library bats_require_minimum_version setup
    teardown setup_file teardown_file fail assert refute assert_equal assert_not_equal
    assert_success assert_failure assert_output refute_output assert_line refute_line
    assert_regex refute_regex batslib_err batslib_count_lines bats_pipe""".split())

# Files not run by `make` or `make test`, and the deps group (harness/deps GROUP) whose target
# runs them; these may use that group's tools beside the core ones.
GROUP_FILES = {
    "harness/memcheck": "valgrind",
    "harness/fuzz/run": "fuzz",
    "harness/bench/run.py": "bench",
    "harness/bench/report.py": "bench",
}
# Makefile targets of the groups: their recipes may use the group's tools.
GROUP_TARGETS = {
    "fuzz": "fuzz", "$(FUZZ_DIR)/fuzz_%": "fuzz", "lint": "lint", "memcheck": "valgrind",
    "bench": "bench", "bench-docs": "bench", "$(BUILD)/bench/loadgen": "bench",
    "$(BUILD)/bench/jsonbench": "bench",
}
# Commands a script calls only where it has found them (command -v), coping without them.
OPTIONAL = {
    ("harness/deps", "sudo"),  # to install as a user who is not root; else it prints the command
}
# Not scanned, and why.
SKIPPED = {
    # Run by Gradescope on its own image (Ubuntu), to build it: it installs what it needs.
    "harness/gradescope/setup.sh",
    # The list of minbase commands and the scanner: data, not calls.
    "harness/tests/test_deps.py",
}


# --- the shell scanner -------------------------------------------------------------------------

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.+-]*$|^\[$")
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=")
# Commands that run another command given as their arguments; for each, the options that take
# a value (the next word) and whether a first plain word is theirs (timeout's duration).
PREFIX = {
    "env": ({"-u", "--unset", "-C", "--chdir", "-S", "--split-string"}, 0),
    "timeout": ({"-k", "--kill-after", "-s", "--signal"}, 1),
    "xargs": ({"-I", "-n", "-P", "-d", "-L", "-s", "-E", "-a"}, 0),
    "nice": ({"-n", "--adjustment"}, 0),
    "nohup": (set(), 0), "setsid": (set(), 0), "stdbuf": (set(), 0),
    "sudo": ({"-u", "-g", "-p", "-C"}, 0),
    "exec": ({"-a"}, 0), "builtin": (set(), 0), "time": (set(), 0),
    "run": (set(), 0),  # bats: run [--separate-stderr] [-N] [!] CMD
    "command": (set(), 0),
    "unshare": (set(), 0), "setpriv": (set(), 0), "runuser": ({"-u", "-g"}, 0),
    "chroot": (set(), 1), "flock": (set(), 1),
}
# Keywords after which a command may follow on the same simple command.
LEADING = {"if", "then", "else", "elif", "do", "while", "until", "!", "{", "}", "fi", "done",
           "time", "(", ")"}


class Shell:
    """The commands a shell script calls: self.calls, (name, line) pairs; self.defined, the
    functions it defines.  A scanner for the shell the course writes, not a whole parser:
    quotes, $(...), `...`, ${...}, $((...)), ((...)), [[ ... ]], case patterns, here-documents,
    arrays, redirections and comments are understood; a word made by an expansion is not a
    command name it can check, and is skipped."""

    def __init__(self, text):
        self.s = text.replace("\\\n", "  ")  # line continuations (lines are counted on text)
        self.lines = text
        self.i = 0
        self.calls, self.defined = [], set()
        self.heredocs = []
        self.commands(None)

    def line(self):
        return self.s.count("\n", 0, self.i) + 1

    def peek(self, k=0):
        j = self.i + k
        return self.s[j] if j < len(self.s) else ""

    # A simple command's state: words seen, the prefix command it is in, the mode.
    def reset(self, st):
        st.update(words=0, prefix=None, prefix_skip=0, redir=False, cmd=None, mode=st["mode"]
                  if st["mode"] in ("case_pattern",) else "start")

    def commands(self, end):
        """Scan commands until the character end (')' or '`') or the end of the text."""
        st = {"mode": "start"}
        self.reset(st)
        cases = []  # nested case statements: their modes
        word, raw, dynamic = "", False, False
        cond = False  # inside [[ ... ]]

        def finish_word():
            nonlocal word, raw, dynamic
            if word or raw:
                self.word(st, word, dynamic, cases)
                nonlocal cond
                if st["mode"] == "cond":
                    cond = True
                elif cond and st["mode"] != "cond":
                    cond = False
            word, raw, dynamic = "", False, False

        def end_command():
            finish_word()
            self.commit(st)
            if st["mode"] not in ("case_pattern", "case_head"):
                self.reset(st)

        while self.i < len(self.s):
            c = self.s[self.i]
            if end and c == end and not cond and st["mode"] != "case_pattern":
                end_command()
                self.i += 1
                return
            if c in " \t":
                finish_word()
                self.i += 1
            elif c == "\n":
                end_command()
                self.i += 1
                self.skip_heredocs()
            elif c == "#" and not word and not raw:
                while self.i < len(self.s) and self.s[self.i] != "\n":
                    self.i += 1
            elif c == "\\":
                word += self.peek(1)
                self.i += 2
            elif c == "'":
                j = self.s.find("'", self.i + 1)
                j = len(self.s) if j < 0 else j
                word += self.s[self.i + 1:j]
                raw = True
                self.i = j + 1
            elif c == '"':
                self.i += 1
                word += self.double_quoted()
                raw = True
            elif c == "`":
                self.i += 1
                self.commands("`")
                dynamic = True
                raw = True
            elif c == "$":
                dynamic |= self.dollar()
                raw = True
                word += "$"
            elif cond:
                if c == "]" and self.peek(1) == "]" and not word and self.peek(2) in " \t\n;&|)":
                    self.i += 2
                    cond = False
                    st["mode"] = "args"
                else:
                    word += c
                    self.i += 1
            elif st["mode"] == "case_pattern":
                if c == ")":
                    word, raw, dynamic = "", False, False
                    st["mode"] = "start"
                    st["words"] = 0
                    self.i += 1
                elif c in "(|":
                    finish_word()
                    self.i += 1
                else:
                    word += c
                    self.i += 1
                    if re.match(r"esac\b", self.s[self.i - 1:self.i + 3]) and len(word) == 1 \
                            and self.s[self.i + 3:self.i + 4] in ("", " ", "\t", "\n", ";", ")"):
                        self.i += 3
                        word = ""
                        cases.pop() if cases else None
                        st["mode"] = "args"
            elif c in ";&|":
                op = c
                self.i += 1
                if c == ";" and self.peek() in ";&":
                    op += self.s[self.i]
                    self.i += 1
                    if self.peek() == "&":
                        self.i += 1
                elif c == "&" and self.peek() == ">":  # &> FILE
                    finish_word()
                    self.i += 1
                    if self.peek() == ">":
                        self.i += 1
                    st["redir"] = True
                    continue
                elif c in "&|" and self.peek() == c:
                    self.i += 1
                end_command()
                if op in (";;", ";&", ";;&") and cases:
                    st["mode"] = "case_pattern"
            elif c in "<>":
                if self.peek(1) == "(":  # process substitution
                    finish_word()
                    self.i += 2
                    self.commands(")")
                    raw = True
                    dynamic = True
                    continue
                if re.fullmatch(r"\d+|\{[A-Za-z_]\w*\}", word) and not raw:
                    word = ""  # an fd: 2>&1, {fd}<file
                else:
                    finish_word()
                ops = ""
                while self.peek() and self.peek() in "<>&|-" and len(ops) < 3:
                    ops += self.peek()
                    self.i += 1
                    if ops.endswith("&") or ops == "<<<":
                        break
                if ops.startswith("<<") and ops != "<<<":
                    self.heredoc(ops)
                    continue
                if ops.endswith("&"):  # >&2, <&3, >&-
                    while self.peek() and (self.peek().isdigit() or self.peek() == "-"):
                        self.i += 1
                    if self.peek() == "$" or self.peek() == '"':
                        st["redir"] = True
                    continue
                st["redir"] = True
            elif c == "(":
                if self.peek(1) == "(" and not word:  # (( arithmetic ))
                    self.skip_parens()
                    st["mode"] = "args" if st["mode"] == "start" else st["mode"]
                elif word and word.endswith("="):  # an array: a=(x y)
                    self.i += 1
                    self.words_until(")")
                    word += "()"
                elif st["mode"] == "start" and st["words"] == 0 and not word:
                    self.i += 1
                    self.commands(")")  # a subshell
                elif self.s[self.i:].startswith("()") or re.match(r"\(\s*\)", self.s[self.i:]):
                    name = word or st.get("cmd")
                    if name:
                        self.defined.add(name)
                    word, raw, dynamic = "", False, False
                    st["cmd"] = None
                    self.reset(st)
                    self.i = self.s.index(")", self.i) + 1
                else:
                    word += c
                    self.i += 1
            elif c == ")":
                end_command()
                self.i += 1
                if end is None and cases:
                    pass
            else:
                word += c
                self.i += 1
        end_command()

    def word(self, st, w, dynamic, cases):
        if st["redir"]:
            st["redir"] = False
            return
        mode = st["mode"]
        if mode in ("args", "skip", "case_pattern"):
            if mode == "skip" and w == "do":
                st["mode"] = "start"
            if mode == "skip" and w == "in" and st.get("for") is False:
                pass
            return
        if mode == "case_head":
            if w == "in":
                st["mode"] = "case_pattern"
                cases.append(True)
            return
        if mode == "cond":
            return
        if mode == "function":
            self.defined.add(w)
            st["mode"] = "args"
            return
        if mode == "prefix":
            opts, skip = PREFIX[st["prefix"]]
            if st.get("optarg"):
                st["optarg"] = False
                return
            if w.startswith("-") and not dynamic:
                if st["prefix"] == "command" and w in ("-v", "-V"):
                    st["mode"] = "args"  # a probe, not a call
                elif w in opts:
                    st["optarg"] = True
                return
            if st["prefix"] in ("env", "sudo") and ASSIGNMENT.match(w):
                return
            if st["prefix"] == "run" and w == "!":
                return
            if st["prefix_skip"] > 0:
                st["prefix_skip"] -= 1
                return
        # A command word, or what stands before it.
        if mode == "start" and not st["prefix"] and ASSIGNMENT.match(w):
            return
        if mode == "start" and not st["prefix"] and w in LEADING and not dynamic:
            return
        if not dynamic and w == "esac" and cases and mode == "start":
            cases.pop()
            st["mode"] = "args"
            return
        st["words"] += 1
        if dynamic:
            st["mode"] = "args"
            return
        if w in ("for", "select"):
            st["mode"] = "skip"
            return
        if w == "case":
            st["mode"] = "case_head"
            return
        if w == "[[":
            st["mode"] = "cond"
            return
        if w == "function":
            st["mode"] = "function"
            return
        if w == "coproc":  # coproc [NAME] { ...; } or coproc CMD
            if re.match(r"\s+[A-Za-z_]\w*\s+\{", self.s[self.i:]):
                self.i = self.s.index("{", self.i) + 1
            st["mode"] = "start"
            st["words"] = 0
            return
        name = w
        if w.startswith("/") and re.match(r"^/(usr/)?s?bin/[^/]+$", w):
            name = w.rsplit("/", 1)[1]
        elif "/" in w:
            st["mode"] = "args"  # a path: the course's own program, or a variable's
            return
        if NAME.match(name):
            self.commit(st)
            st["cmd"] = (name, self.line())
        if name in PREFIX:
            st["mode"] = "prefix"
            st["prefix"] = name
            st["prefix_skip"] = PREFIX[name][1]
            st["optarg"] = False
        else:
            st["mode"] = "args"

    def commit(self, st):
        if st.get("cmd"):
            self.calls.append(st["cmd"])
            st["cmd"] = None

    def double_quoted(self):
        out = ""
        while self.i < len(self.s):
            c = self.s[self.i]
            if c == '"':
                self.i += 1
                return out
            if c == "\\":
                out += self.peek(1)
                self.i += 2
            elif c == "$":
                self.dollar()
                out += "$"
            elif c == "`":
                self.i += 1
                self.commands("`")
                out += "$"
            else:
                out += c
                self.i += 1
        return out

    def dollar(self):
        """At a $: scan what it expands (commands in $(...)); True if it makes a word."""
        nxt = self.peek(1)
        if nxt == "(" and self.peek(2) == "(":
            self.i += 1
            self.skip_parens()
        elif nxt == "(":
            self.i += 2
            self.commands(")")
        elif nxt == "{":
            self.i += 2
            depth = 1
            while self.i < len(self.s) and depth:
                c = self.s[self.i]
                if c == "\\":
                    self.i += 2
                    continue
                if c == "'":
                    self.i = self.s.find("'", self.i + 1) + 1 or len(self.s)
                    continue
                if c == '"':
                    self.i += 1
                    self.double_quoted()
                    continue
                if c == "$":
                    self.dollar()
                    continue
                depth += {"{": 1, "}": -1}.get(c, 0)
                self.i += 1
        elif nxt == "'":
            j = self.i + 2
            while j < len(self.s) and self.s[j] != "'":
                j += 2 if self.s[j] == "\\" else 1
            self.i = j + 1
        else:
            self.i += 1
            m = re.match(r"[A-Za-z_]\w*|[0-9#?@*!$-]", self.s[self.i:])
            if m:
                self.i += m.end()
        return True

    def skip_parens(self):
        """At the first of two (: skip to the matching ))."""
        depth = 0
        while self.i < len(self.s):
            c = self.s[self.i]
            if c == "$" and self.peek(1) == "(" and self.peek(2) != "(":
                self.dollar()
                continue
            depth += {"(": 1, ")": -1}.get(c, 0)
            self.i += 1
            if depth == 0:
                return

    def words_until(self, end):
        """Inside an array's ( ): words, not commands, to the closing )."""
        while self.i < len(self.s) and self.s[self.i] != end:
            c = self.s[self.i]
            if c == "'":
                self.i = self.s.find("'", self.i + 1) + 1 or len(self.s)
            elif c == '"':
                self.i += 1
                self.double_quoted()
            elif c == "$":
                self.dollar()
            elif c == "#" and self.s[self.i - 1] in " \t\n(":
                while self.i < len(self.s) and self.s[self.i] != "\n":
                    self.i += 1
            else:
                self.i += 1
        self.i += 1

    def heredoc(self, ops):
        while self.peek() in (" ", "\t"):
            self.i += 1
        m = re.match(r"""(['"]?)([A-Za-z_][\w-]*)\1""", self.s[self.i:])
        if not m:
            return
        self.i += m.end()
        self.heredocs.append((m.group(2), ops.endswith("-")))

    def skip_heredocs(self):
        for delim, tabs in self.heredocs:
            while self.i < len(self.s):
                j = self.s.find("\n", self.i)
                j = len(self.s) if j < 0 else j
                line = self.s[self.i:j]
                self.i = j + 1
                if (line.lstrip("\t") if tabs else line) == delim:
                    break
        self.heredocs = []


def shell_calls(text):
    # bats: `@test "name" {` opens a function body.
    text = re.sub(r'^@test\s+("(?:[^"\\]|\\.)*"|\'[^\']*\')\s*\{', "{", text, flags=re.M)
    sh = Shell(text)
    return sh.calls, sh.defined


# --- Python and the Makefile -------------------------------------------------------------------

PY_CALL = re.compile(r"""(?:subprocess\.(?:run|Popen|call|check_call|check_output)|sandbox\.run|"""
                     r"""os\.exec\w+)\(\s*\[\s*(?:f?(['"])([\w.+-]+)\1)""")


def python_calls(text):
    calls = []
    for m in PY_CALL.finditer(text):
        calls.append((m.group(2), text.count("\n", 0, m.start()) + 1))
    return calls


MAKE_VARS = {"MAKE": "make", "CC": "cc", "AR": "ar"}


def make_expand(s):
    """A recipe line with make's own expansions replaced: $(MAKE) and the like by their
    commands, any other $(...), ${...} or $X by a word the scanner skips; $$ becomes $."""
    out, i = "", 0
    while i < len(s):
        if s[i] != "$":
            out += s[i]
            i += 1
            continue
        nxt = s[i + 1:i + 2]
        if nxt == "$":
            out += "$"
            i += 2
        elif nxt in "({":
            close = ")" if nxt == "(" else "}"
            depth, j = 0, i + 1
            while j < len(s):
                depth += {nxt: 1, close: -1}.get(s[j], 0)
                j += 1
                if depth == 0:
                    break
            inner = s[i + 2:j - 1]
            out += MAKE_VARS.get(inner, "$MAKEVAR")
            i = j
        else:
            out += "$MAKEVAR"
            i += 2
    return out


def makefile_recipes(text):
    """(target, recipe line, line number) for each recipe line of the Makefile, with make's
    expansions done (define blocks once more: their $$ are make's after $(call))."""
    out, target, in_define = [], None, False
    lines = text.split("\n")
    n = 0
    while n < len(lines):
        start = n
        line = lines[n]
        while line.endswith("\\") and n + 1 < len(lines):
            n += 1
            line = line[:-1] + " " + lines[n].lstrip("\t")
        n += 1
        if line.startswith("define "):
            in_define = True
            continue
        if line.startswith("endef"):
            in_define = False
            continue
        if line.startswith("\t") and target is not None:
            recipe = line[1:]
            if in_define:
                recipe = recipe.replace("$$", "$")
            recipe = make_expand(recipe).lstrip("@-+ ")
            out.append((target, recipe, start + 1))
        elif re.match(r"^\s*(ifeq|ifneq|ifdef|ifndef|else|endif)\b", line):
            continue  # a conditional inside a rule leaves its recipe going on
        elif line and not line.startswith("#"):
            m = re.match(r"^([^:=#\t][^:=#]*?):(?!=)", line)
            target = m.group(1).strip() if m else (None if not line.startswith("\t") else target)
    return out


# --- what there is to scan ---------------------------------------------------------------------

def kind_of(path):
    """'sh', 'py' or None: what a file is, by its name or its #! line."""
    if path.suffix in (".bats", ".bash", ".sh"):
        return "sh"
    if path.suffix == ".py":
        return "py"
    if path.suffix or not path.is_file() or not os.access(path, os.X_OK):
        return None
    try:
        first = path.open("rb").readline().decode("utf-8", "replace")
    except OSError:
        return None
    if first.startswith("#!"):
        if "python" in first:
            return "py"
        if re.search(r"\b(ba|da)?sh\b|bats", first):
            return "sh"
    return None


def scripts(root):
    """Every script under harness/ and labs/ (and .ci/), with its kind, relative path first."""
    found = []
    for top in ("harness", "labs", ".ci"):
        base = root / top
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            rel = path.relative_to(root).as_posix()
            if rel in SKIPPED or "__pycache__" in rel:
                continue
            kind = kind_of(path)
            if kind:
                found.append((rel, kind, path))
    return found


def deps_table(root):
    """harness/deps --list: {command: (group, package)}, and the groups."""
    r = subprocess.run(["sh", str(root / "harness" / "deps"), "--list"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    table = {}
    for line in r.stdout.splitlines():
        group, package, *items = line.split()
        for item in items:
            if not item.startswith("/"):
                table.setdefault(item, (group, package))
    return table


def unknown_calls(root):
    """Every call of a command neither deps nor MINBASE nor the shell knows: (file, line, name,
    why), with the functions all scripts define (a bats file calls its helpers' functions)."""
    table = deps_table(root)
    found, defined = [], set(BATS_FUNCTIONS)
    for rel, kind, path in scripts(root):
        text = path.read_text(errors="replace")
        if kind == "sh":
            calls, funcs = shell_calls(text)
            defined |= funcs
        else:
            calls = python_calls(text)
        found += [(rel, line, name, GROUP_FILES.get(rel, "core")) for name, line in calls]
    mk = root / "Makefile"
    if mk.exists():
        for target, recipe, line in makefile_recipes(mk.read_text()):
            calls, funcs = shell_calls(recipe)
            defined |= funcs
            found += [("Makefile", line, name, GROUP_TARGETS.get(target, "core"))
                      for name, _ in calls]
    bad = []
    for rel, line, name, group in found:
        if name in BUILTINS or name in defined or name in MINBASE or (rel, name) in OPTIONAL:
            continue
        if name in table:
            g, pkg = table[name]
            if g in ("core", group):
                continue
            bad.append((rel, line, name, f"harness/deps has it ({pkg}) in group {g}, not {group}"))
        else:
            bad.append((rel, line, name, "neither harness/deps nor MINBASE has it"))
    return bad


# --- the tests ---------------------------------------------------------------------------------

def test_every_command_the_scripts_call_is_installed_by_deps_or_in_minbase():
    bad = unknown_calls(ROOT)
    assert not bad, "commands no bare Debian 12 has and harness/deps does not install:\n" + \
        "\n".join(f"  {rel}:{line}: {name}: {why}" for rel, line, name, why in bad)


def test_a_new_script_calling_an_unknown_tool_fails(tmp_path):
    (tmp_path / "harness").mkdir()
    shutil.copy(ROOT / "harness" / "deps", tmp_path / "harness" / "deps")
    new = tmp_path / "harness" / "new-tool"
    new.write_text('#!/bin/sh\nset -u\nout=$(frobnicate --all "$1" | sort) || exit 1\n'
                   'zip -q x.zip "$out"\n')
    new.chmod(0o755)
    (tmp_path / "harness" / "helper.py").write_text(
        'import subprocess\nsubprocess.run(["grind", "-x"], check=True)\n')
    bad = {(rel, name) for rel, _, name, _ in unknown_calls(tmp_path)}
    assert bad == {("harness/new-tool", "frobnicate"), ("harness/helper.py", "grind")}, bad


@pytest.mark.parametrize("code, calls", [
    ('a=$(git rev-parse HEAD) && tar -cf - . | gzip -9 >"$x"', ["git", "tar", "gzip"]),
    ('if ! command -v zip >/dev/null; then echo "no zip: make(1) it" | cat; fi', ["cat"]),
    ('timeout -k 5 "$SLOW" env -u X PATH=/bin FOO=1 sort -u <<<"$x"', ["timeout", "env", "sort"]),
    ("case $1 in\nbench) # plots\n\tneed gnuplot ;;\nfuzz | lint) x=1 ;;\nesac\nwc -l",
     ["need", "wc"]),
    ("cat <<'EOF'\nusage: rm -rf everything\nEOF\nhead -n 1", ["cat", "head"]),
    ('[[ $x =~ ^(a|b)$ && -n $(uname -r) ]] && stat -c %s "$f"', ["uname", "stat"]),
    ('f() { local x; ps -o pid= ; }\nexec {fd}<"$p" 3>&- 2>&1\nxargs -0 -r sha256sum',
     ["ps", "xargs", "sha256sum"]),
    ('arr=(one two "$(id -u)")\nfor ((i = 0; i < 3; i++)); do seq 1; done\n"$bin" --x; '
     'harness/board', ["id", "seq"]),
    ("awk '/x/ { system(\"never\") }' f | sed 's/;/ /' # comment: rm", ["awk", "sed"]),
    ('run --separate-stderr git status\n@test "it (x|y)" {\n\tassert_success\n}',
     ["run", "git", "assert_success"]),
])
def test_the_scanner_finds_calls(code, calls):
    text = re.sub(r'^@test\s+"[^"]*"\s*\{', "{", code, flags=re.M)
    assert [name for name, _ in Shell(text).calls if name not in BUILTINS] == calls


def test_the_makefile_recipes_are_scanned():
    recipes = makefile_recipes((ROOT / "Makefile").read_text())
    targets = {t for t, _, _ in recipes}
    assert {"board", "test", "clean", "lint", "fuzz"} <= targets, targets
    names = {name for _, r, _ in recipes for name, _ in shell_calls(r)[0]}
    assert {"make", "cc", "rm", "clang-format", "cppcheck"} <= names, names


def dpkg_owners(paths):
    """{path: {packages}} for the paths dpkg knows (one dpkg -S for them all)."""
    r = subprocess.run(["dpkg", "-S", *paths], capture_output=True, text=True)
    owners = {}
    for line in r.stdout.splitlines():
        if line.startswith("diversion") or ": " not in line:
            continue
        pkgs, path = line.split(": ", 1)
        owners.setdefault(path, set()).update(p.strip().split(":")[0] for p in pkgs.split(","))
    return owners


def owners_of(paths):
    """{path: {packages} or None}: dpkg -S of the path, of the same under /bin or /usr/bin
    (usr-merge: dpkg may know /bin/kill for /usr/bin/kill), or of where its symbolic links
    lead (alternatives)."""
    def variants(p):
        out = [p]
        for a, b in (("/usr/bin/", "/bin/"), ("/usr/sbin/", "/sbin/")):
            if p.startswith(a):
                out.append(b + p[len(a):])
            elif p.startswith(b):
                out.append(a + p[len(b):])
        real = os.path.realpath(p)
        return out + ([real] if real not in out else [])
    tries = {p: variants(p) for p in paths}
    known = dpkg_owners(sorted({v for vs in tries.values() for v in vs}))
    return {p: next((known[v] for v in vs if v in known), None) for p, vs in tries.items()}


def via_alternatives(path):
    """Is path a link through /etc/alternatives (awk, pager), whichever package serves it?"""
    seen = 0
    while os.path.islink(path) and seen < 10:
        target = os.readlink(path)
        path = os.path.join(os.path.dirname(path), target)
        if path.startswith("/etc/alternatives/"):
            return True
        seen += 1
    return False


def locate(cmd):
    for d in ("/usr/bin", "/usr/sbin", "/bin", "/sbin"):
        if os.path.lexists(os.path.join(d, cmd)):
            return os.path.join(d, cmd)
    return None


@pytest.mark.skipif(not shutil.which("dpkg"), reason="not a Debian machine: no dpkg -S")
def test_minbase_commands_are_the_packages_they_say_and_those_are_in_minbase():
    wrong = []
    paths = {cmd: locate(cmd) for cmd in MINBASE}
    owners = owners_of(sorted(p for p in paths.values() if p))
    for cmd, pkg in sorted(MINBASE.items()):
        if pkg not in MINBASE_PACKAGES:
            wrong.append(f"{cmd}: {pkg} is not a minbase package")
            continue
        path = paths[cmd]
        if path is None:
            wrong.append(f"{cmd}: not installed here, although minbase has {pkg}")
            continue
        if via_alternatives(path):
            continue  # awk may be gawk here: what minbase has is mawk's
        if owners[path] is None:
            wrong.append(f"{cmd}: dpkg -S knows no package of {path}")
        elif pkg not in owners[path]:
            wrong.append(f"{cmd}: {path} is {', '.join(sorted(owners[path]))}'s, not {pkg}'s")
    assert not wrong, "\n".join(wrong)


@pytest.mark.skipif(not shutil.which("dpkg"), reason="not a Debian machine: no dpkg -S")
def test_deps_maps_each_command_to_the_package_that_has_it():
    """Where the command is installed here: its package is deps' package, or one that deps'
    package depends on (gcc's /usr/bin/gcc is gcc's; cc is an alternative of no package)."""
    wrong = []
    table = deps_table(ROOT)
    paths = {cmd: locate(cmd) for cmd in table}
    owners_here = owners_of(sorted(p for p in paths.values() if p))
    for cmd, (group, pkg) in sorted(table.items()):
        path = paths[cmd]
        owners = path and owners_here[path]
        if not owners or pkg in owners:
            continue
        r = subprocess.run(["dpkg-query", "-W", "-f", "${Depends}, ${Pre-Depends}", pkg],
                           capture_output=True, text=True)
        depends = {d.strip().split(":")[0] for d in
                   re.split(r"[,|]", re.sub(r"\([^)]*\)", "", r.stdout)) if d.strip()}
        if not owners & depends:
            wrong.append(f"{cmd}: deps says {pkg}, but {path} is {', '.join(sorted(owners))}'s")
    assert not wrong, "\n".join(wrong)
