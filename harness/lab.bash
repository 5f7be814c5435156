# lab.bash - what every lesson's bats file loads: run the programs under test, read their
# output with deadlines, and clean up so that no process outlives its test.
#
#   load '../../harness/lab'
#
# The programs under test are $LAB_BIN/server and $LAB_BIN/client.  LAB_BIN defaults to
# $LAB_BUILD/solutions/NN-topic (LAB_BUILD: the Makefile's build directory), so the same
# script tests the solution, the starter, or any directory `make test-lab IMPL=...` built.
#
# Servers are started in the background with their stdout and stderr on FIFOs that the
# test reads line by line, expect(1)-style: `expect_stdout REGEX` returns as soon as a
# matching line arrives, and fails at the deadline (LAB_DEADLINE seconds, default 10) or
# when the program exits first.  Nothing sleeps; every wait is bounded.
#
# A failing test teaches: its name is its intent, printed as "Intent: ..." with the command
# that runs it alone ("Reproduce: ..."), and assert_wire / assert_bytes show bytes that
# differ in hex and text from the first differing offset.  LAB_IMPL_DESC, if set, is the
# make arguments that chose the programs under test (e.g. "IMPL=starter"); without it they
# are worked out from LAB_BIN.

bats_require_minimum_version 1.5.0

# bats sources this file again for every test, so what it runs here it runs ~500 times in a
# `make test`.  It starts no process: on a small VM a fork and exec costs 5-10 ms, the library
# load.bash files run dirname(1) once per file (15 processes), and all this was 22 processes
# a test, half of what a lab's test starts (measured).

