#!/usr/bin/env bats
# 03-sticky-packets.bats - lesson 03: TCP merges and splits messages, UDP keeps them apart.
#
# Runs against $LAB_BIN/{server,client}: `make test-lab LAB=03 IMPL=starter` for yours.
# The server waits --delay (default 0.2 s) after accepting, so that every message has
# arrived before its first recv(): what it prints then depends only on --bufsize.

load '../../harness/lab'

# received: the server's stdout once it has exited by itself (it serves one connection).
received() {
	finish server
	assert_equal "$STATUS" 0
	run output_of server out
}

# --- the server ----------------------------------------------------------------------

@test "server: two sends, 'Hello' and 'World', arrive as one chunk: 'Received: HelloWorld'" {
	start_server
	run peer connect "$HOST" "$PORT" send:Hello send:World close
	assert_success
	received
	assert_output "Received: HelloWorld"
}

@test "server --bufsize 3: the same bytes split where the reads fall: Hel, loW, orl, d" {
	start_server --bufsize 3
	run peer connect "$HOST" "$PORT" send:Hello send:World close
	received
	assert_output "Received: Hel
Received: loW
Received: orl
Received: d"
}

@test "server: one send split into many reads, many sends merged into one read" {
	start_server --bufsize 4
	run peer connect "$HOST" "$PORT" send:a send:b send:c send:defghij close
	received
	assert_output "Received: abcd
Received: efgh
Received: ij"
}

@test "server exits 0 by itself once the client has closed, having read everything" {
	start_server
	run peer connect "$HOST" "$PORT" send:bye close
	received
	assert_output "Received: bye"
}

@test "server prints bytes that are not UTF-8 as \\xNN" {
	start_server
	run peer connect "$HOST" "$PORT" 'send:caf\xc3\xa9 \xff' close
	received
	assert_output 'Received: café \xff'
}

@test "server drops a client silent for --timeout: 'timed out' on stderr, exit 1" {
	start_server --timeout 0.5 --delay 0.01
	spawn idle "${PEER[@]}" connect "$HOST" "$PORT" send:half recvall
	expect_line idle out "^recvall b''$"
	expect_stderr 'timed out'
	finish server
	assert_equal "$STATUS" 1
	run output_of server out
	assert_output "Received: half"
}

@test "server and client over ::1 (IPv6): HelloWorld" {
	start_server_at ::1
	run client --host ::1 --port "$PORT"
	assert_success
	received
	assert_output "Received: HelloWorld"
}

@test "server --udp: two datagrams stay two messages: Hello, then World" {
	start_server --udp
	run peer udp "$HOST" "$PORT" send:Hello send:World
	assert_success
	received
	assert_output "Received: Hello
Received: World"
}

@test "server --udp --bufsize 3: each datagram is cut, never merged: Hel, Wor" {
	start_server --udp --bufsize 3
	run peer udp "$HOST" "$PORT" send:Hello send:World
	received
	assert_output "Received: Hel
Received: Wor"
}

@test "server exits 0 on SIGTERM while it serves a client" {
	start_server --delay 0.01
	spawn slow "${PEER[@]}" connect "$HOST" "$PORT" send:partial recvall
	expect_stdout '^Received: partial$' # it read; the client has not closed yet
	finish server TERM
	assert_equal "$STATUS" 0
}

# --- the client ------------------------------------------------------------------------

# nudge_fake PORT [udp]: the client under test has exited.  If it never reached the stand-in
# server, this marker does, so that the test fails at once instead of waiting out the
# deadline; if it did, the stand-in has what it needs and the marker changes nothing.
nudge_fake() {
	if [[ ${2:-} == udp ]]; then
		peer udp 127.0.0.1 "$1" send:NO-CLIENT send:NO-CLIENT send:NO-CLIENT >/dev/null 2>&1 || :
	else
		peer connect 127.0.0.1 "$1" send:NO-CLIENT close >/dev/null 2>&1 || :
	fi
}

# reached: the stand-in's report ($LINE) is not the marker alone: the client got there.
reached() {
	[[ $LINE != *"b'NO-CLIENT'"* ]] ||
		fail "your client never reached the stand-in server: it got only the test's NO-CLIENT marker"
}

@test "client sends 'Hello' and 'World', then closes: the server gets HelloWorld and EOF" {
	spawn fake "${PEER[@]}" serve --recvall
	expect_line fake err '^listening on 127\.0\.0\.1:([0-9]+)$'
	local port=${BASH_REMATCH[1]}
	run client --port "$port"
	assert_success
	nudge_fake "$port"
	expect_line fake out '^all '
	reached
	assert_wire "$LINE" "all b'HelloWorld'"
}

@test "client sends its arguments, in order" {
	spawn fake "${PEER[@]}" serve --recvall
	expect_line fake err '^listening on 127\.0\.0\.1:([0-9]+)$'
	local port=${BASH_REMATCH[1]}
	run client --port "$port" one 'two ' 'thrée'
	assert_success
	nudge_fake "$port"
	expect_line fake out '^all '
	reached
	assert_wire "$LINE" "all b'onetwo thr\\xc3\\xa9e'"
}

@test "client --udp sends each message as its own datagram" {
	spawn fake "${PEER[@]}" udp-serve --count 3
	expect_line fake err '^listening on 127\.0\.0\.1:([0-9]+)$'
	local port=${BASH_REMATCH[1]}
	run client --udp --port "$port" Hello World ''
	assert_success
	nudge_fake "$port" udp
	expect_line fake out '^got '
	reached
	assert_wire "$LINE" "got b'Hello'"
	expect_line fake out '^got '
	assert_wire "$LINE" "got b'World'"
	expect_line fake out '^got '
	assert_wire "$LINE" "got b''"
}

@test "client and server: HelloWorld, and Hello / World with --udp" {
	start_server
	run client --port "$PORT"
	assert_success
	received
	assert_output "Received: HelloWorld"
	start_server --udp
	run client --udp --port "$PORT"
	assert_success
	received
	assert_output "Received: Hello
Received: World"
}

@test "client with no server: a one-line error on stderr and a non-zero exit" {
	spawn fake "${PEER[@]}" serve
	expect_line fake err '^listening on 127\.0\.0\.1:([0-9]+)$'
	local port=${BASH_REMATCH[1]}
	finish fake KILL
	run --separate-stderr client --port "$port"
	assert_failure
	assert_equal "${#stderr_lines[@]}" 1
}
