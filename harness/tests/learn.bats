#!/usr/bin/env bats
# learn.bats - the learner's tools (harness/learn: watch, hint, run, reset, solution) and the
# failure messages that teach (harness/lab.bash's Intent, Reproduce and byte diffs, as the
# board shows them).
#
# Every tool runs in a throwaway copy of the repo (a git clone with the work tree's changes on
# top), never in the real labs/.  In the copy, lab 01's and 02's tests are cut down to two and
# one (learner tests, which an untouched starter fails), so that the tools' own test runs
# take seconds.  Waits are bounded; nothing sleeps to
# synchronise.

load '../lab'

ROOT=$LAB_ROOT
# The longest any one tool may take here, and any wait for watch's output (it runs tests).
SLOW=60

# keep_tests FILE REGEX: cut the bats FILE down to the tests whose names match REGEX (the
# lines between tests, helpers and all, stay).
keep_tests() {
	awk -v re="$2" '
		/^@test / { name = $0; sub(/^@test "/, "", name); sub(/" \{$/, "", name); skip = (name !~ re) }
		!skip { print }
		skip && /^}$/ { skip = 0 }
	' "$1" >"$1.kept" && mv "$1.kept" "$1"
}

# The environment of the make (or shell) that runs this file must not steer the tools in the
# copy: its build directory, its SANITIZE, its command-line variables.
clean_env() {
	unset LAB_BUILD LAB_BIN LAB_IMPL_DESC SANITIZE MAKEFLAGS MFLAGS MAKELEVEL FILTER AGAIN IMPL REF \
		LEARN_WATCH GIT_DIR GIT_WORK_TREE
	export NO_COLOR=1
}

setup_file() {
	clean_env
	local base=$BATS_FILE_TMPDIR/base
	if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git clone -q "$ROOT" "$base"
	else # a copy of the labs without git: one commit of the files as they are
		git init -q "$base"
	fi
	tar -C "$ROOT" --exclude=./.git --exclude=./build --exclude=./dist --exclude=./.hypothesis \
		--exclude=./.lab -cf - . | tar -C "$base" -xf -
	if ! git -C "$base" rev-parse --verify --quiet HEAD >/dev/null; then
		git -C "$base" add -A
		git -C "$base" -c user.name=learn.bats -c user.email=learn.bats@example.org commit -qm labs
	fi
	keep_tests "$base/labs/01-tcp/01-tcp.bats" "Server listening on|^client with no server"
	keep_tests "$base/labs/02-udp/02-udp.bats" "server answers a datagram"
	# What make has built here already (make test has): make sees by the files' times
	# whether it is still up to date, and builds what is not.
	mkdir -p "$base/build/starter"
	cp -a "$ROOT/build/common" "$ROOT/build/liblab.a" "$base/build/" 2>/dev/null || :
	cp -a "$ROOT/build/starter/01-tcp" "$ROOT/build/starter/02-udp" "$base/build/starter/" 2>/dev/null || :
	(cd "$base" && make -s build IMPL=starter LAB=01 >/dev/null 2>&1)
}

setup() {
	clean_env
}

# in_copy: cd into a copy of the base copy of its own (builds included, times kept).
in_copy() {
	cp -a "$BATS_FILE_TMPDIR/base" "$BATS_TEST_TMPDIR/repo"
	cd "$BATS_TEST_TMPDIR/repo" || return 1
}

# plain CMD...: CMD bounded by SLOW, without this bats run's BATS_* variables and its own
# directory first on PATH (a bats run inside, by a tool or make, would take them for its own).
plain() {
	# shellcheck disable=SC2046 # unset_bats prints words
	timeout -k 5 "$SLOW" env $(unset_bats) PATH="${PATH//"$BATS_LIBEXEC:"/}" "$@"
}
unset_bats() {
	local v
	for v in $(compgen -e); do
		[[ $v == BATS_* && $v != BATS_LIB_PATH ]] && echo "-u $v"
	done
	return 0
}

# learn ARGS...: the tool under test.
learn() { plain harness/learn "$@"; }

