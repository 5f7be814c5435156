#!/usr/bin/env bats
# 06-concurrency.bats - lesson 06: the concurrent upper-casing server, as the contract describes it.
#
# Runs against $LAB_BIN/{server,client}: `make test-lab LAB=06 IMPL=starter` for yours.
# The starter asks for --model thread; the solution also has fork, pool and poll, and every
# test runs against each model the server's --help lists.

load '../../harness/lab'

# The models this server has: those its --help lists (a starter may have only "thread").
models() {
	local help
	help=$("$LAB_BIN/server" --help 2>/dev/null) || true
	for m in thread fork pool poll; do
		[[ $help == *"$m"* ]] && echo "$m"
	done
	return 0
}

# many_clients N PREFIX: N clients at once (C client), each sending PREFIX-i; all must finish.
many_clients() {
	local n=$1 prefix=$2 i pids=()
	for ((i = 1; i <= n; i++)); do
		timeout "$DEADLINE" "$LAB_BIN/client" --host 127.0.0.1 --port "$PORT" --message "$prefix-$i" \
			>"$BATS_TEST_TMPDIR/client.$i" 2>&1 3>&- &
		pids+=($!)
	done
	for ((i = 1; i <= n; i++)); do
		wait "${pids[i - 1]}" || fail "client $i failed: $(<"$BATS_TEST_TMPDIR/client.$i")"
		assert_equal "$(<"$BATS_TEST_TMPDIR/client.$i")" "Received: ${prefix^^}-$i"
	done
}

@test "server answers a request stripped and upper-cased (ASCII only), then closes" {
	for model in $(models); do
		start_server --model "$model"
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
		run peer connect "$HOST" "$PORT" 'send:\x0b\x0c\x00a\x1c\x0b' recvall
		assert_wire "$output" "recvall b'\\x00A\\x1c'" "--model $model"
		finish server TERM
	done
}

@test "server: an empty request gets an empty reply and a close" {
	for model in $(models); do
		start_server --model "$model"
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
		start_server --model "$model"
		spawn idle "${PEER[@]}" connect "$HOST" "$PORT" port recvall
		expect_line idle out '^port ' # connected, and silent from now on
		many_clients 12 "$model"
		finish idle KILL
		finish server TERM
	done
}

@test "server drops a client silent for --timeout ('timed out'), even with one worker" {
	for model in $(models); do
		# --threads 1: in the pool, a silent client would otherwise hold the only worker.
		start_server --model "$model" --timeout 0.5 --threads 1
		spawn idle "${PEER[@]}" connect "$HOST" "$PORT" recvall
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
@test "server serves 40 clients at once (LAB_CLIENTS); its stdout lines never run together" {
	local n=${LAB_CLIENTS:-40}
	for model in $(models); do
		start_server --model "$model"
		many_clients "$n" "$model"
		finish server TERM
		run output_of server out
		assert_equal "${#lines[@]} ($model)" "$n ($model)"
		refute_output --regexp '^([^R]|R[^e]|.*1R)' # every line is whole
		[[ $(sort -u <<<"$output") == "Received from 127.0.0.1" ]] || fail "$model: $output"
	done
}

@test "server exits 0 on SIGTERM, leaving no process behind, even with a client connected" {
	for model in $(models); do
		start_server --model "$model"
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
	run client --port "$PORT" --message ' mixed Case 123 '
	assert_success
	assert_output 'Received: MIXED CASE 123'
}
