#!/usr/bin/env bats
# 01-tcp.bats - lesson 01, the TCP echo server and client, as the contract describes them.
#
# Runs against $LAB_BIN/{server,client}: `make test-lab LAB=01 IMPL=starter` for yours.
# Each `likely` names the mistake that would make the next steps fail (harness/lab.bash);
# harness/tests/mutants/ holds a solution with each of them, and checks that it fails.

load '../../harness/lab'

START_CAUSE="open_listener() or main() in server.c: the server must bind and listen, then call lab_announce() (the 'listening on HOST:PORT' line on stderr) before it accepts"

# --- the server ----------------------------------------------------------------------

@test "server prints 'Server listening on HOST:PORT' with the port it really got" {
	start_server
	likely "main() in server.c: print \"Server listening on HOST:PORT\" with the port lab_announce() returns (the --port given is 0)"
	expect_stdout '^Server listening on '
	assert_equal "$LINE" "Server listening on 127.0.0.1:$PORT"
}

@test "server listens on the port --port gives, not on one of its own" {
	# Registered first: a server that ignores --port fails at the start if its port is taken.
	likely "main() in server.c ignores --port (it binds 65432, or another port of its own): give getaddrinfo() the port string from the flags"
	start_server
	# For --port 0 the kernel picks a port in its ephemeral range (65432 is not in it).
	local low high
	read -r low high </proc/sys/net/ipv4/ip_local_port_range
	((PORT >= low && PORT <= high)) ||
		fail "the server was given --port 0 and listens on $PORT, not on a port the kernel chose ($low to $high)"
}

@test "server answers a message with 'ACK: ' followed by the same bytes" {
	start_server
	likely "serve() in server.c: the reply is \"ACK: \" and then the bytes recv() returned, in one send_all()"
	run peer connect "$HOST" "$PORT" 'send:Hello, Server' recv
	assert_success
	assert_wire "$output" "recv b'ACK: Hello, Server'"
}

@test "server prints 'Connection from (IP, PORT)' with the client's address and port" {
	start_server
	likely "main() in server.c: after accept(), print \"Connection from \" and lab_addr_str() of the address accept() filled in (len = sizeof peer before each call)"
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
	expect_stdout '^Connection from '
	likely "serve() in server.c prints the chunk without its prefix: each line is \"Received: \" and the bytes, lab_print_text(stdout, \"Received: \", buf, n)"
	expect_stdout '' # the line after it, whatever it is
	assert_equal "$LINE" "Received: Hello, Server"
}

@test "server answers every message of one connection, in order" {
	start_server
	likely "serve() in server.c reads once per connection: it must loop until recv() returns 0"
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
	likely "serve() in server.c must return when recv() returns 0 (the client closed its side), and main() close() the client's socket then"
	# shut = "nothing more from me"; recvall waits for the server's close (EOF).
	run peer connect "$HOST" "$PORT" send:bye shut recvall
	assert_success
	assert_wire "$output" "recvall b'ACK: bye'"
}

@test "server serves the next client after the first one leaves" {
	start_server
	run peer connect "$HOST" "$PORT" send:first shut recvall
	assert_wire "$output" "recvall b'ACK: first'"
	likely "main() in server.c closes the listening socket after the first client: close the client's socket (conn), and keep the listening one for the next accept()"
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
	likely "serve() in server.c: recv() at most BUFSIZE (1024) bytes at a time, and answer each chunk with \"ACK: \" and that chunk"
	run peer connect "$HOST" "$PORT" "send:$a1024$a476" shut recvall
	assert_success
	assert_wire "$output" "recvall b'ACK: ${a1024}ACK: ${a476}'"
	expect_stdout '^Received: '
	assert_equal "$LINE" "Received: $a1024"
}

@test "server answers and prints the bytes as they are, a NUL byte included" {
	start_server
	likely "serve() in server.c treats the data as a C string (strlen(), %s): it is the n bytes recv() returned, NULs included, with no NUL after them"
	run peer connect "$HOST" "$PORT" 'send:a\x00b' shut recvall
	assert_success
	assert_wire "$output" "recvall b'ACK: a\\x00b'"
	expect_stdout '^Received: '
	assert_equal "$LINE" "Received: ab" # bash's read drops the NUL byte itself
}

@test "server prints bytes that are not UTF-8 as \\xNN, and keeps serving" {
	start_server
	likely "serve() in server.c: print the chunk with lab_print_text(), which writes each byte that is not UTF-8 as \\xNN"
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
	spawn idle "${SILENT_PEER[@]}" connect "$HOST" "$PORT" recvall
	expect_stdout '^Connection from '
	likely "main() in server.c gives the client no --timeout (setsockopt SO_RCVTIMEO and SO_SNDTIMEO on the accepted socket), or serve() ends the server when it times out: that client is dropped, and the next one served"
	# This client waits in the backlog until the silent one is dropped.
	run peer connect "$HOST" "$PORT" send:next shut recvall
	assert_success
	assert_wire "$output" "recvall b'ACK: next'"
	expect_line idle out "^recvall b''$"
	# The silent client was dropped before the next was served: its line is there already.
	likely "serve() in server.c does not say \"timed out\" on stderr when recv() fails with EAGAIN or EWOULDBLOCK (the --timeout passed)"
	finish server TERM
	run output_of server err
	assert_output --partial 'timed out'
}

