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
#
# likely TEXT: what the learner most likely got wrong if the test fails from here on, naming
# the file and the function, e.g.
#
#     likely "serve() in server.c reads once per connection: it must loop until recv() returns 0"
#     run peer connect "$HOST" "$PORT" send:one recv send:two recv
#     assert_wire "$output" "..."
#
# A test may call it before each step that a different mistake would break: each call
# replaces the one before (`likely` alone forgets it), so a failure prints the cause
# registered last before the failing line, as "Likely cause: TEXT" after the Intent line.
# A test that fails with no cause registered names the learner's directory instead ("Your
# code: labs/NN-topic/starter/").  start_server registers START_CAUSE (set by the .bats
# file: why a server would not start) when it fails and nothing else is registered.
# harness/tests/mutants/ proves each cause: a solution with that mistake fails the test,
# and says so.
#
# What each spawned program printed follows, under a label that says whose it is: "the
# server under test", "the test's stand-in server" (spawn name standin), "the seed's Python
# server" (ref), "the test's client 'NAME'" (any other peer); and how a program that ended
# before the test did ended (its exit status, or the signal that killed it).

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
UNBUFFERED=()
! command -v stdbuf >/dev/null || UNBUFFERED=(stdbuf -o0)
HAVE_PGREP=
! command -v pgrep >/dev/null || HAVE_PGREP=1
SPAWNED=()
LIKELY=

# likely [TEXT]: the learner's likely mistake if the test fails from here on (see the top).
likely() { LIKELY=${1:-}; }

# Bash reports a background job that a signal killed, on stderr at its next command ("lab.bash:
# line 172: 9088 Killed   setsid "$@" > ..."), in the middle of a test's output, unless the
# shell traps that signal: it does not report SIGINT, SIGTERM or SIGPIPE, and these are the
# others a program under test dies of (KILL: teardown's, or a limit's; the rest: a crash).
# The handler never runs: the shell itself gets none of them.  teardown says, in words, how
# each program ended.  (Traps are reset in the programs a test starts.)
trap : KILL SEGV ABRT BUS FPE ILL TRAP SYS XCPU XFSZ

# peer ARGS...: the scriptable test peer (harness/peer.py); see its docstring.
# -S: the peer needs only the standard library, and site costs ~10 ms of each start.
PEER=("$PYTHON" -S "$HARNESS/peer.py" --deadline "$DEADLINE")
peer() { "${PEER[@]}" "$@"; }
# SILENT_PEER: the peer for a client that stays silent until the server drops it (its
# --timeout): it waits three deadlines, so that a server that waits for it instead holds
# everything else the test waits for past its deadline, and fails, every time.
SILENT_PEER=("${PEER[@]:0:3}" --deadline "$((DEADLINE * 3))")

# client ARGS...: the client under test on 127.0.0.1 (not "localhost", which a bare machine
# may not resolve), bounded by the deadline.
client() {
	timeout -k 1 "$DEADLINE" "$LAB_BIN/client" --host 127.0.0.1 "$@"
}