# start_watch ARGS...: harness/learn watch ARGS in the background, read like spawn's programs
# (expect_line watch out ...), but as a job of its own (set -m): a background command of a
# shell without job control ignores SIGINT, and a bash script cannot trap a signal it was
# started ignoring, while Ctrl-C in a terminal reaches it.  Its process group is its PID.
# env --default-signal=INT undoes an ignored SIGINT inherited from whoever ran the tests
# (`nohup make test &`, say), which set -m cannot; coreutils older than 8.31 lacks it.
# shellcheck disable=SC2034 # watch_*: read by lab.bash's expect_line and finish
start_watch() {
	local dir=$BATS_TEST_TMPDIR fd dfl=()
	mkfifo "$dir/watch.out.fifo" "$dir/watch.err.fifo"
	env --default-signal=INT true 2>/dev/null && dfl=(--default-signal=INT)
	set -m
	# shellcheck disable=SC2046 # unset_bats prints words
	env "${dfl[@]}" $(unset_bats) PATH="${PATH//"$BATS_LIBEXEC:"/}" harness/learn watch "$@" \
		>"$dir/watch.out.fifo" 2>"$dir/watch.err.fifo" 3>&- &
	watch_PID=$!
	set +m
	exec {fd}<"$dir/watch.out.fifo"
	watch_OUT=$fd
	exec {fd}<"$dir/watch.err.fifo"
	watch_ERR=$fd
	: >"$dir/watch.stdout"
	: >"$dir/watch.stderr"
	SPAWNED+=(watch)
}

# hint_text LAB N: the first line of the text of README's "### Hint N".
hint_text() {
	awk -v n="$2" '$0 == "### Hint " n { on = 1; next } on && /^### / { exit } on && NF { print; exit }' \
		"labs/$1/README.md"
}

# --- usage -----------------------------------------------------------------------------------

@test "learn --help prints its manual; no tool, an unknown tool or lab, a missing lab: exit 2" {
	in_copy
	run learn --help
	assert_success
	assert_output --partial 'SYNOPSIS'
	# shellcheck disable=SC2016 # the manual's text, $ and all
	assert_output --partial 'make reset LAB=01 REF=$(git rev-list --max-parents=0 HEAD)'
	for bad in '' 'bogus' 'hint 99' 'reset' 'run 01 02'; do
		# shellcheck disable=SC2086 # the words are the arguments
		run --separate-stderr learn $bad
		assert_equal "$status ($bad)" "2 ($bad)"
		[[ $stderr == *usage:* ]] || fail "no usage for '$bad': $stderr"
	done
}

# --- hint ------------------------------------------------------------------------------------

@test "hint prints the lesson's hints one more each time, 'Hint N of M', and stops after the last" {
	in_copy
	local count
	count=$(grep -c '^### Hint [0-9]' labs/01-tcp/README.md)
	((count >= 3)) || fail "lesson 01 has $count hints"
	run learn hint 01
	assert_success
	assert_line --index 0 "Hint 1 of $count for 01-tcp"
	assert_output --partial "$(hint_text 01-tcp 1)"
	assert_output --partial "make hint LAB=01 again for hint 2 of $count"
	run learn hint 1
	assert_line --index 0 "Hint 2 of $count for 01-tcp"
	assert_output --partial "$(hint_text 01-tcp 2)"
	refute_output --partial "$(hint_text 01-tcp 1)"
	# What has been read is kept in .lab/hints/ (not build/: make clean keeps it, below).
	assert_equal "$(cat .lab/hints/01-tcp)" 2
	run plain make -s clean
	assert_success
	[[ ! -e build ]] || fail "make clean left build/"
	run learn hint 01
	assert_line --index 0 "Hint 3 of $count for 01-tcp"
	# Skip to the last but one.
	echo $((count - 1)) >.lab/hints/01-tcp
	run learn hint 01
	assert_line --index 0 "Hint $count of $count for 01-tcp"
	assert_output --partial "$(hint_text 01-tcp "$count")"
	assert_output --partial 'That was the last hint: there are no more.'
	assert_output --partial 'make hint LAB=01 AGAIN=1'
	run learn hint 01
	assert_success
	assert_line --index 0 "No more hints for 01-tcp: you have read all $count."
	assert_output --partial 'make hint LAB=01 AGAIN=1'
	# AGAIN=1 (make passes it in the environment) starts over.
	AGAIN=1 run learn hint 01
	assert_line --index 0 "Starting 01-tcp's hints over."
	assert_line --index 1 "Hint 1 of $count for 01-tcp"
	run learn hint --all 01
	assert_success
	assert_equal "$(grep -c '^Hint [0-9]* of ' <<<"$output")" "$count"
}

