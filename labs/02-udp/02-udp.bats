#!/usr/bin/env bats
# 02-udp.bats - lesson 02, the UDP server and client, as the contract describes them.
#
# Runs against $LAB_BIN/{server,client}: `make test-lab LAB=02 IMPL=starter` for yours.
# Each `likely` names the mistake that would make the next steps fail (harness/lab.bash);
# harness/tests/mutants/ holds a solution with each of them, and checks that it fails.

load '../../harness/lab'

START_CAUSE="open_bound() or main() in server.c: the server must bind a SOCK_DGRAM socket, then call lab_announce() (the 'listening on HOST:PORT' line on stderr) before it receives"

# --- the server ----------------------------------------------------------------------

@test "server prints 'UDP Server started...' once it is ready" {
	start_server
	likely "main() in server.c: once lab_announce() has printed its line, print \"UDP Server started...\""
	expect_stdout '^UDP Server started'
	assert_equal "$LINE" "UDP Server started..."
}

@test "server answers a datagram with 'Message received'" {
	start_server
	likely "main() in server.c: answer each datagram with sendto() of the 16 bytes \"Message received\" (sizeof counts the NUL too) to the address recvfrom() gave"
	run peer udp "$HOST" "$PORT" 'send:Hello via UDP' recv
	assert_success
	assert_wire "$output" "recv b'Message received'"
}

@test "server prints 'Received TEXT from (IP, PORT)' with the sender's address and port" {
	start_server
	likely "main() in server.c: print \"Received TEXT from ADDR\" with lab_print_line(), ADDR from lab_addr_str() of the sender (len = sizeof peer before each recvfrom())"
	run peer udp "$HOST" "$PORT" port 'send:Hello via UDP' recv
	assert_success
	assert_line --index 0 --regexp '^port [0-9]+$'
	expect_stdout '^Received '
	assert_equal "$LINE" "Received Hello via UDP from ('127.0.0.1', ${lines[0]#port })"
}

@test "server keeps each datagram whole and separate: two sends, two lines, two replies" {
	start_server
	likely "main() in server.c: one recvfrom() per datagram, each printed and answered, for ever"
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
	likely "main() in server.c: recvfrom() into a 1024-byte buffer: a longer datagram is cut to it (and answered), not read in several calls"
	run peer udp "$HOST" "$PORT" "send:${a1024}bbbbbbbb" recv
	assert_success
	assert_wire "$output" "recv b'Message received'"
	expect_stdout '^Received '
	assert_equal "$LINE" "Received $a1024 from ${LINE##* from }"
}

@test "server answers an empty datagram too" {
	start_server
	likely "main() in server.c skips an empty datagram (recvfrom() returned 0): over UDP it is a message like any other: print it and answer it"
	# The empty one first, then a marker: the first line printed must be the empty one's.
	spawn sender "${PEER[@]}" udp "$HOST" "$PORT" send: send:marker recv recv
	expect_stdout '^Received '
	[[ $LINE =~ ^"Received  from ('127.0.0.1', "[0-9]+")"$ ]] || fail "the first line is not the empty datagram's: $LINE"
	expect_line sender out '^recv '
	assert_wire "$LINE" "recv b'Message received'"
	expect_line sender out '^recv '
	assert_wire "$LINE" "recv b'Message received'"
}

@test "server prints bytes that are not UTF-8 as \\xNN, and keeps serving" {
	start_server
	likely "main() in server.c: print the text with lab_print_line(), which writes each byte that is not UTF-8 as \\xNN"
	run peer udp "$HOST" "$PORT" 'send:caf\xc3\xa9 \xff!' recv 'send:next' recv
	assert_success
	expect_stdout '^Received '
	[[ $LINE == 'Received café \xff! from '* ]] || fail "got: $LINE"
	expect_stdout '^Received next from '
}

@test "server exits 0 on SIGTERM" {
	start_server
	likely "main() in server.c: lab_catch_signals() first (given), then a plain for (;;) around recvfrom(): the signal ends the program with 0"
	expect_stdout '^UDP Server started'
	finish server TERM
	assert_equal "$STATUS" 0
}

@test "server exits 0 on SIGINT (Ctrl-C)" {
	start_server
	likely "main() in server.c: lab_catch_signals() first (given), then a plain for (;;) around recvfrom(): the signal ends the program with 0"
	finish server INT
	assert_equal "$STATUS" 0
}

@test "server on ::1 (IPv6) prints the sender as ('::1', PORT, 0, 0)" {
	likely "open_bound() in server.c: getaddrinfo() with AF_UNSPEC and a socket() of each address's family; main(): the sender's address in a struct sockaddr_storage"
	start_server_at ::1
	run peer udp ::1 "$PORT" port send:v6 recv
	assert_success
	assert_wire "${lines[1]-}" "recv b'Message received'"
	expect_stdout '^Received '
	assert_equal "$LINE" "Received v6 from ('::1', ${lines[0]#port }, 0, 0)"
}