# spawn NAME CMD...: start CMD in the background with stdout and stderr on FIFOs.
# Sets NAME_PID; the output is read with expect_line and logged to $BATS_TEST_TMPDIR/NAME.*.
# NAME says whose output it is on failure: server (the server under test), standin (the
# test's stand-in server), ref (the seed's Python server); a test peer under any other name
# is "the test's client 'NAME'".
spawn() {
	local name=$1 dir=$BATS_TEST_TMPDIR
	shift
	local peer=
	[[ $1 != "${PEER[0]}" || ${3:-} != "${PEER[2]}" ]] || peer=1
	printf -v "${name}_PEER" %s "$peer"
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
		# || rc=$?: under bats' set -e, a read that fails (the end, the deadline) would end
		# the test here, before it says why.
		rc=0
		IFS= read -r -t "$((left / 1000000)).$frac" -u "${!fdvar}" line || rc=$?
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
# 127.0.0.1 or ::1, whichever it bound).  If it fails, and no cause is registered (likely),
# START_CAUSE is: the .bats file says there why a server would not start.
start_server_at() {
	local at=$1
	shift
	[[ -x $LAB_BIN/server ]] || { fail "no server program at $LAB_BIN/server (make build?)"; return 1; }
	spawn server "$LAB_BIN/server" --host "$at" --port 0 "$@"
	expect_line server err '^listening on ([^ ]+):([0-9]+)$' || {
		[[ -n $LIKELY ]] || likely "${START_CAUSE:-}"
		return 1
	}
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
		# Unbuffered (stdbuf -o0): when timeout ends head, what it has read is in the file.
		# (After KILL the end comes at once, unless a daemon it left holds the pipe.)
		if [[ $sig == KILL ]]; then
			timeout "$left" head -c "$OUTPUT_MAX" <&"$fd" >>"$BATS_TEST_TMPDIR/$name.std$s" 2>/dev/null 3>&- || :
		else
			timeout "$left" "${UNBUFFERED[@]}" head -c "$OUTPUT_MAX" <&"$fd" \
				>>"$BATS_TEST_TMPDIR/$name.std$s" 2>/dev/null 3>&- || :
		fi
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
# REPLY.  pgrep finds the group's processes (zombies too) in one process: a loop over
# /proc/*/stat in bash costs half a second under bats, whose DEBUG trap runs at each
# command; only the few it finds are read here.
group_members() {
	local f stat n=0 files=()
	if [[ -n $HAVE_PGREP ]]; then
		for f in $(pgrep -g "$1" 2>/dev/null); do
			files+=("/proc/$f/stat")
		done
	else
		files=(/proc/[0-9]*/stat)
	fi
	for f in "${files[@]}"; do
		# It may have gone meanwhile.  Not stat=$(<"$f"): under bats' set -e, bash 5.2 ends
		# the test when that file cannot be opened, || or not.
		{ read -r stat <"$f"; } 2>/dev/null || continue
		stat=${stat##*) } # after the command name, which may hold spaces: state ppid pgrp ...
		[[ ${stat%% *} != Z ]] || continue
		stat=${stat#* }
		stat=${stat#* }
		[[ ${stat%% *} != "$1" ]] || n=$((n + 1))
	done
	REPLY=$n
}

# show_output FILE: FILE's first 64 KiB, and how much more there was.
show_output() {
	local size
	size=$(stat -c %s "$1" 2>/dev/null) || return 0
	head -c 65536 "$1"
	if ((size > 65536)); then
		printf '\n[... %d more bytes not shown]\n' $((size - 65536))
	elif [[ -n $(tail -c 1 "$1") ]]; then
		printf '\n[no newline at the end]\n'
	fi
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
	"$PYTHON" -S "$HARNESS/wire.py" lines "$2" "$1" ${3+--context "$3"} | fail
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
	"$PYTHON" -S "$HARNESS/wire.py" diff "$1" "$2" ${3+--what "$3"} | fail
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
	# In $(...), as it is called, bats' DEBUG trap need not run at each of the loop's
	# commands (a tenth of a second for a long name).
	((BASH_SUBSHELL == 0)) || trap - DEBUG
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

# lab_running PID: PID is a live process (not a zombie, not reaped already).
lab_running() {
	local stat
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

# lab_label NAME: whose output spawn's NAME is, in words, into REPLY.
lab_label() {
	local peervar=${1}_PEER
	case $1 in
	server) REPLY="the server under test" ;;
	standin) REPLY="the test's stand-in server" ;;
	ref) REPLY="the seed's Python server" ;;
	*) if [[ -n ${!peervar:-} ]]; then REPLY="the test's client '$1'"; else REPLY=$1; fi ;;
	esac
}

# lab_code_dir: the directory of the learner's code for the programs under test, from the
# top of the repo, into REPLY (empty if they were built from elsewhere).
lab_code_dir() {
	REPLY=
	if [[ $LAB_BIN =~ /starter/$LAB_NAME/?$ ]]; then
		REPLY=labs/$LAB_NAME/starter/
	elif [[ $LAB_BIN =~ /solutions/$LAB_NAME/?$ ]]; then
		REPLY=solutions/$LAB_NAME/
	fi
}

teardown() {
	local name s pidvar endedvar
	for name in "${SPAWNED[@]}"; do
		pidvar=${name}_PID
		# Ended before the test did (crashed, gave up, or exited as it should): say so, for
		# the server under test, and for any other program that did not exit 0.
		s=
		[[ -z ${!pidvar:-} ]] || lab_running "${!pidvar}" || s=ended
		finish "$name" KILL
		[[ $s != ended || ($STATUS == 0 && $name != server) ]] || s=$STATUS
		printf -v "${name}_ENDED" %s "${s#ended}"
	done
	# On failure, say what the test wanted, its likely cause and how to run it alone, then
	# show what each program printed: bats prints this output with the failure (and the
	# board shows it).
	if [[ -z ${BATS_TEST_COMPLETED:-} ]]; then
		echo "Intent: $BATS_TEST_DESCRIPTION"
		if [[ -n $LIKELY ]]; then
			echo "Likely cause: $LIKELY"
		elif [[ $LAB_TEST_FILE == labs/* ]]; then
			lab_code_dir
			[[ -z $REPLY ]] || echo "Your code: $REPLY"
		fi
		echo "Reproduce: $(lab_reproduce)"
		for name in "${SPAWNED[@]}"; do
			lab_label "$name"
			for s in stdout stderr; do
				echo "--- $REPLY: $s ---"
				if [[ -s $BATS_TEST_TMPDIR/$name.$s ]]; then
					show_output "$BATS_TEST_TMPDIR/$name.$s"
				else
					echo "(nothing)"
				fi
			done
			endedvar=${name}_ENDED
			s=${!endedvar:-}
			if [[ -z $s ]]; then
				:
			elif ((s > 128)); then
				echo "--- $REPLY ended during the test, killed by signal $((s - 128)) (SIG$(kill -l "$s")) ---"
			else
				echo "--- $REPLY ended during the test, with exit status $s ---"
			fi
		done
	fi
}
