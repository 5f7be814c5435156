#!/usr/bin/env bats
# 06-concurrency.bats - lesson 06: the concurrent upper-casing server, as the contract describes it.
#
# Runs against $LAB_BIN/{server,client}: `make test-lab LAB=06 IMPL=starter` for yours.
# The starter asks for --model thread; the solution also has fork, pool and poll, and every
# test runs against each model the server's --help lists.  Each `likely` names the mistake
# that would make the next steps fail (harness/lab.bash); harness/tests/mutants/ holds a
# solution with each of them, and checks that it fails.

load '../../harness/lab'

START_CAUSE="main() in server.c (given) listens and announces: a server that does not start has crashed or exited; see its stderr below"
THREAD_CAUSE="serve_thread() in model_thread.c: for ever, accept() a client and start a detached thread that runs handle_client() for it, with the connection and its address in memory of its own"

# The models this server has: those its --help lists (a starter may have only "thread"),
# and of them only those LAB_MODELS names, if set (harness/tests/mutants: LAB_MODELS=thread,
# since its mistakes are in the thread model, or in the code every model runs).
models() {
	local help
	help=$("$LAB_BIN/server" --help 2>/dev/null) || true
	for m in thread fork pool poll; do
		[[ $help == *"$m"* && " ${LAB_MODELS:-$m} " == *" $m "* ]] && echo "$m"
	done
	return 0
}

# many_clients N PREFIX: N clients at once (C client), each sending PREFIX-i; all must finish.
many_clients() {
	local n=$1 prefix=$2 i pids=() status said
	for ((i = 1; i <= n; i++)); do
		timeout "$DEADLINE" "$LAB_BIN/client" --host 127.0.0.1 --port "$PORT" --message "$prefix-$i" \
			>"$BATS_TEST_TMPDIR/client.$i" 2>&1 3>&- &
		pids+=($!)
	done
	for ((i = 1; i <= n; i++)); do
		status=0
		wait "${pids[i - 1]}" || status=$?
		said=$(<"$BATS_TEST_TMPDIR/client.$i")
		if ((status == 124)); then
			fail "client $i of $n (--message $prefix-$i) had no whole reply within ${DEADLINE}s: the server never answered it, or never closed${said:+; it printed: $said}"
		elif ((status != 0)); then
			fail "client $i of $n (--message $prefix-$i) exited with status $status; it printed: ${said:-nothing}"
		fi
		assert_equal "$said" "Received: ${prefix^^}-$i"
	done
}

# line_shim: SHIM, a library that a server is started with (LD_PRELOAD) to see how its lines
# are printed.  Its setvbuf() makes stdout unbuffered and cuts the line at every stdio call
# that does not end one: "Received from " printed by one printf() and the address by the
# next become two lines, every time, not only when another thread's line comes between
# them.  (A call that writes its newline apart, as puts() does, is one line still.)  Built
# once per run of this file; without a compiler SHIM is empty, and only lines that two
# threads do mix show.
line_shim() {
	SHIM=$BATS_FILE_TMPDIR/lineshim.so
	[[ -f $SHIM ]] && return 0
	"${CC:-cc}" -shared -fPIC -O2 -o "$SHIM.$$" -x c - 2>/dev/null <<'EOF' || { SHIM=; return 0; }
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char pending[4096];
static size_t held;
static pthread_t holder;

static void out(const char *p, size_t n)
{
	ssize_t put;

	while (n > 0 && (put = write(1, p, n)) > 0) {
		p += put;
		n -= (size_t)put;
	}
}

static void cut(void)
{
	if (held > 0) {
		pending[held++] = '\n';
		out(pending, held);
		held = 0;
	}
}

static ssize_t cut_write(void *cookie, const char *buf, size_t n)
{
	(void)cookie;
	if (held > 0 && n == 1 && buf[0] == '\n' && pthread_equal(holder, pthread_self())) {
		out(pending, held);
		held = 0;
		out(buf, 1);
		return (ssize_t)n;
	}
	cut();
	if (n > 0 && buf[n - 1] != '\n' && n < sizeof pending - 1) {
		memcpy(pending, buf, n);
		held = n;
		holder = pthread_self();
	} else {
		out(buf, n);
	}
	return (ssize_t)n;
}

static int (*real_setvbuf)(FILE *, char *, int, size_t);

int setvbuf(FILE *stream, char *buf, int mode, size_t size)
{
	cookie_io_functions_t io = { NULL, cut_write, NULL, NULL };
	FILE *f;

	if (real_setvbuf == NULL)
		real_setvbuf = (int (*)(FILE *, char *, int, size_t))dlsym(RTLD_NEXT, "setvbuf");
	if (stream == stdout && (f = fopencookie(NULL, "w", io)) != NULL) {
		real_setvbuf(f, NULL, _IONBF, 0);
		fflush(stdout);
		stdout = f;
		return 0;
	}
	return real_setvbuf(stream, buf, mode, size);
}

__attribute__((destructor)) static void at_end(void)
{
	cut();
}
EOF
	mv -f "$SHIM.$$" "$SHIM"
}