# --- the board's record ------------------------------------------------------------------------

@test "the board shows an untouched starter as 0/N, records its current lab in .lab/, and make clean keeps it" {
	in_copy
	local lab
	# Labs 03 to 07 with one test each, to bound the time.
	for lab in 03-sticky-packets 04-struct-framing 05-hmac-auth 06-concurrency 07-tls; do
		keep_tests "labs/$lab/$lab.bats" "^$(grep -m 1 '^@test "' "labs/$lab/$lab.bats" |
			sed 's/^@test "//; s/" {$//; s/[][\\.^$*+?(){}|]/./g')\$"
	done
	run plain harness/board
	assert_success
	assert_line --regexp '^  01-tcp +\[\.{20}\] +0/2 *$'
	assert_line --regexp '^  02-udp +\[\.{20}\] +0/1 *$'
	assert_line --regexp '^Next: 01-tcp, the first of its 2 failing tests$'
	assert_equal "$(cat .lab/board/next)" 01-tcp
	cp solutions/01-tcp/*.c labs/01-tcp/starter/
	run plain harness/board
	assert_line --regexp '^  01-tcp +\[#{20}\] +2/2 +done$'
	assert_equal "$(cat .lab/board/next)" 02-udp
	run plain make -s clean
	assert_success
	run learn hint
	assert_success
	assert_line --index 0 --regexp "^Hint 1 of [0-9]+ for 02-udp \(the board's current lab; LAB=NN for another\)$"
}

# --- reset -----------------------------------------------------------------------------------

@test "reset copies the learner's files to .lab/backup/ first, then restores the starter from git" {
	in_copy
	local dir=labs/01-tcp/starter backup f
	echo '/* my work */' >>"$dir/server.c"
	echo 'int mine;' >"$dir/extra.c"
	run learn reset 01
	assert_success
	[[ $output =~ saved\ in\ (\.lab/backup/01-tcp-[0-9]{8}-[0-9]{6})/ ]] || fail "no backup named: $output"
	backup=${BASH_REMATCH[1]}
	assert_equal "$(tail -n 1 "$backup/server.c")" '/* my work */'
	assert_equal "$(cat "$backup/extra.c")" 'int mine;'
	for f in client.c server.c; do
		cmp <(git show "HEAD:$dir/$f") "$dir/$f" || fail "$f is not HEAD's"
	done
	[[ ! -e $dir/extra.c ]] || fail "extra.c is still in the starter"
	assert_output --partial 'Removed, as not part of the starter: extra.c'
	# REF=COMMIT: the starter of that commit (a Classroom repository's first, say).
	echo '/* committed work */' >>"$dir/client.c"
	git -c user.name=learner -c user.email=learner@example.org commit -q -am 'my work'
	echo '/* more work */' >>"$dir/client.c"
	REF=HEAD~1 run learn reset 01
	assert_success
	cmp <(git show "HEAD~1:$dir/client.c") "$dir/client.c" || fail "client.c is not HEAD~1's"
	assert_equal "$(find .lab/backup -mindepth 1 -maxdepth 1 | wc -l)" 2
	# git ignores .lab/: the backups are no change of the learner's work.
	run git status --porcelain -- .lab
	assert_output ''
	REF=no-such-commit run learn reset 01
	assert_failure
	assert_output --partial 'REF=no-such-commit is not a commit'
}

@test "reset outside a git work tree says so in one line, with the commands that make one, and changes nothing" {
	in_copy
	rm -rf .git
	echo '/* my work */' >>labs/01-tcp/starter/server.c
	# No repository above the copy may count either.
	GIT_CEILING_DIRECTORIES=$BATS_TEST_TMPDIR run learn reset 01
	assert_failure
	assert_equal "${#lines[@]}" 1
	assert_output --partial 'not a git work tree'
	assert_output --partial 'git init && git add -A && git commit -m start'
	# make reset stops before learn, with one line too.
	GIT_CEILING_DIRECTORIES=$BATS_TEST_TMPDIR run plain make reset LAB=01
	assert_failure
	assert_equal "${#lines[@]}" 1
	assert_output --partial 'git init && git add -A && git commit -m start'
	assert_equal "$(tail -n 1 labs/01-tcp/starter/server.c)" '/* my work */'
	[[ ! -e .lab/backup ]] || fail "a backup was made: $(ls .lab/backup)"
}

