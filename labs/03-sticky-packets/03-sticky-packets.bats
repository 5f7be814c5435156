#!/usr/bin/env bats
# 03-sticky-packets.bats - lesson 03: TCP merges and splits messages, UDP keeps them apart.
#
# Runs against $LAB_BIN/{server,client}: `make test-lab LAB=03 IMPL=starter` for yours.
# The server waits --delay (default 0.2 s) after accepting, so that every message has
# arrived before its first recv(): what it prints then depends only on --bufsize.
# Each `likely` names the mistake that would make the next steps fail (harness/lab.bash);
# harness/tests/mutants/ holds a solution with each of them, and checks that it fails.

load '../../harness/lab'

START_CAUSE="main() in server.c (given) listens and announces: a server that does not start has crashed or exited early; see its stderr below"
STREAM_CAUSE="serve_stream() in server.c: accept, pause_for(delay), then recv() up to bufsize bytes (not sizeof buf: buf is a pointer, 8 bytes) until recv() returns 0, printing each chunk as \"Received: TEXT\""
UDP_CAUSE="serve_datagrams() in server.c: poll() until the first datagram is there, pause_for(delay), make the socket non-blocking (O_NONBLOCK), then one recv() of bufsize bytes per datagram until it fails with EAGAIN, and return 0"

# received: the server's stdout once it has exited by itself (it serves one connection).
received() {
	finish server
	((STATUS != 137)) || fail "the server did not exit by itself within ${DEADLINE}s: it had to be killed"
	assert_equal "$STATUS" 0
	run output_of server out
}

# --- the server ----------------------------------------------------------------------

@test "server: two sends, 'Hello' and 'World', arrive as one chunk: 'Received: HelloWorld'" {
	start_server
	likely "$STREAM_CAUSE"
	run peer connect "$HOST" "$PORT" send:Hello send:World close
	assert_success
	received
	assert_output "Received: HelloWorld"
}

@test "server --bufsize 3: the same bytes split where the reads fall: Hel, loW, orl, d" {
	start_server --bufsize 3
	likely "$STREAM_CAUSE"
	run peer connect "$HOST" "$PORT" send:Hello send:World close
	received
	assert_output "Received: Hel
Received: loW
Received: orl
Received: d"
}

@test "server: one send split into many reads, many sends merged into one read" {
	start_server --bufsize 4
	likely "$STREAM_CAUSE"
	run peer connect "$HOST" "$PORT" send:a send:b send:c send:defghij close
	received
	assert_output "Received: abcd
Received: efgh
Received: ij"
}

@test "server exits 0 by itself once the client has closed, having read everything" {
	start_server
	likely "$STREAM_CAUSE"
	run peer connect "$HOST" "$PORT" send:bye close
	received
	assert_output "Received: bye"
}

@test "server prints bytes that are not UTF-8 as \\xNN" {
	start_server
	likely "serve_stream() in server.c: print each chunk with lab_print_text(), which writes each byte that is not UTF-8 as \\xNN"
	run peer connect "$HOST" "$PORT" 'send:caf\xc3\xa9 \xff' close
	received
	assert_output 'Received: café \xff'
}

@test "server drops a client silent for --timeout: 'timed out' on stderr, exit 1" {
	start_server --timeout 0.5 --delay 0.01
	likely "serve_stream() in server.c gives the connection no --timeout: lab_set_timeout(conn, timeout) after accept()"
	spawn idle "${SILENT_PEER[@]}" connect "$HOST" "$PORT" send:half recvall
	expect_line idle out "^recvall b''$"
	finish server
	likely "serve_stream() in server.c does not say \"timed out\" on stderr when recv() fails with EAGAIN or EWOULDBLOCK (the --timeout passed)"
	run output_of server err
	assert_output --partial 'timed out'
	likely "serve_stream() in server.c returns 0 after a failed recv(): a client that timed out ends the server with 1"
	assert_equal "$STATUS" 1
	likely "$STREAM_CAUSE"
	run output_of server out
	assert_output "Received: half"
}

@test "server and client over ::1 (IPv6): HelloWorld" {
	start_server_at ::1
	likely "$STREAM_CAUSE"
	run client --host ::1 --port "$PORT"
	assert_success
	received
	assert_output "Received: HelloWorld"
}