# vm_kib PID: the process's virtual memory in KiB (a thread's stack counts there whole).
vm_kib() {
	local key value _
	while read -r key value _; do
		[[ $key == VmSize: ]] && { echo "$value"; return; }
	done <"/proc/$1/status"
}

@test "server answers a request stripped and upper-cased (ASCII only), then closes" {
	for model in $(models); do
		start_server --model "$model"
		likely "$THREAD_CAUSE"
		run peer connect "$HOST" "$PORT" 'send: \t hello, wörld! \r\n ' recvall
		assert_success
		assert_wire "$output" "recvall b'HELLO, W\\xc3\\xb6RLD!'" "--model $model"
		expect_stdout '^Received from '
		assert_equal "$LINE ($model)" "Received from 127.0.0.1 ($model)"
		finish server TERM
	done
}

@test "server strips only space and \\t\\n\\v\\f\\r, as bytes.strip() (not NUL, not \\x1c)" {
	for model in $(models); do
		start_server --model "$model"
		likely "$THREAD_CAUSE"
		run peer connect "$HOST" "$PORT" 'send:\x0b\x0c\x00a\x1c\x0b' recvall
		assert_wire "$output" "recvall b'\\x00A\\x1c'" "--model $model"
		finish server TERM
	done
}

@test "server: an empty request gets an empty reply and a close" {
	for model in $(models); do
		start_server --model "$model"
		likely "$THREAD_CAUSE"
		run peer connect "$HOST" "$PORT" shut recvall
		assert_success
		assert_wire "$output" "recvall b''" "--model $model"
		expect_stdout '^Received from 127\.0\.0\.1$'
		finish server TERM
	done
}