# --- solution --------------------------------------------------------------------------------

@test "solution refuses while a test fails, shows the files that differ once all pass, and knows handouts" {
	in_copy
	run learn solution 01
	assert_failure
	assert_output --partial 'your 01-tcp passes 0 of 2 tests; the solution is shown once'
	refute_output --partial "$(grep -m 1 'memcpy' solutions/01-tcp/server.c)"
	cp solutions/01-tcp/*.c labs/01-tcp/starter/
	echo '/* mine */' >>labs/01-tcp/starter/server.c
	run learn solution 01
	assert_success
	assert_output --partial 'All 2 tests of 01-tcp pass.'
	assert_output --partial '==== solutions/01-tcp/server.c ===='
	assert_output --partial "$(grep -m 1 'memcpy' solutions/01-tcp/server.c)"
	assert_output --partial 'Not shown, the same as yours: client.c'
	rm -rf solutions
	run learn solution 01
	assert_failure
	assert_equal "${#lines[@]}" 1
	assert_output --partial 'handout'
}

# --- run -------------------------------------------------------------------------------------

@test "run: the solution's bytes match the Python original's (exit 0); without 'ACK: ' from offset 0 (exit 1)" {
	in_copy
	cp solutions/01-tcp/*.c labs/01-tcp/starter/
	run learn run 01
	assert_success
	assert_output --partial '  client -> server  the same 13 bytes'
	assert_output --partial '  server -> client  the same 18 bytes'
	assert_output --partial '  server stdout     the same (ports aside)'
	assert_output --partial 'The bytes on the wire match.'
	# Both transcripts, and the bytes in hex and text.
	assert_equal "$(grep -c '| Server replied: ACK: Hello, Server$' <<<"$output")" 2
	assert_output --partial '0000  41 43 4b 3a 20 48 65 6c  6c 6f 2c 20 53 65 72 76  |ACK: Hello, Serv|'
	# The reply without its "ACK: ": the received bytes sent back as they are.
	sed -i 's/(conn, reply, 5 + (size_t)n)/(conn, buf, (size_t)n)/' labs/01-tcp/starter/server.c
	grep -q '(conn, buf, (size_t)n)' labs/01-tcp/starter/server.c || fail "not broken"
	run learn run 01
	assert_equal "$status" 1
	assert_output --partial '  client -> server  the same 13 bytes'
	assert_output --partial '  server -> client  DIFFERENT:'
	assert_output --partial "first difference at offset 0 (0x0): the original 0x41 'A', yours 0x48 'H'"
	assert_output --partial 'The bytes on the wire differ'
}

# --- watch -----------------------------------------------------------------------------------

@test "watch runs the current lab's tests, the next lab's once it passes, again on a save; Ctrl-C: exit 0" {
	in_copy
	# shellcheck disable=SC2034 # expect_line's deadline: watch runs tests
	local DEADLINE=$SLOW
	cp solutions/01-tcp/*.c labs/01-tcp/starter/
	keep_tests labs/01-tcp/01-tcp.bats 'Server listening on'
	start_watch
	expect_line watch out '^\[[0-9:]+\] run 1: 01-tcp$'
	expect_line watch out '^01-tcp: every test passes\.$'
	expect_line watch out '^\[[0-9:]+\] run 2: 02-udp \(01-tcp passes: on to the next lab\)$'
	# The board's line for the lab, and its first failing test as the board shows it.
	expect_line watch out '^  02-udp .* 0/1 '
	expect_line watch out "^  Intent:    server answers a datagram with 'Message received'$"
	expect_line watch out "^  Reproduce: make test-lab LAB=02 IMPL=starter FILTER='\^server answers a datagram with .Message received.\\\$'$"
	expect_line watch out '^Waiting for a change to labs/02-udp/starter/'
	touch labs/02-udp/starter/client.c
	expect_line watch out '^\[[0-9:]+\] run 3: 02-udp \(client\.c saved\)$'
	expect_line watch out '^Waiting for a change'
	finish watch INT
	assert_equal "status $STATUS, $LEFTOVER left" "status 0, 0 left"
	run output_of watch out
	assert_line 'watch: stopped.'
}

@test "watch without inotifywait compares file times every second (LEARN_WATCH=poll)" {
	in_copy
	# shellcheck disable=SC2034 # expect_line's deadline: watch runs tests
	local DEADLINE=$SLOW
	# FILTER: only the tests whose names match, here none: only the waiting is tried.
	LEARN_WATCH=poll FILTER='^no test has this name$' start_watch 01
	expect_line watch out '^\[[0-9:]+\] run 1: 01-tcp$'
	expect_line watch out '^Waiting for a change to labs/01-tcp/starter/'
	echo '/* saved */' >>labs/01-tcp/starter/server.c
	expect_line watch out '^\[[0-9:]+\] run 2: 01-tcp \(server\.c saved\)$'
	expect_line watch out '^Waiting for a change'
	finish watch INT
	assert_equal "status $STATUS, $LEFTOVER left" "status 0, 0 left"
}