@test "server --udp: two datagrams stay two messages: Hello, then World" {
	start_server --udp
	likely "$UDP_CAUSE"
	run peer udp "$HOST" "$PORT" send:Hello send:World
	assert_success
	received
	assert_output "Received: Hello
Received: World"
}

@test "server --udp --bufsize 3: each datagram is cut, never merged: Hel, Wor" {
	start_server --udp --bufsize 3
	likely "$UDP_CAUSE"
	run peer udp "$HOST" "$PORT" send:Hello send:World
	received
	assert_output "Received: Hel
Received: Wor"
}

@test "server --udp: an empty datagram is a message too: 'Received: '" {
	start_server --udp
	likely "serve_datagrams() in server.c stops at an empty datagram (recv() returned 0): over UDP that is a message; only EAGAIN says that none is left"
	run peer udp "$HOST" "$PORT" send:Hello send: send:World
	assert_success
	received
	assert_output "Received: Hello
Received: 
Received: World"
}

@test "server exits 0 on SIGTERM while it serves a client" {
	start_server --delay 0.01
	likely "$STREAM_CAUSE"
	spawn slow "${PEER[@]}" connect "$HOST" "$PORT" send:partial recvall
	expect_stdout '^Received: partial$' # it read; the client has not closed yet
	finish server TERM
	assert_equal "$STATUS" 0
}

# --- the client ------------------------------------------------------------------------

# nudge PORT [udp]: the client under test has exited.  If it never reached the stand-in
# server, this marker does, so that the test fails at once instead of waiting out the
# deadline; if it did, the stand-in has what it needs and the marker changes nothing.
nudge() {
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
	spawn standin "${PEER[@]}" serve --recvall
	expect_line standin err '^listening on 127\.0\.0\.1:([0-9]+)$'
	local port=${BASH_REMATCH[1]}
	likely "main() in client.c: xconnect() over TCP, send each message's bytes with lab_writen() and nothing between them (no newline, no space), then close()"
	run client --port "$port"
	assert_success
	nudge "$port"
	expect_line standin out '^all '
	reached
	assert_wire "$LINE" "all b'HelloWorld'"
}

@test "client sends its arguments, in order" {
	spawn standin "${PEER[@]}" serve --recvall
	expect_line standin err '^listening on 127\.0\.0\.1:([0-9]+)$'
	local port=${BASH_REMATCH[1]}
	likely "main() in client.c: send messages[0] to messages[count - 1], the positional arguments, in order, each exactly"
	run client --port "$port" one 'two ' 'thrée'
	assert_success
	nudge "$port"
	expect_line standin out '^all '
	reached
	assert_wire "$LINE" "all b'onetwo thr\\xc3\\xa9e'"
}

@test "client --udp sends each message as its own datagram" {
	spawn standin "${PEER[@]}" udp-serve --count 3
	expect_line standin err '^listening on 127\.0\.0\.1:([0-9]+)$'
	local port=${BASH_REMATCH[1]}
	likely "main() in client.c: with --udp, xconnect() a SOCK_DGRAM socket and send() each message once: one datagram each, and an empty message is an empty datagram (lab_writen() sends nothing for 0 bytes)"
	run client --udp --port "$port" Hello World ''
	assert_success
	nudge "$port" udp
	expect_line standin out '^got '
	reached
	assert_wire "$LINE" "got b'Hello'"
	expect_line standin out '^got '
	assert_wire "$LINE" "got b'World'"
	expect_line standin out '^got '
	assert_wire "$LINE" "got b''"
}

@test "client and server: HelloWorld, and Hello / World with --udp" {
	start_server
	likely "client.c or server.c: the tests above of each program alone say which part"
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
	spawn standin "${PEER[@]}" serve
	expect_line standin err '^listening on 127\.0\.0\.1:([0-9]+)$'
	local port=${BASH_REMATCH[1]}
	finish standin KILL
	likely "main() in client.c must call xconnect(), which says why on stderr and exits 1 when nothing listens"
	run --separate-stderr client --port "$port"
	assert_failure
	assert_equal "${#stderr_lines[@]}" 1
}