# lab_load_library NAME: source bats library NAME's src/*.bash (what its load.bash sources)
# from the first directory of BATS_LIB_PATH that has it; bats_load_library otherwise.
lab_load_library() {
	local dirs dir f
	IFS=: read -r -a dirs <<<"${BATS_LIB_PATH:-/usr/lib/bats}"
	for dir in "${dirs[@]}"; do
		[[ -f $dir/$1/load.bash && -d $dir/$1/src ]] || continue
		for f in "$dir/$1"/src/*.bash; do
			# shellcheck disable=SC1090
			source "$f" || return 1
		done
		return 0
	done
	bats_load_library "$1"
}
lab_load_library bats-support
lab_load_library bats-assert

# lab_physical_dir DIR: DIR's absolute path with symbolic links resolved, as `cd -P DIR &&
# pwd` in a subshell would say, into REPLY: cd there and back in this shell instead.
lab_physical_dir() {
	local back=$PWD
	cd -P -- "$1" || return
	REPLY=$PWD
	cd -- "$back" || return
}

lab_physical_dir "${BASH_SOURCE[0]%/*}" && HARNESS=$REPLY
LAB_ROOT=${HARNESS%/*}
# The test file's path from the top of the repo, for the Reproduce line (worked out now: a
# test may cd).
lab_physical_dir "$BATS_TEST_DIRNAME" && LAB_TEST_FILE=$REPLY/${BATS_TEST_FILENAME##*/}
LAB_TEST_FILE=${LAB_TEST_FILE#"$LAB_ROOT"/}
# The lab's name is the file's: labs/01-tcp/01-tcp.bats and harness/selfcheck/01-tcp.bats.
LAB_NAME=${BATS_TEST_FILENAME##*/}
LAB_NAME=${LAB_NAME%.bats}
LAB_BIN=${LAB_BIN:-${LAB_BUILD:-$HARNESS/../build}/solutions/$LAB_NAME}
DEADLINE=${LAB_DEADLINE:-10}
# At most this many bytes of each output stream of a spawned program are kept (and shown
# on failure): a program that floods its stdout must fail its test, not fill the disk.
OUTPUT_MAX=${LAB_OUTPUT_MAX:-1048576}
PYTHON=${PYTHON:-python3}
SPAWNED=()

# peer ARGS...: the scriptable test peer (harness/peer.py); see its docstring.
# -S: the peer needs only the standard library, and site costs ~10 ms of each start.
PEER=("$PYTHON" -S "$HARNESS/peer.py" --deadline "$DEADLINE")
peer() { "${PEER[@]}" "$@"; }

# client ARGS...: the client under test on 127.0.0.1 (not "localhost", which a bare machine
# may not resolve), bounded by the deadline.
client() {
	timeout -k 1 "$DEADLINE" "$LAB_BIN/client" --host 127.0.0.1 "$@"
}

# spawn NAME CMD...: start CMD in the background with stdout and stderr on FIFOs.
# Sets NAME_PID; the output is read with expect_line and logged to $BATS_TEST_TMPDIR/NAME.*.
spawn() {
	local name=$1 dir=$BATS_TEST_TMPDIR
	shift
	# A name may be spawned again (rm only then: each process a test starts costs ~5 ms).
	[[ ! -e $dir/$name.out.fifo && ! -e $dir/$name.err.fifo ]] ||
		rm -f "$dir/$name.out.fifo" "$dir/$name.err.fifo"
	mkfifo "$dir/$name.out.fifo" "$dir/$name.err.fifo"
	# 3>&-: bats waits for fd 3 to close before it ends; a server must not hold it.
	# setsid: its own process group (setsid execs in place here, so $! is the program),
	# so that teardown can kill whatever children it leaves too.
	setsid "$@" >"$dir/$name.out.fifo" 2>"$dir/$name.err.fifo" 3>&- &
	printf -v "${name}_PID" %s "$!"
	# Opening the read ends meets the child's opens of the write ends, in the same order.
	exec {fd}<"$dir/$name.out.fifo"
	printf -v "${name}_OUT" %s "$fd"
	exec {fd}<"$dir/$name.err.fifo"
	printf -v "${name}_ERR" %s "$fd"
	: >"$dir/$name.stdout"
	: >"$dir/$name.stderr"
	SPAWNED+=("$name")
}

# expect_line NAME out|err REGEX: read NAME's lines until one matches REGEX (bash =~).
# The matching line is left in $LINE.  Fails at the deadline or at the program's exit.
expect_line() {
	local name=$1 stream=$2 re=$3 fdvar line now end left rc frac
	fdvar=${name}_${stream^^}
	end=$(( ${EPOCHREALTIME/./} + DEADLINE * 1000000 ))
	while :; do
		now=${EPOCHREALTIME/./}
		left=$(( end - now ))
		if (( left <= 0 )); then
			fail "no line matching /$re/ on $name's std$stream within ${DEADLINE}s"
			return 1
		fi
		printf -v frac %06d $((left % 1000000))
		IFS= read -r -t "$((left / 1000000)).$frac" -u "${!fdvar}" line
		rc=$?
		# A whole line, or the last one at EOF without its newline (not the partial
		# line a timeout leaves: the deadline has passed then anyway).
		if (( rc == 0 )) || { (( rc == 1 )) && [[ -n $line ]]; }; then
			printf '%s\n' "$line" >>"$BATS_TEST_TMPDIR/$name.std$stream"
			if [[ $line =~ $re ]]; then
				LINE=$line
				return 0
			fi
		fi
		if (( rc == 1 )); then
			fail "$name ended its std$stream without a line matching /$re/"
			return 1
		fi
	done
}
expect_stdout() { expect_line server out "$1"; }
expect_stderr() { expect_line server err "$1"; }

# start_server [ARGS...]: run the server under test on 127.0.0.1, port 0, and wait for its
# "listening on HOST:PORT" line.  Sets server_PID, HOST and PORT.
start_server() { start_server_at 127.0.0.1 "$@"; }

# start_server_at ADDRESS [ARGS...]: the same on ADDRESS (::1, ::, 0.0.0.0, localhost).
# HOST is then the address the server's line shows (for :: that is ::, for localhost
# 127.0.0.1 or ::1, whichever it bound).
start_server_at() {
	local at=$1
	shift
	[[ -x $LAB_BIN/server ]] || { fail "no server program at $LAB_BIN/server (make build?)"; return 1; }
	spawn server "$LAB_BIN/server" --host "$at" --port 0 "$@"
	expect_line server err '^listening on ([^ ]+):([0-9]+)$' || return 1
	HOST=${BASH_REMATCH[1]}
	PORT=${BASH_REMATCH[2]}
	[[ $PORT != 0 ]] || { fail "the listening line shows port 0, not the port the kernel chose"; return 1; }
}

# finish NAME [SIGNAL]: send SIGNAL (if given) to NAME, read the rest of its output until it
# exits (bounded by the deadline), SIGKILL it if it is still there, and reap it.
# STATUS is its exit status: 128+9 means it had to be killed.  LEFTOVER counts the processes
# of its group still running once its output had ended (children it failed to end); not
# counted after `finish NAME KILL` (teardown's), which kills them all at once.
finish() {
	local name=$1 sig=${2:-} pidvar=${1}_PID s fdvar fd end left
	[[ -n ${!pidvar:-} ]] || return 0
	# KILL is for teardown: the whole group at once, so that no child it left keeps writing.
	if [[ $sig == KILL ]]; then
		kill -KILL -- "-${!pidvar}" 2>/dev/null || :
	elif [[ -n $sig ]]; then
		kill "-$sig" "${!pidvar}" 2>/dev/null || :
	fi
	end=$(( ${EPOCHREALTIME/./} + DEADLINE * 1000000 ))
	for s in out err; do
		fdvar=${name}_${s^^}
		fd=${!fdvar}
		left=$(( (end - ${EPOCHREALTIME/./}) / 1000000 + 1 ))
		# The pipe reaches EOF when the program exits: reading it to the end is the wait.
		# Past OUTPUT_MAX bytes head stops reading, and a program still writing gets EPIPE
		# (or SIGPIPE) instead of being drained for the whole deadline.
		timeout "$left" head -c "$OUTPUT_MAX" <&"$fd" >>"$BATS_TEST_TMPDIR/$name.std$s" 2>/dev/null 3>&- || :
		exec {fd}<&-
	done
	# What of its process group is still running now (its children, say): LEFTOVER.
	LEFTOVER=
	if [[ $sig != KILL ]]; then
		group_members "${!pidvar}"
		LEFTOVER=$REPLY
	fi
	# Then the whole process group goes (spawn made one per program): a program still
	# running, and any children it left.  Harmless once it has exited: a zombie ignores
	# signals until it is reaped, so its PID cannot have been reused.
	kill -KILL -- "-${!pidvar}" 2>/dev/null || :
	STATUS=0
	wait "${!pidvar}" 2>/dev/null || STATUS=$?
	printf -v "$pidvar" %s ""
}

# group_members PGID: how many live (not zombie) processes are in process group PGID, in
# REPLY (not printed: $(...) would cost a process).
group_members() {
	local f stat state pgrp n=0
	for f in /proc/[0-9]*/stat; do
		# It may have gone meanwhile.  Not stat=$(<"$f"): under bats' set -e, bash 5.2 ends
		# the test when that file cannot be opened, || or not.
		{ read -r stat <"$f"; } 2>/dev/null || continue
		stat=${stat##*) } # after the command name, which may hold spaces: state ppid pgrp ...
		state=${stat%% *}
		stat=${stat#* }
		stat=${stat#* }
		pgrp=${stat%% *}
		if [[ $pgrp == "$1" && $state != Z ]]; then
			n=$((n + 1))
		fi
	done
	REPLY=$n
}

# show_output FILE: FILE's first 64 KiB, and how much more there was.
show_output() {
	local size
	size=$(stat -c %s "$1" 2>/dev/null) || return 0
	head -c 65536 "$1"
	((size <= 65536)) || printf '\n[... %d more bytes not shown]\n' $((size - 65536))
}

# output_of NAME out|err: everything NAME printed so far that a test has read.
output_of() { cat "$BATS_TEST_TMPDIR/$1.std$2"; }

# --- assertions on bytes ---------------------------------------------------------------

# assert_wire ACTUAL EXPECTED [CONTEXT]: ACTUAL, what the test peer reported (harness/peer.py,
# one line per step, such as "recv b'ACK: hi'" or "got b'hi'"), is EXPECTED, exactly as
# assert_equal would say.  The difference is in the message: where a line carries bytes,
# the bytes the program under test put on the wire are shown in hex and text beside the
# expected ones, with the first differing offset.  CONTEXT (e.g. "--model fork") is added.
assert_wire() {
	[[ $1 == "$2" ]] && return 0
	"$PYTHON" "$HARNESS/wire.py" lines "$2" "$1" ${3+--context "$3"} | fail
}

# assert_bytes EXPECTED_FILE ACTUAL_FILE [WHAT]: the two files hold the same bytes; if not,
# fail with both in hex and text around the first differing offset.  WHAT says whose bytes
# they are ("the client's first datagram").
assert_bytes() {
	cmp -s -- "$1" "$2" && return 0
	if [[ ! -r $1 || ! -r $2 ]]; then
		fail "assert_bytes: cannot read '$1' or '$2'"
		return 1
	fi
	"$PYTHON" "$HARNESS/wire.py" diff "$1" "$2" ${3+--what "$3"} | fail
}

# --- a failure that teaches --------------------------------------------------------------

# lab_filter_regex NAME: a regular expression that selects the test named NAME, and only it,
# through bats --filter, that can sit between single quotes in a shell command and in the
# Makefile's FILTER.  bats matches the name as the .bats file writes it, before the shell
# has read it: a name that shows as \xNN may be written \\xNN there, a " as \", a $ as \$,
# and the regex accepts both.  ' $ and ` become ".": then it needs no quoting, and make,
# which expands $ in FILTER, finds none but the final anchor (which it leaves alone).
lab_filter_regex() {
	local name=$1 re='^' c i
	for ((i = 0; i < ${#name}; i++)); do
		c=${name:i:1}
		case $c in
		\\) re+='\\\\?' ;;
		'"') re+='\\?"' ;;
		'.' | '[' | ']' | '(' | ')' | '*' | '+' | '?' | '{' | '}' | '|' | '^') re+="\\$c" ;;
		"'") re+='.' ;;
		'$' | '`') re+='\\?.' ;;
		*) re+=$c ;;
		esac
	done
	printf '%s$\n' "$re"
}

# lab_reproduce: the command that runs the current test alone, from the top of the repo.
lab_reproduce() {
	local filter impl=${LAB_IMPL_DESC:-} kind
	filter=$(lab_filter_regex "$BATS_TEST_DESCRIPTION")
	if [[ $LAB_TEST_FILE != labs/[0-9][0-9]-*/*.bats ]]; then
		echo "harness/bats-run --filter '$filter' $LAB_TEST_FILE"
		return
	fi
	if [[ -z $impl && $LAB_BIN =~ /(sanitize-([^/]+)/)?(starter|solutions)/$LAB_NAME/?$ ]]; then
		kind=${BASH_REMATCH[3]}
		impl="IMPL=$kind${BASH_REMATCH[2]:+ SANITIZE=${BASH_REMATCH[2]//-/,}}"
	fi
	if [[ -n $impl ]]; then
		echo "make test-lab LAB=${LAB_NAME%%-*} $impl FILTER='$filter'"
	else # programs built elsewhere: name them
		echo "LAB_BIN=$LAB_BIN harness/bats-run --filter '$filter' $LAB_TEST_FILE"
	fi
}

teardown() {
	local name
	for name in "${SPAWNED[@]}"; do
		finish "$name" KILL
	done
	# On failure, say what the test wanted and how to run it alone, then show what each
	# program printed: bats prints this output with the failure (and the board shows it).
	if [[ -z ${BATS_TEST_COMPLETED:-} ]]; then
		echo "Intent: $BATS_TEST_DESCRIPTION"
		echo "Reproduce: $(lab_reproduce)"
		for name in "${SPAWNED[@]}"; do
			for s in stdout stderr; do
				echo "--- $name $s ---"
				show_output "$BATS_TEST_TMPDIR/$name.$s"
			done
		done
	fi
}