# --- failures that teach -----------------------------------------------------------------------

@test "assert_bytes: silent on equal files; else both in hex and text from the first differing offset" {
	printf 'ACK: Hello, Server' >"$BATS_TEST_TMPDIR/expected"
	printf 'Hello, Server' >"$BATS_TEST_TMPDIR/actual"
	run assert_bytes "$BATS_TEST_TMPDIR/expected" "$BATS_TEST_TMPDIR/expected"
	assert_success
	assert_output ''
	run assert_bytes "$BATS_TEST_TMPDIR/expected" "$BATS_TEST_TMPDIR/actual" "the server's reply"
	assert_failure
	assert_output "-- the bytes differ (the server's reply) --
first difference at offset 0 (0x0): expected 0x41 'A', received 0x48 'H'
expected: 18 bytes
    0000  41 43 4b 3a 20 48 65 6c  6c 6f 2c 20 53 65 72 76  |ACK: Hello, Serv|
          ^^
    0010  65 72                                             |er|
received: 13 bytes
    0000  48 65 6c 6c 6f 2c 20 53  65 72 76 65 72           |Hello, Server|
          ^^
--"
}

@test "assert_wire: a peer's report that differs is shown as bytes, from the first difference" {
	run assert_wire "recv b'ACK: one'" "recv b'ACK: one'"
	assert_success
	run assert_wire "recv b'ACK: one'
recv b'ACK: tw\\xff'" "recv b'ACK: one'
recv b'ACK: two'" "--model fork"
	assert_failure
	assert_line --index 0 '-- the bytes on the wire differ (--model fork) --'
	assert_line --index 1 "what the server sent, as the test peer reported it ('recv', step 2):"
	assert_line --index 2 "first difference at offset 7 (0x7): expected 0x6f 'o', received 0xff"
	assert_output --partial '0000  41 43 4b 3a 20 74 77 ff                           |ACK: tw.|'
	run assert_wire "eof" "got b'hi'"
	assert_failure
	assert_line --index 0 "-- the test peer's report differs --"
}

@test "a failing lab test shows its intent and a command that re-runs it alone, quotes and all" {
	in_copy
	# A name with everything a shell, make and a regular expression treat specially, and a
	# second test whose name is the start of the first's.  (printf: a line of this file
	# that starts with the word @test would be a test of this file.)
	printf '%s\n' "load '../../harness/lab'" \
		'@test "it'"'"'s \"quoted\" (x|y) [a-z]* a\\xNN \$5 {n}+? ^ 100%" {' '	false' '}' \
		'@test "it'"'"'s \"quoted\"" {' '	false' '}' >labs/01-tcp/01-tcp.bats
	local name cmd
	name='it'"'"'s "quoted" (x|y) [a-z]* a\xNN $5 {n}+? ^ 100%'
	cmd="make test-lab LAB=01 IMPL=starter FILTER='$(lab_filter_regex "$name")'"
	# The command as a learner would paste it: exactly that one test runs, and its failure
	# shows the intent and this very command.
	run plain bash -c "$cmd"
	assert_failure
	assert_line '1..1'
	assert_line "not ok 1 $name"
	assert_line "# Intent: $name"
	assert_line "# Reproduce: $cmd"
}
