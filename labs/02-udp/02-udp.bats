#!/usr/bin/env bats
# 02-udp.bats - lesson 02, the UDP server and client, as the contract describes them.
#
# Runs against $LAB_BIN/{server,client}: `make test-lab LAB=02 IMPL=starter` for yours.

load '../../harness/lab'

# --- the server ----------------------------------------------------------------------

@test "server prints 'UDP Server started...' once it is ready" {
	start_server
	expect_stdout '^UDP Server started'
	assert_equal "$LINE" "UDP Server started..."
}

@test "server answers a datagram with 'Message received'" {
	start_server
	run peer udp "$HOST" "$PORT" 'send:Hello via UDP' recv
	assert_success
	assert_wire "$output" "recv b'Message received'"
}

@test "server prints 'Received TEXT from (IP, PORT)' with the sender's address and port" {
	start_server
	run peer udp "$HOST" "$PORT" port 'send:Hello via UDP' recv
	assert_success
	assert_line --index 0 --regexp '^port [0-9]+$'
	expect_stdout '^Received '
	assert_equal "$LINE" "Received Hello via UDP from ('127.0.0.1', ${lines[0]#port })"
}

@test "server keeps each datagram whole and separate: two sends, two lines, two replies" {
	start_server
	run peer udp "$HOST" "$PORT" port send:Hello send:World recv recv
	assert_success
	assert_wire "${lines[1]-}" "recv b'Message received'"
	assert_wire "${lines[2]-}" "recv b'Message received'"
	expect_stdout '^Received '
	assert_equal "$LINE" "Received Hello from ('127.0.0.1', ${lines[0]#port })"
	expect_stdout '^Received '
	assert_equal "$LINE" "Received World from ('127.0.0.1', ${lines[0]#port })"
}

@test "server sees the first 1024 bytes of a longer datagram, and still answers" {
	start_server
	local a1024
	printf -v a1024 '%*s' 1024 ''
	a1024=${a1024// /a}
	run peer udp "$HOST" "$PORT" "send:${a1024}bbbbbbbb" recv
	assert_success
	assert_wire "$output" "recv b'Message received'"
	expect_stdout '^Received '
	assert_equal "$LINE" "Received $a1024 from ${LINE##* from }"
}

@test "server answers an empty datagram too" {
	start_server
	run peer udp "$HOST" "$PORT" send: recv
	assert_success
	assert_wire "$output" "recv b'Message received'"
	expect_stdout '^Received '
	[[ $LINE =~ ^"Received  from ('127.0.0.1', "[0-9]+")"$ ]] || fail "got: $LINE"
}

@test "server prints bytes that are not UTF-8 as \\xNN, and keeps serving" {
	start_server
	run peer udp "$HOST" "$PORT" 'send:caf\xc3\xa9 \xff!' recv 'send:next' recv
	assert_success
	expect_stdout '^Received '
	[[ $LINE == 'Received café \xff! from '* ]] || fail "got: $LINE"
	expect_stdout '^Received next from '
}

@test "server exits 0 on SIGTERM" {
	start_server
	expect_stdout '^UDP Server started'
	finish server TERM
	assert_equal "$STATUS" 0
}

@test "server exits 0 on SIGINT (Ctrl-C)" {
	start_server
	finish server INT
	assert_equal "$STATUS" 0
}

@test "server on ::1 (IPv6) prints the sender as ('::1', PORT, 0, 0)" {
	start_server_at ::1
	run peer udp ::1 "$PORT" port send:v6 recv
	assert_success
	assert_wire "${lines[1]-}" "recv b'Message received'"
	expect_stdout '^Received '
	assert_equal "$LINE" "Received v6 from ('::1', ${lines[0]#port }, 0, 0)"
}

@test "server on :: takes IPv4 datagrams too, from ('::ffff:127.0.0.1', PORT, 0, 0)" {
	start_server_at ::
	run peer udp 127.0.0.1 "$PORT" port send:v4 recv
	assert_success
	assert_wire "${lines[1]-}" "recv b'Message received'"
	expect_stdout '^Received '
	assert_equal "$LINE" "Received v4 from ('::ffff:127.0.0.1', ${lines[0]#port }, 0, 0)"
}

# --- the client ------------------------------------------------------------------------

# fake_server [REPLY]: a stand-in UDP server that records the first datagram; sets FPORT.
fake_server() {
	spawn fake "${PEER[@]}" udp-serve ${1+--reply "$1"}
	expect_line fake err '^listening on 127\.0\.0\.1:([0-9]+)$'
	FPORT=${BASH_REMATCH[1]}
}

@test "client sends 'Hello via UDP' as one datagram and prints 'Response: TEXT'" {
	fake_server 'Message received'
	run client --port "$FPORT"
	assert_success
	assert_output 'Response: Message received'
	expect_line fake out '^got '
	assert_wire "$LINE" "got b'Hello via UDP'"
}

@test "client --message sends exactly the message's bytes" {
	fake_server 'ok'
	run client --port "$FPORT" --message 'héllo, wörld'
	assert_success
	assert_output 'Response: ok'
	expect_line fake out '^got '
	assert_wire "$LINE" "got b'h\\xc3\\xa9llo, w\\xc3\\xb6rld'"
}

@test "client prints a reply that is not UTF-8 with \\xNN" {
	fake_server 'ok \xff'
	run client --port "$FPORT"
	assert_success
	assert_output 'Response: ok \xff'
}

@test "client gives up after --timeout when no reply comes: one line on stderr, exit 1" {
	fake_server # it reads the datagram and never answers
	local t0=$EPOCHREALTIME
	run --separate-stderr client --port "$FPORT" --timeout 0.5
	local ms=$(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000 ))
	assert_equal "$status" 1
	assert_equal "$output" ""
	assert_equal "${#stderr_lines[@]}" 1
	(( ms >= 450 )) || fail "gave up after ${ms} ms, before its --timeout of 500 ms"
	expect_line fake out '^got '
}

@test "client reaches a server on ::1 (IPv6) with --host ::1" {
	spawn fake "${PEER[@]}" udp-serve --host ::1 --reply 'ok6'
	expect_line fake err '^listening on ::1:([0-9]+)$'
	run client --host ::1 --port "${BASH_REMATCH[1]}" --message 'over v6'
	assert_success
	assert_output 'Response: ok6'
	expect_line fake out '^got '
	assert_wire "$LINE" "got b'over v6'"
}

@test "client and server talk to each other" {
	start_server
	run client --port "$PORT" --message 'ping'
	assert_success
	assert_output 'Response: Message received'
	expect_stdout '^Received ping from '
}