@test "server reads one recv(1024): a longer request is answered from its first 1024 bytes" {
	local a1500
	printf -v a1500 '%*s' 1500 ''
	a1500=${a1500// /a}
	for model in $(models); do
		start_server --model "$model"
		likely "$THREAD_CAUSE"
		run peer connect "$HOST" "$PORT" "send:$a1500" recvall
		assert_success
		# The server closes with 476 bytes unread, so a reset may follow the reply.
		[[ $output =~ ^"recvall b'"(A+)"'"( reset)?$ ]] || fail "$model: $output"
		assert_equal "${#BASH_REMATCH[1]} ($model)" "1024 ($model)"
		finish server TERM
	done
}

@test "server: a client that connects and sends nothing never delays the others" {
	for model in $(models); do
		# A --timeout longer than the deadline: a server that waits for the silent client
		# holds the others past it.
		start_server --model "$model" --timeout $((DEADLINE * 3))
		likely "$THREAD_CAUSE"
		spawn idle "${SILENT_PEER[@]}" connect "$HOST" "$PORT" port recvall
		expect_line idle out '^port ' # connected, and silent from now on
		likely "serve_thread() in model_thread.c serves each client before it accepts the next (handle_client() in the accepting thread, or a thread joined at once): start a thread per client, and go back to accept()"
		many_clients 12 "$model"
		finish idle KILL
		finish server TERM
	done
}

@test "server drops a client silent for --timeout ('timed out'), even with one worker" {
	for model in $(models); do
		# --threads 1: in the pool, a silent client would otherwise hold the only worker.
		# (Only the pool has --threads: a learner's server may have no other model.)
		local one=()
		[[ $model != pool ]] || one=(--threads 1)
		start_server --model "$model" --timeout 0.5 "${one[@]}"
		likely "$THREAD_CAUSE"
		spawn idle "${SILENT_PEER[@]}" connect "$HOST" "$PORT" recvall
		expect_line idle out "^recvall b''$"
		expect_stderr 'timed out'
		run peer connect "$HOST" "$PORT" send:next recvall
		assert_wire "$output" "recvall b'NEXT'" "--model $model"
		finish server TERM
	done
}

@test "server on ::1 (IPv6), and on :: for an IPv4 client: 'Received from ::ffff:127.0.0.1'" {
	for model in $(models); do
		start_server_at ::1 --model "$model"
		likely "$THREAD_CAUSE"
		run peer connect ::1 "$PORT" send:six recvall
		assert_wire "$output" "recvall b'SIX'" "--model $model"
		expect_stdout '^Received from '
		assert_equal "$LINE ($model)" "Received from ::1 ($model)"
		finish server TERM
		start_server_at :: --model "$model"
		run peer connect 127.0.0.1 "$PORT" send:four recvall
		assert_wire "$output" "recvall b'FOUR'" "--model $model"
		expect_stdout '^Received from '
		assert_equal "$LINE ($model)" "Received from ::ffff:127.0.0.1 ($model)"
		finish server TERM
	done
}

# LAB_CLIENTS: fewer clients where each is much slower (harness/memcheck runs them under valgrind).
@test "server answers 40 clients waiting at once (LAB_CLIENTS), each with its own reply" {
	local n=${LAB_CLIENTS:-40} i expected
	for model in $(models); do
		start_server --model "$model"
		# Stopped, the server lets all of them connect and send: it finds them waiting in
		# its backlog, and accepts one after the other as fast as it can.
		likely "$THREAD_CAUSE"
		{ kill -STOP "$server_PID" && lab_running "$server_PID"; } 2>/dev/null ||
			fail "--model $model: the server exited as soon as it was listening"
		spawn crowd "${PEER[@]}" crowd "$HOST" "$PORT" "$n" "$model"
		expect_line crowd out '^sent '
		kill -CONT "$server_PID"
		likely "serve_thread() in model_thread.c hands each thread a pointer to what the next accept() overwrites (&conn, one struct for all): give each thread its connection in memory of its own (malloc'd, freed by the thread)"
		finish crowd
		expected="sent $n"
		for ((i = 1; i <= n; i++)); do
			expected+=$'\n'"reply $i b'${model^^}-$i'"
		done
		run output_of crowd out
		assert_wire "$output" "$expected" "--model $model"
		finish server TERM
	done
}

@test "server serves 40 clients at once (LAB_CLIENTS); its stdout lines never run together" {
	local n=${LAB_CLIENTS:-40}
	line_shim
	for model in $(models); do
		# (A server built with AddressSanitizer wants its library first: it is told not to mind.)
		LD_PRELOAD=$SHIM ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
			start_server --model "$model"
		likely "$THREAD_CAUSE"
		many_clients "$n" "$model"
		likely "handle.c, or code you added: one line is printed by one printf() call; two calls for one line let another thread's line in between"
		finish server TERM
		run output_of server out
		assert_equal "${#lines[@]} ($model)" "$n ($model)"
		refute_output --regexp '^([^R]|R[^e]|.*1R)' # every line is whole
		[[ $(sort -u <<<"$output") == "Received from 127.0.0.1" ]] || fail "$model: $output"
	done
}

# Only --model thread starts a thread per client; the others have nothing to leave behind.
@test "server keeps no finished thread: its memory does not grow with each client" {
	local n=8 i before after stack
	# A thread's stack: ulimit -s (glibc takes 2 MiB where it is unlimited).
	stack=$(ulimit -s)
	[[ $stack =~ ^[0-9]+$ ]] || stack=2048
	start_server --model thread
	likely "$THREAD_CAUSE"
	run client --port "$PORT" --message first
	assert_success
	before=$(vm_kib "$server_PID")
	for ((i = 1; i <= n; i++)); do
		run client --port "$PORT" --message "client $i"
		assert_success
	done
	after=$(vm_kib "$server_PID")
	likely "serve_thread() in model_thread.c never detaches its threads (nor joins them): a finished thread keeps its stack until it is joined; create them detached"
	((after - before < n / 2 * stack)) ||
		fail "the server's memory grew by $(((after - before) / 1024)) MiB over $n clients served one after the other ($((stack / 1024)) MiB is one thread's stack)"
}

@test "server exits 0 on SIGTERM, leaving no process behind, even with a client connected" {
	for model in $(models); do
		start_server --model "$model"
		likely "$THREAD_CAUSE"
		spawn idle "${PEER[@]}" connect "$HOST" "$PORT" port recvall
		expect_line idle out '^port ' # connected, and silent from now on
		run peer connect "$HOST" "$PORT" send:x recvall # served while the idle one waits
		finish server TERM
		assert_equal "status $STATUS, $LEFTOVER left ($model)" "status 0, 0 left ($model)"
		expect_line idle out '^recvall ' # its connection was closed
	done
}

# --- the client ------------------------------------------------------------------------

@test "client and server talk to each other" {
	start_server
	likely "$THREAD_CAUSE"
	run client --port "$PORT" --message ' mixed Case 123 '
	assert_success
	assert_output 'Received: MIXED CASE 123'
}