@test "server on ::1 (IPv6) prints the client as ('::1', PORT, 0, 0)" {
	likely "open_listener() in server.c: getaddrinfo() with AF_UNSPEC and a socket() of each address's family; main(): the peer address in a struct sockaddr_storage"
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
	likely "open_listener() in server.c: for an IPv6 address, setsockopt() IPV6_V6ONLY to 0 before bind(), so that a socket on :: takes IPv4 clients too"
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
	likely "main() in server.c must call lab_catch_signals() before anything else (given) and then serve: the signal ends it with 0; a loop that exits by itself, or err() on EINTR, does not"
	finish server TERM
	assert_equal "$STATUS" 0
}

@test "server exits 0 on SIGINT (Ctrl-C), even with a client connected" {
	start_server
	likely "serve() in server.c must answer the client (\"ACK: x\") before the signal comes"
	spawn idle "${PEER[@]}" connect "$HOST" "$PORT" send:x recv recvall
	expect_line idle out "^recv b'ACK: x'$"
	likely "main() in server.c must call lab_catch_signals() (given) and nothing may catch SIGINT otherwise: it ends the program with 0, wherever it waits"
	finish server INT
	assert_equal "$STATUS" 0
	# The server's exit closed the idle client's connection.
	expect_line idle out "^recvall b''$"
}

# --- the client ------------------------------------------------------------------------

# standin [REPLY]: a stand-in server that records what the client sends; sets FPORT.
standin() {
	spawn standin "${PEER[@]}" serve ${1+--reply "$1"}
	expect_line standin err '^listening on 127\.0\.0\.1:([0-9]+)$'
	FPORT=${BASH_REMATCH[1]}
}

@test "client sends 'Hello, Server' and prints 'Server replied: TEXT'" {
	standin 'ACK: Hello, Server'
	likely "main() in client.c: connect to --host and --port, send the message, then one recv() and print it, exit 0"
	run client --port "$FPORT"
	assert_success
	likely "main() in client.c prints the reply without its prefix: the line is \"Server replied: \" and the bytes, lab_print_text(stdout, \"Server replied: \", buf, n)"
	assert_output 'Server replied: ACK: Hello, Server'
	likely "main() in client.c: send every byte of the message, and nothing else"
	expect_line standin out '^got '
	assert_wire "$LINE" "got b'Hello, Server'"
}

@test "client connects to the port --port gives, not to 65432" {
	standin 'from the stand-in'
	likely "main() in client.c ignores --port (it connects to 65432): give getaddrinfo() the port string from the flags"
	run client --port "$FPORT"
	assert_success
	assert_output 'Server replied: from the stand-in'
}

@test "client closes the connection after the reply" {
	standin 'ok'
	likely "main() in client.c: connect to --host and --port, send the message, then one recv() and print it, exit 0"
	run client --port "$FPORT"
	assert_success
	assert_output 'Server replied: ok'
	likely "main() in client.c must close() its socket once it has printed the reply"
	expect_line standin out '^rest '
	assert_wire "$LINE" "rest b''"
}

@test "client --message sends exactly the message's bytes" {
	standin 'ok'
	likely "main() in client.c: send the strlen(message) bytes of --message, all of them (send() may take fewer), and nothing else: no NUL, no newline"
	run client --port "$FPORT" --message 'héllo, wörld'
	assert_success
	assert_output 'Server replied: ok'
	expect_line standin out '^got '
	assert_wire "$LINE" "got b'h\\xc3\\xa9llo, w\\xc3\\xb6rld'"
}

@test "client prints reply bytes that are not UTF-8 as \\xNN" {
	standin 'ok \xff\xc3(end)'
	likely "main() in client.c: print the n bytes recv() returned with lab_print_text(), which writes each byte that is not UTF-8 as \\xNN"
	run client --port "$FPORT"
	assert_success
	assert_output 'Server replied: ok \xff\xc3(end)'
}

@test "client reaches a server on ::1 (IPv6) with --host ::1" {
	spawn standin "${PEER[@]}" serve --host ::1 --reply 'ok6'
	expect_line standin err '^listening on ::1:([0-9]+)$'
	likely "main() in client.c: getaddrinfo() with AF_UNSPEC, and socket() with the family of the address it returned"
	run client --host ::1 --port "${BASH_REMATCH[1]}" --message 'over v6'
	assert_success
	assert_output 'Server replied: ok6'
	expect_line standin out '^got '
	assert_wire "$LINE" "got b'over v6'"
}

@test "client and server talk to each other on localhost, whichever family it names" {
	# A bare chroot (debootstrap minbase) has no /etc/hosts: "localhost" names nothing there.
	getent hosts localhost >/dev/null || skip "localhost does not resolve on this machine (no /etc/hosts entry)"
	start_server_at localhost
	likely "client.c and server.c must try every address getaddrinfo() returns, in order, until one works: localhost may be ::1 and then 127.0.0.1"
	run client --host localhost --port "$PORT" --message 'local'
	assert_success
	assert_output 'Server replied: ACK: local'
}

@test "client and server talk to each other" {
	start_server
	likely "client.c or server.c: each test above names a part; run them first"
	run client --port "$PORT" --message 'ping'
	assert_success
	assert_output 'Server replied: ACK: ping'
}

@test "client with no server: a one-line error on stderr and a non-zero exit" {
	standin
	finish standin KILL # its port is now closed
	likely "main() in client.c: when no address connects, one line on stderr (err(1, ...)) and exit 1, nothing on stdout"
	run --separate-stderr client --port "$FPORT"
	assert_failure
	assert_equal "$output" ""
	assert_equal "${#stderr_lines[@]}" 1
}
