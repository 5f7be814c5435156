#!/usr/bin/env bats
# 01-tcp.bats - lesson 01, the TCP echo server and client, as the contract describes them.
#
# Runs against $LAB_BIN/{server,client}: `make test-lab LAB=01 IMPL=starter` for yours.

load '../../harness/lab'

# --- the server ----------------------------------------------------------------------

@test "server prints 'Server listening on HOST:PORT' with the port it really got" {
	start_server
	expect_stdout '^Server listening on '
	assert_equal "$LINE" "Server listening on 127.0.0.1:$PORT"
}

@test "server answers a message with 'ACK: ' followed by the same bytes" {
	start_server
	run peer connect "$HOST" "$PORT" 'send:Hello, Server' recv
	assert_success
	assert_wire "$output" "recv b'ACK: Hello, Server'"
}

@test "server prints 'Connection from (IP, PORT)' with the client's address and port" {
	start_server
	run peer connect "$HOST" "$PORT" port send:hi recv
	assert_success
	assert_line --index 0 --regexp '^port [0-9]+$'
	expect_stdout '^Connection from '
	assert_equal "$LINE" "Connection from ('127.0.0.1', ${lines[0]#port })"
}

@test "server prints 'Received: TEXT' for each chunk it receives" {
	start_server
	run peer connect "$HOST" "$PORT" 'send:Hello, Server' recv
	assert_success
	expect_stdout '^Received: '
	assert_equal "$LINE" "Received: Hello, Server"
}

@test "server answers every message of one connection, in order" {
	start_server
	run peer connect "$HOST" "$PORT" send:one recv send:two recv
	assert_success
	assert_wire "$output" "recv b'ACK: one'
recv b'ACK: two'"
	expect_stdout '^Received: '
	assert_equal "$LINE" "Received: one"
	expect_stdout '^Received: '
	assert_equal "$LINE" "Received: two"
}

@test "server closes the connection once the client has finished sending" {
	start_server
	# shut = "nothing more from me"; recvall waits for the server's close (EOF).
	run peer connect "$HOST" "$PORT" send:bye shut recvall
	assert_success
	assert_wire "$output" "recvall b'ACK: bye'"
}

@test "server serves the next client after the first one leaves" {
	start_server
	run peer connect "$HOST" "$PORT" send:first shut recvall
	assert_wire "$output" "recvall b'ACK: first'"
	run peer connect "$HOST" "$PORT" send:second shut recvall
	assert_wire "$output" "recvall b'ACK: second'"
	expect_stdout '^Connection from '
	expect_stdout '^Received: first$'
	expect_stdout '^Connection from '
	expect_stdout '^Received: second$'
}