@test "server on :: takes IPv4 datagrams too, from ('::ffff:127.0.0.1', PORT, 0, 0)" {
	likely "open_bound() in server.c: for an IPv6 address, setsockopt() IPV6_V6ONLY to 0 before bind(), so that a socket on :: takes IPv4 datagrams too"
	start_server_at ::
	run peer udp 127.0.0.1 "$PORT" port send:v4 recv
	assert_success
	assert_wire "${lines[1]-}" "recv b'Message received'"
	expect_stdout '^Received '
	assert_equal "$LINE" "Received v4 from ('::ffff:127.0.0.1', ${lines[0]#port }, 0, 0)"
}

# --- the client ------------------------------------------------------------------------

# standin [REPLY]: a stand-in UDP server that records the first datagram; sets FPORT.
standin() {
	spawn standin "${PEER[@]}" udp-serve ${1+--reply "$1"}
	expect_line standin err '^listening on 127\.0\.0\.1:([0-9]+)$'
	FPORT=${BASH_REMATCH[1]}
}

@test "client sends 'Hello via UDP' as one datagram and prints 'Response: TEXT'" {
	standin 'Message received'
	likely "main() in client.c: sendto() the message to the first address getaddrinfo() gives, then one recvfrom(), print it, exit 0"
	run client --port "$FPORT"
	assert_success
	likely "main() in client.c prints the reply without its prefix: the line is \"Response: \" and the bytes, lab_print_text(stdout, \"Response: \", buf, n)"
	assert_output 'Response: Message received'
	expect_line standin out '^got '
	assert_wire "$LINE" "got b'Hello via UDP'"
}

@test "client sends a 1000-byte message as one datagram" {
	standin 'ok'
	local a1000
	printf -v a1000 '%*s' 1000 ''
	a1000=${a1000// /a}
	likely "main() in client.c sends the message in pieces: over UDP each sendto() is a datagram of its own; send the whole message with one sendto()"
	run client --port "$FPORT" --message "$a1000"
	assert_success
	expect_line standin out '^got '
	assert_wire "$LINE" "got b'$a1000'"
}

@test "client sends an empty --message as an empty datagram, and prints the reply" {
	standin 'ok'
	likely "main() in client.c sends nothing for an empty message (a loop while bytes are left): over UDP it is an empty datagram, one sendto() of 0 bytes"
	run client --port "$FPORT" --message '' --timeout 1
	assert_success
	assert_output 'Response: ok'
	expect_line standin out '^got '
	assert_wire "$LINE" "got b''"
}

@test "client --message sends exactly the message's bytes" {
	standin 'ok'
	likely "main() in client.c: sendto() the strlen(message) bytes of --message, and nothing else: no NUL, no newline"
	run client --port "$FPORT" --message 'héllo, wörld'
	assert_success
	assert_output 'Response: ok'
	expect_line standin out '^got '
	assert_wire "$LINE" "got b'h\\xc3\\xa9llo, w\\xc3\\xb6rld'"
}

@test "client prints a reply that is not UTF-8 with \\xNN" {
	standin 'ok \xff'
	likely "main() in client.c: print the n bytes recvfrom() returned with lab_print_text(), which writes each byte that is not UTF-8 as \\xNN"
	run client --port "$FPORT"
	assert_success
	assert_output 'Response: ok \xff'
}

@test "client gives up after --timeout when no reply comes: one line on stderr, exit 1" {
	standin # it reads the datagram and never answers
	likely "main() in client.c waits for ever for the reply: give the socket SO_RCVTIMEO from --timeout before recvfrom(); on EAGAIN, one line on stderr and exit 1"
	local t0=$EPOCHREALTIME
	run --separate-stderr client --port "$FPORT" --timeout 0.5
	local ms=$(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000 ))
	assert_equal "$status" 1
	assert_equal "$output" ""
	assert_equal "${#stderr_lines[@]}" 1
	likely "main() in client.c: the timeval for SO_RCVTIMEO is --timeout: tv_sec its whole seconds, tv_usec the rest in microseconds"
	(( ms >= 450 )) || fail "gave up after ${ms} ms, before its --timeout of 500 ms"
	expect_line standin out '^got '
}

@test "client reaches a server on ::1 (IPv6) with --host ::1" {
	spawn standin "${PEER[@]}" udp-serve --host ::1 --reply 'ok6'
	expect_line standin err '^listening on ::1:([0-9]+)$'
	likely "main() in client.c: getaddrinfo() with AF_UNSPEC, and socket() with the family of the address it returned"
	run client --host ::1 --port "${BASH_REMATCH[1]}" --message 'over v6'
	assert_success
	assert_output 'Response: ok6'
	expect_line standin out '^got '
	assert_wire "$LINE" "got b'over v6'"
}

@test "client and server talk to each other" {
	start_server
	likely "client.c or server.c: the tests above of each program alone say which part"
	run client --port "$PORT" --message 'ping'
	assert_success
	assert_output 'Response: Message received'
	expect_stdout '^Received ping from '
}

