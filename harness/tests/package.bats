#!/usr/bin/env bats
# package.bats - harness/package (the handout and the Gradescope zip), the Gradescope
# run_autograder, and the GitHub Classroom template files.
#
#   harness/bats-run harness/tests/package.bats
#
# Nothing here writes into the repository: setup_file copies the course as it is about to be
# committed (the tracked files and the new ones git does not ignore) into a scratch git
# repository, and every package is written under the test's temporary directory.

load '../lab'

setup_file() {
	local repo
	repo=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	export COURSE=$BATS_FILE_TMPDIR/course
	mkdir -p "$COURSE"
	(cd "$repo" && git ls-files -z --cached --others --exclude-standard |
		tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$COURSE"
	git -C "$COURSE" init -q
	git -C "$COURSE" add -A
	git -C "$COURSE" -c user.name=test -c user.email=test@example.invalid commit -q -m scratch
	# The packages most tests look at, built once.
	export DIST=$BATS_FILE_TMPDIR/dist
	"$COURSE/harness/package" handout >"$BATS_FILE_TMPDIR/handout.log" 2>&1
	"$COURSE/harness/package" gradescope >"$BATS_FILE_TMPDIR/gradescope.log" 2>&1
	"$COURSE/harness/package" --labs 01 gradescope >"$BATS_FILE_TMPDIR/gradescope-01.log" 2>&1
}

# py CODE ARGS...: run a Python snippet (JSON checks).
py() { "${PYTHON:-python3}" -c "$@"; }

# course_copy: a copy of the scratch course (with its git repository) this test may change.
course_copy() {
	cp -a "$COURSE" "$BATS_TEST_TMPDIR/course"
	echo "$BATS_TEST_TMPDIR/course"
}

# autograder DIR [ZIP]: lay out DIR like Gradescope's /autograder, the zip in DIR/source.
autograder() {
	mkdir -p "$1/source" "$1/submission"
	(cd "$1/source" && unzip -q "${2:-$DIST/gradescope-autograder-01.zip}")
}

# stub_grader DIR SCRIPT: replace the unpacked course's harness/grade by SCRIPT.
stub_grader() {
	printf '#!/bin/sh\n%s\n' "$2" >"$1/source/harness/grade"
	chmod 755 "$1/source/harness/grade"
}

# --- the command line ------------------------------------------------------------------

@test "package: --help prints the manual; no command, an unknown one or a bad --labs is exit 2" {
	run "$COURSE/harness/package" --help
	assert_success
	assert_line --partial 'harness/package [--out DIR] handout'
	assert_line --partial 'EXCLUDED'
	run "$COURSE/harness/package"
	assert_failure 2
	run "$COURSE/harness/package" tarball
	assert_failure 2
	run "$COURSE/harness/package" --labs 1,4 gradescope
	assert_failure 2
	run "$COURSE/harness/package" --labs 01 handout
	assert_failure 2
	run "$COURSE/harness/package" --labs 99 --out "$BATS_TEST_TMPDIR/d" gradescope
	assert_failure 1
	assert_output --partial 'no lab numbered 99'
}

# --- the handout -----------------------------------------------------------------------

@test "handout: socket-labs/ with labs/, harness/, docs/ and the Makefile, and no answers' folders" {
	run cat "$BATS_FILE_TMPDIR/handout.log"
	assert_line --regexp "^wrote .*socket-labs-handout\.tar\.gz: [0-9]+ files, [0-9]+ KiB"
	run tar tzf "$DIST/socket-labs-handout.tar.gz"
	assert_success
	assert_line socket-labs/Makefile
	assert_line socket-labs/README.md
	assert_line socket-labs/labs/common/lab.h
	assert_line socket-labs/labs/01-tcp/01-tcp.bats
	assert_line socket-labs/labs/01-tcp/starter/server.c
	assert_line socket-labs/labs/06-concurrency/starter/model_thread.c
	assert_line socket-labs/harness/lab.bash
	assert_line socket-labs/harness/reference/01-tcp/server.py
	assert_line socket-labs/docs/contract.md
	refute_line --regexp '^socket-labs/solutions(/|$)'
	refute_line --regexp '^socket-labs/harness/tests(/|$)'
	refute_line --regexp '^socket-labs/\.ci(/|$)'
	refute_line --regexp '^socket-labs/harness/(package|gradescope)(/|$)'
	refute_line --regexp '^[^s]|^s[^o]' # everything under socket-labs/
}

@test "handout: no file in it equals a solution file, except the starter files handed out complete" {
	mkdir "$BATS_TEST_TMPDIR/x"
	tar xzf "$DIST/socket-labs-handout.tar.gz" -C "$BATS_TEST_TMPDIR/x"
	declare -A solution=()
	local hash path rel complete=0
	while read -r hash path; do solution[$hash]=${path#"$COURSE"/}; done < <(find "$COURSE/solutions" -type f -exec sha256sum {} +)
	while read -r hash path; do
		rel=${path#"$BATS_TEST_TMPDIR"/x/socket-labs/}
		[[ -n ${solution[$hash]:-} ]] || continue
		# Allowed only as labs/NN/starter/NAME = solutions/NN/NAME, with no TODO (make test's rule).
		[[ $rel =~ ^labs/([^/]+)/starter/([^/]+)$ ]] ||
			fail "$rel is a copy of ${solution[$hash]}"
		[[ ${solution[$hash]} == "solutions/${BASH_REMATCH[1]}/${BASH_REMATCH[2]}" ]] ||
			fail "$rel is a copy of ${solution[$hash]}"
		run grep -c TODO "$path"
		assert_output 0
		complete=$((complete + 1))
	done < <(find "$BATS_TEST_TMPDIR/x" -type f -exec sha256sum {} +)
	# 04's server.c, client.c and frame.h, 05's auth.h and more: the exception is exercised.
	((complete >= 3)) || fail "only $complete complete starter files found"
}

# unpack: the handout unpacked into this test's directory; prints the course's path.
unpack() {
	tar xzf "$DIST/socket-labs-handout.tar.gz" -C "$BATS_TEST_TMPDIR"
	echo "$BATS_TEST_TMPDIR/socket-labs"
}

# in_handout DIR CMD...: CMD in the unpacked handout DIR, bounded in time, with its own
# defaults rather than those of a make or a bats that may be running this test: no make
# variables, no BATS_* (a bats run inside would take them for its own), and a PATH without
# bats' libexec directory (where `bats` is the inner script).
in_handout() {
	local dir=$1 v unset=()
	shift
	for v in $(compgen -e); do
		[[ $v == BATS_* && $v != BATS_LIB_PATH ]] && unset+=(-u "$v")
	done
	(cd "$dir" && timeout -k 5 "${HANDOUT_TIMEOUT:-120}" env "${unset[@]}" -u MAKEFLAGS -u MAKELEVEL \
		-u MFLAGS -u LAB_BUILD -u LAB_BIN -u LAB_IMPL_DESC -u SANITIZE -u CFLAGS -u IMPL -u LAB \
		-u FILTER PATH="${PATH//"$BATS_LIBEXEC:"/}" NO_COLOR=1 "$@")
}

@test "handout: unpacked, make build builds every lab's starter (IMPL=starter is the default there)" {
	local course lab n=0
	course=$(unpack)
	run in_handout "$course" make -s -j2 build
	assert_success
	for lab in "$COURSE"/labs/[0-9][0-9]-*/; do
		lab=$(basename "$lab")
		[[ -x $course/build/starter/$lab/server ]] || fail "no $lab server"
		[[ -x $course/build/starter/$lab/client ]] || fail "no $lab client"
		n=$((n + 1))
	done
	((n >= 6)) || fail "$n labs built, not 6 or more"
	[[ ! -e $course/build/solutions ]] || fail "it built something into build/solutions/"
	# make test-lab, also on the starter by default: the Reproduce lines say IMPL=starter.
	run in_handout "$course" make test-lab LAB=01 FILTER='Server listening on'
	assert_line --regexp '^1\.\.[1-9]'
	assert_line --regexp '^not ok 1 .*Server listening on'
	assert_output --partial 'Reproduce: make test-lab LAB=01 IMPL=starter'
	refute_output --partial 'No rule to make target'
}

@test "handout: make test runs the learner's checks on the starters and ends 'N passed, N failed'" {
	local course
	course=$(unpack)
	[[ -f $course/harness/selfcheck/01-tcp.bats ]] || fail "the handout lacks harness/selfcheck/"
	# The command as a learner types it, on one lab to bound the time (without LAB=, the same
	# for every lab side by side): the untouched starter fails its tests, while the given
	# code's self-check and the library's unit tests pass.
	run in_handout "$course" make test LAB=01
	assert_failure
	refute_output --partial 'No rule to make target'
	# An untouched starter passes none of its lab's tests (make test in the course checks
	# that for every lab): the board shows it as 0 of them.
	assert_line --regexp '^  01-tcp +\[\.{20}\] +0/[1-9][0-9]* *$'
	refute_line --regexp '^  02-udp'
	assert_line --regexp '^  given code \(selfcheck\) +[1-9][0-9]* passed, 0 failed$'
	assert_line --regexp '^  course library \(unit\) +[1-9][0-9]* passed, 0 failed$'
	assert_line --regexp '^Next: 01-tcp, the first of its [0-9]+ failing tests$'
	refute_output --partial 'make test checks the whole suite'
	assert_line --regexp '^[1-9][0-9]* passed, [1-9][0-9]* failed$'
	# A solution put in place, some of its tests: the lab passes, and so does make test.
	cp "$COURSE"/solutions/02-udp/*.c "$course/labs/02-udp/starter/"
	run in_handout "$course" make test LAB=02 FILTER='datagram'
	assert_success
	assert_line --regexp '^  02-udp +\[#+\] +[1-9][0-9]*/[0-9]+ +done$'
	refute_line --regexp '^  01-tcp'
	assert_line '02-udp: every test passes.'
	[[ ${lines[-1]} =~ ^[1-9][0-9]*\ passed,\ 0\ failed$ ]] || fail "no summary line: ${lines[-1]}"
}

@test "handout: every target that needs the solutions says so in one line and fails" {
	local course t
	course=$(unpack)
	for t in memcheck bench bench-docs fuzz lint conformance gradescope handout 'solution LAB=01' \
		'build IMPL=solutions' 'test-lab LAB=01 IMPL=solutions'; do
		# shellcheck disable=SC2086 # the words are the target and its variables
		run in_handout "$course" make $t
		assert_failure
		assert_equal "make $t: ${#lines[@]} line(s)" "make $t: 1 line(s)"
		assert_output --regexp "make ${t%% *}.*handout, without solutions/"
	done
	[[ ! -e $course/build ]] || fail "a refused target built something: $(ls "$course/build")"
}

@test "handout: its README says to make a git repository first; make reset needs one and says so" {
	local course
	course=$(unpack)
	grep -qF 'git init && git add -A && git commit -m start' "$course/README.md" ||
		fail "the README does not say to git init the handout"
	echo '/* my work */' >>"$course/labs/01-tcp/starter/server.c"
	# No repository above the handout may count either.
	GIT_CEILING_DIRECTORIES=$BATS_TEST_TMPDIR run in_handout "$course" make reset LAB=01
	assert_failure
	assert_equal "${#lines[@]}" 1
	assert_output --partial 'not a git work tree'
	assert_output --partial 'git init && git add -A && git commit -m start'
	assert_equal "$(tail -n 1 "$course/labs/01-tcp/starter/server.c")" '/* my work */'
	# As the README says, right after unpacking (here, after some work: it is the start).
	(cd "$course" && git init -q && git add -A &&
		git -c user.name=learner -c user.email=learner@example.org commit -qm start)
	echo '/* more work */' >>"$course/labs/01-tcp/starter/server.c"
	GIT_CEILING_DIRECTORIES=$BATS_TEST_TMPDIR run in_handout "$course" make reset LAB=01
	assert_success
	assert_output --partial 'saved in .lab/backup/01-tcp-'
	assert_equal "$(tail -n 1 "$course/labs/01-tcp/starter/server.c")" '/* my work */'
	# make clean keeps .lab/ (the backups, the hints read); and git ignores it.
	run in_handout "$course" make clean
	compgen -G "$course/.lab/backup/01-tcp-*" >/dev/null || fail "make clean removed the backup"
	run git -C "$course" status --porcelain
	assert_output ''
}

@test "handout and gradescope: built again, the same bytes" {
	DIST=$BATS_TEST_TMPDIR/again run "$COURSE/harness/package" handout
	assert_success
	cmp "$DIST/socket-labs-handout.tar.gz" "$BATS_TEST_TMPDIR/again/socket-labs-handout.tar.gz"
	run "$COURSE/harness/package" --out "$BATS_TEST_TMPDIR/again" gradescope
	assert_success
	cmp "$DIST/gradescope-autograder.zip" "$BATS_TEST_TMPDIR/again/gradescope-autograder.zip"
}

@test "handout: refuses a solution's copy anywhere, or a starter that is all solution, and writes nothing" {
	local copy
	copy=$(course_copy)
	cp "$copy/solutions/01-tcp/server.c" "$copy/docs/example.c"
	git -C "$copy" add docs/example.c
	run "$copy/harness/package" --out "$BATS_TEST_TMPDIR/out" handout
	assert_failure 1
	assert_output --partial 'docs/example.c is identical to solutions/01-tcp/server.c'
	git -C "$copy" rm -q --cached docs/example.c
	# A lab's starter replaced by its solution: each file alone looks "handed out complete".
	cp "$copy"/solutions/01-tcp/*.c "$copy/labs/01-tcp/starter/"
	run "$copy/harness/package" --out "$BATS_TEST_TMPDIR/out" handout
	assert_failure 1
	assert_output --partial "01-tcp's starter is its solution"
	run find "$BATS_TEST_TMPDIR/out" -type f
	assert_output ''
}

@test "handout: names the files it leaves out because git does not track them" {
	local copy
	copy=$(course_copy)
	echo draft >"$copy/labs/01-tcp/draft.txt"
	run "$copy/harness/package" --out "$BATS_TEST_TMPDIR/out" handout
	assert_success
	assert_output --partial 'not packaged'
	assert_output --partial 'labs/01-tcp/draft.txt'
	run tar tzf "$BATS_TEST_TMPDIR/out/socket-labs-handout.tar.gz"
	refute_line --partial draft.txt
}

# --- the Gradescope zip ----------------------------------------------------------------

@test "gradescope: setup.sh and run_autograder executable at the zip's root, the course beside them" {
	run cat "$BATS_FILE_TMPDIR/gradescope.log"
	assert_line --regexp "^wrote .*gradescope-autograder\.zip: [0-9]+ files, [0-9]+ KiB"
	run zipinfo "$DIST/gradescope-autograder.zip"
	assert_success
	assert_line --regexp '^-rwxr-xr-x .* setup\.sh$'
	assert_line --regexp '^-rwxr-xr-x .* run_autograder$'
	assert_line --regexp '^-rwxr-xr-x .* harness/bats-run$'
	assert_line --regexp ' Makefile$'
	assert_line --regexp ' autograder\.conf$'
	assert_line --regexp ' labs/01-tcp/01-tcp\.bats$'
	assert_line --regexp ' labs/common/lab\.h$'
	refute_line --regexp ' solutions/'
	refute_line --regexp ' harness/tests/'
	run unzip -p "$DIST/gradescope-autograder.zip" autograder.conf
	assert_line 'labs='
	assert_line 'exec=run_autograder'
}

@test "gradescope: --labs 01 names the zip after the labs and tells run_autograder" {
	run unzip -p "$DIST/gradescope-autograder-01.zip" autograder.conf
	assert_success
	assert_line 'labs=01'
}

# --- run_autograder, with stand-ins for the grader ---------------------------------------

@test "run_autograder: a grader that fails gives score 0, its log and report in an instructors-only test" {
	local ag=$BATS_TEST_TMPDIR/ag
	autograder "$ag"
	mkdir -p "$ag/submission/01-tcp"
	# As harness/grade does for a lab "not graded": a report, a partial results.json, exit 1.
	stub_grader "$ag" 'while [ "$1" != --out ]; do shift; done; mkdir -p "$2/s"
echo "{\"score\": 5, \"tests\": []}" >"$2/s/results.json"
echo "01-tcp: NOT GRADED: infrastructure error" >"$2/s/report.txt"
echo "grader: the sandbox is broken" >&2; exit 1'
	AUTOGRADER_ROOT=$ag run "$ag/source/run_autograder"
	assert_success
	assert_output --partial 'INFRASTRUCTURE ERROR'
	run py 'import json, sys
r = json.load(open(sys.argv[1]))
assert r["score"] == 0, r
assert "not your code" in r["output"] or "nothing about your code" in r["output"], r["output"]
t = r["tests"][0]
assert t["visibility"] == "hidden", t
assert "exited with status 1" in t["output"] and "the sandbox is broken" in t["output"], t["output"]
assert "01-tcp: NOT GRADED" in t["output"], t["output"]
print("ok")' "$ag/results/results.json"
	assert_output ok
}

@test "run_autograder: a grader that writes no results.json, or not JSON, is an infrastructure error" {
	local ag=$BATS_TEST_TMPDIR/ag
	autograder "$ag"
	stub_grader "$ag" 'exit 0'
	AUTOGRADER_ROOT=$ag run "$ag/source/run_autograder"
	assert_success
	run py 'import json, sys; r = json.load(open(sys.argv[1])); assert r["score"] == 0 and "0 results.json" in r["tests"][0]["output"]; print("ok")' "$ag/results/results.json"
	assert_output ok
	stub_grader "$ag" 'while [ "$1" != --out ]; do shift; done; mkdir -p "$2/s" && echo "oops" >"$2/s/results.json"'
	AUTOGRADER_ROOT=$ag run "$ag/source/run_autograder"
	assert_success
	run py 'import json, sys; r = json.load(open(sys.argv[1])); assert r["score"] == 0 and "not a Gradescope results.json" in r["tests"][0]["output"]; print("ok")' "$ag/results/results.json"
	assert_output ok
}

@test "run_autograder: passes --labs and the folder that holds the labs, and copies the results.json" {
	local ag=$BATS_TEST_TMPDIR/ag
	autograder "$ag"
	# Records its arguments, then writes OUT/<submission name>/results.json as harness/grade does.
	stub_grader "$ag" 'printf "%s\n" "$@" >"$AUTOGRADER_ROOT/args"
while [ $# -gt 0 ]; do case $1 in --out) out=$2; shift 2 ;; --*) shift 2 ;; *) sub=$1; shift ;; esac; done
mkdir -p "$out/${sub##*/}" && echo "{\"score\": 7, \"tests\": []}" >"$out/${sub##*/}/results.json"'
	# A course checkout (a GitHub submission): the grader gets its labs/.
	mkdir -p "$ag/submission/labs/01-tcp/starter"
	AUTOGRADER_ROOT=$ag run "$ag/source/run_autograder"
	assert_success
	run cat "$ag/args"
	assert_line --index 0 -- --out
	assert_line --index 1 "$ag/grades"
	assert_line -- --labs
	assert_line 01
	assert_line "$ag/submission/labs"
	run py 'import json, sys; print(json.load(open(sys.argv[1]))["score"])' "$ag/results/results.json"
	assert_output 7
	# A zip of a folder, made on a Mac: the folder, not __MACOSX.
	rm -rf "$ag/submission" "$ag/results"
	mkdir -p "$ag/submission/my-labs/01-tcp" "$ag/submission/__MACOSX/my-labs"
	AUTOGRADER_ROOT=$ag run "$ag/source/run_autograder"
	assert_success
	run cat "$ag/args"
	assert_line "$ag/submission/my-labs"
	# One lab's files uploaded loose (harness/grade takes them as the lab's when it grades one).
	rm -rf "$ag/submission" "$ag/results"
	mkdir -p "$ag/submission"
	cp "$COURSE"/solutions/01-tcp/*.c "$ag/submission/"
	AUTOGRADER_ROOT=$ag run "$ag/source/run_autograder"
	assert_success
	run cat "$ag/args"
	assert_line "$ag/submission"
}

# --- run_autograder with the real grader -------------------------------------------------

@test "run_autograder: with harness/grade, lab 01's solution as the submission gets full marks" {
	[[ -x $COURSE/harness/grade ]] || skip "harness/grade does not exist yet"
	local ag=$BATS_TEST_TMPDIR/ag
	autograder "$ag"
	mkdir -p "$ag/submission/01-tcp"
	cp "$COURSE"/solutions/01-tcp/*.c "$ag/submission/01-tcp/"
	# The bats tests only (conformance weight 0: not run), to bound the time; and, as root,
	# uids of our own, since other grading runs (make test's) may share the machine.  A clean
	# environment, as on Gradescope; and a PATH without bats' libexec directory, which bats
	# puts first in a test's PATH: there `bats` is the inner script, which fails alone.
	sed 's/^conformance *=.*/conformance = 0/' "$ag/source/harness/rubric.ini" >"$BATS_TEST_TMPDIR/rubric.ini"
	local path
	path=$(tr ':' '\n' <<<"$PATH" | grep -v '/libexec/bats-core$' | paste -sd:)
	run env -i PATH="$path" HOME="$HOME" AUTOGRADER_ROOT="$ag" \
		AUTOGRADER_GRADE_ARGS="--rubric $BATS_TEST_TMPDIR/rubric.ini --uid-base $((1991000000 + $$ % 100000 * 8))" \
		"$ag/source/run_autograder"
	assert_success
	refute_output --partial 'INFRASTRUCTURE ERROR'
	run py 'import json, sys
r = json.load(open(sys.argv[1]))
tests = r.get("tests", [])
assert tests, r
# The points of each test are rounded to 4 decimals (22 tests of 10/22 add up to 9.999).
total = sum(t.get("max_score", 0) for t in tests)
score = r.get("score", sum(t.get("score", 0) for t in tests))
assert all(t.get("score") == t.get("max_score") for t in tests), tests
assert total > 0 and abs(score - total) <= 0.0001 * len(tests), (score, total)
print("ok", score)' "$ag/results/results.json"
	assert_line --partial ok
}

# --- GitHub Classroom ----------------------------------------------------------------------

@test "classroom: the workflow and autograding.json grade every lab with make test-lab" {
	local wf=$COURSE/harness/classroom/classroom.yml json=$COURSE/harness/classroom/autograding.json lab n
	run py 'import json, sys
tests = json.load(open(sys.argv[1]))["tests"]
for t in tests:
    assert set(t) >= {"name", "run", "timeout", "points"}, t
print(" ".join(t["run"] for t in tests))' "$json"
	assert_success
	local runs=$output
	for lab in "$COURSE"/labs/[0-9][0-9]-*/; do
		lab=$(basename "$lab")
		n=${lab%%-*}
		grep -q "command: make test-lab LAB=$n IMPL=starter\$" "$wf" || fail "classroom.yml has no step for $lab"
		grep -q "LAB${n}_RESULTS: \"\${{ steps.lab$n.outputs.result }}\"" "$wf" || fail "the reporter misses lab$n"
		grep -q "runners: .*lab$n" "$wf" || fail "the reporter's runners miss lab$n"
		[[ $runs == *"make test-lab LAB=$n IMPL=starter"* ]] || fail "autograding.json has no test for $lab"
	done
	# The workflow must not be live in the course's own repository.
	[[ ! -e $COURSE/.github/workflows/classroom.yml ]]
}

@test "classroom: each lab's points in the workflow and autograding.json are the rubric's" {
	[[ -f $COURSE/harness/rubric.ini ]] || skip "harness/rubric.ini does not exist yet"
	run py 'import configparser, glob, json, os, re, sys
course = sys.argv[1]
ini = configparser.ConfigParser(interpolation=None)
ini.read(os.path.join(course, "harness/rubric.ini"))
wf = open(os.path.join(course, "harness/classroom/classroom.yml")).read()
tests = {t["name"]: t for t in json.load(open(os.path.join(course, "harness/classroom/autograding.json")))["tests"]}
for lab in sorted(os.path.basename(d) for d in glob.glob(os.path.join(course, "labs/[0-9][0-9]-*"))):
    points = float(ini.get(lab, "points", fallback=ini.get("lab", "points")))
    m = re.search(r"test-name: %s\n(?:.*\n)*?\s*max-score: (\d+)" % re.escape(lab), wf)
    assert m and float(m.group(1)) == points, (lab, points, m and m.group(1))
    assert float(tests[lab]["points"]) == points, (lab, points, tests[lab]["points"])
print("ok")' "$COURSE"
	assert_output ok
}