@test "server reads at most 1024 bytes at a time: 1500 bytes get two ACKs" {
	start_server
	local a1024 a476
	printf -v a1024 '%*s' 1024 ''
	a1024=${a1024// /a}
	a476=${a1024:0:476}
	run peer connect "$HOST" "$PORT" "send:$a1024$a476" shut recvall
	assert_success
	assert_wire "$output" "recvall b'ACK: ${a1024}ACK: ${a476}'"
	expect_stdout '^Received: '
	assert_equal "$LINE" "Received: $a1024"
}

@test "server prints bytes that are not UTF-8 as \\xNN, and keeps serving" {
	start_server
	run peer connect "$HOST" "$PORT" 'send:caf\xc3\xa9 \xff\xfe!' shut recvall
	assert_success
	assert_wire "$output" "recvall b'ACK: caf\\xc3\\xa9 \\xff\\xfe!'"
	expect_stdout '^Received: '
	assert_equal "$LINE" 'Received: café \xff\xfe!'
	run peer connect "$HOST" "$PORT" send:still shut recvall
	assert_wire "$output" "recvall b'ACK: still'"
}

@test "server drops a client silent for --timeout, says 'timed out', and serves the next" {
	start_server --timeout 0.5
	spawn idle "${PEER[@]}" connect "$HOST" "$PORT" recvall
	expect_stdout '^Connection from '
	# This client waits in the backlog until the silent one is dropped.
	run peer connect "$HOST" "$PORT" send:next shut recvall
	assert_success
	assert_wire "$output" "recvall b'ACK: next'"
	expect_stderr 'timed out'
	expect_line idle out "^recvall b''$"
}

@test "server on ::1 (IPv6) prints the client as ('::1', PORT, 0, 0)" {
	start_server_at ::1
	assert_equal "$HOST" "::1"
	run peer connect ::1 "$PORT" port send:hi recv
	assert_success
	assert_equal "${lines[1]}" "recv b'ACK: hi'"
	expect_stdout '^Server listening on '
	assert_equal "$LINE" "Server listening on ::1:$PORT"
	expect_stdout '^Connection from '
	assert_equal "$LINE" "Connection from ('::1', ${lines[0]#port }, 0, 0)"
}

@test "server on :: takes IPv4 clients too, as ('::ffff:127.0.0.1', PORT, 0, 0)" {
	start_server_at ::
	run peer connect 127.0.0.1 "$PORT" port send:v4 recv
	assert_success
	assert_equal "${lines[1]}" "recv b'ACK: v4'"
	expect_stdout '^Connection from '
	assert_equal "$LINE" "Connection from ('::ffff:127.0.0.1', ${lines[0]#port }, 0, 0)"
	run peer connect ::1 "$PORT" send:v6 recv
	assert_success
	assert_equal "$output" "recv b'ACK: v6'"
}

@test "server exits 0 on SIGTERM" {
	start_server
	finish server TERM
	assert_equal "$STATUS" 0
}

@test "server exits 0 on SIGINT (Ctrl-C), even with a client connected" {
	start_server
	spawn idle "${PEER[@]}" connect "$HOST" "$PORT" send:x recv recvall
	expect_line idle out "^recv b'ACK: x'$"
	finish server INT
	assert_equal "$STATUS" 0
	# The server's exit closed the idle client's connection.
	expect_line idle out "^recvall b''$"
}

# --- the client ------------------------------------------------------------------------

# fake_server [REPLY]: a stand-in server that records what the client sends; sets FPORT.
fake_server() {
	spawn fake "${PEER[@]}" serve ${1+--reply "$1"}
	expect_line fake err '^listening on 127\.0\.0\.1:([0-9]+)$'
	FPORT=${BASH_REMATCH[1]}
}

@test "client sends 'Hello, Server' and prints 'Server replied: TEXT'" {
	fake_server 'ACK: Hello, Server'
	run client --port "$FPORT"
	assert_success
	assert_output 'Server replied: ACK: Hello, Server'
	expect_line fake out '^got '
	assert_wire "$LINE" "got b'Hello, Server'"
}

@test "client closes the connection after the reply" {
	fake_server 'ok'
	run client --port "$FPORT"
	assert_success
	assert_output 'Server replied: ok'
	expect_line fake out '^rest '
	assert_wire "$LINE" "rest b''"
}

@test "client --message sends exactly the message's bytes" {
	fake_server 'ok'
	run client --port "$FPORT" --message 'héllo, wörld'
	assert_success
	assert_output 'Server replied: ok'
	expect_line fake out '^got '
	assert_wire "$LINE" "got b'h\\xc3\\xa9llo, w\\xc3\\xb6rld'"
}

@test "client prints reply bytes that are not UTF-8 as \\xNN" {
	fake_server 'ok \xff\xc3(end)'
	run client --port "$FPORT"
	assert_success
	assert_output 'Server replied: ok \xff\xc3(end)'
}

@test "client reaches a server on ::1 (IPv6) with --host ::1" {
	spawn fake "${PEER[@]}" serve --host ::1 --reply 'ok6'
	expect_line fake err '^listening on ::1:([0-9]+)$'
	run client --host ::1 --port "${BASH_REMATCH[1]}" --message 'over v6'
	assert_success
	assert_output 'Server replied: ok6'
	expect_line fake out '^got '
	assert_wire "$LINE" "got b'over v6'"
}

@test "client and server talk to each other on localhost, whichever family it names" {
	start_server_at localhost
	run client --host localhost --port "$PORT" --message 'local'
	assert_success
	assert_output 'Server replied: ACK: local'
}

@test "client and server talk to each other" {
	start_server
	run client --port "$PORT" --message 'ping'
	assert_success
	assert_output 'Server replied: ACK: ping'
}

@test "client with no server: a one-line error on stderr and a non-zero exit" {
	fake_server
	finish fake KILL # its port is now closed
	run --separate-stderr client --port "$FPORT"
	assert_failure
	assert_equal "$output" ""
	assert_equal "${#stderr_lines[@]}" 1
}

