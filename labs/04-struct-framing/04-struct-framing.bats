#!/usr/bin/env bats
# 04-struct-framing.bats - lesson 04: length-prefixed JSON frames, as the contract describes them.
#
# Runs against $LAB_BIN/{server,client}: `make test-lab LAB=04 IMPL=starter` for yours.
# A frame is struct.pack('!I', N) + N bytes of json.dumps(value); peer.py's frame:TEXT step
# sends one, recvframe reads one.  Each `likely` names the mistake that would make the next
# steps fail (harness/lab.bash); harness/tests/mutants/ holds a solution with each of them,
# and checks that it fails.

load '../../harness/lab'

HELLO='{"message": "Hello, Server", "id": 1}'
START_CAUSE="server.c is given and starts as it is: a server that does not start has crashed or exited; see its stderr below"
RECV_CAUSE="frame_recv() in frame.c: the length is the 4 header bytes big-endian, header[0] the most significant (struct.pack('!I')), not 2 bytes and not little-endian; then that many bytes of payload, NUL-terminated, and return 1"
SEND_CAUSE="frame_send() in frame.c: the header is the length in 4 bytes, big-endian (len >> 24 first, as struct.pack('!I', len)), then the payload, all in one write"

# finished: wait for the (one-connection) server to exit by itself; STATUS is its status.
finished() {
	finish server
	((STATUS != 137)) || fail "the server did not exit by itself within ${DEADLINE}s: it had to be killed"
}

# --- the server, as the seed: one frame ------------------------------------------------

@test "server prints 'Received Payload: X' with X as Python prints the dict, then exits 0" {
	start_server
	likely "$RECV_CAUSE"
	run peer connect "$HOST" "$PORT" "frame:$HELLO"
	assert_success
	finished
	assert_equal "$STATUS" 0
	run output_of server out
	assert_output "Received Payload: {'message': 'Hello, Server', 'id': 1}"
}

@test "server prints lists, numbers, true/false/null and strings as Python's print does" {
	start_server
	likely "$RECV_CAUSE"
	run peer connect "$HOST" "$PORT" \
		'frame:[1, -2.5, 1e+16, true, false, null, "it\u0027s", "say \\"hi\\"", "\u00e9\\t", NaN, -Infinity]'
	finished
	run output_of server out
	assert_output "Received Payload: [1, -2.5, 1e+16, True, False, None, \"it's\", 'say \"hi\"', 'é\\t', nan, -inf]"
}

@test "server prints a top-level string bare, newlines and all" {
	start_server
	likely "$RECV_CAUSE"
	run peer connect "$HOST" "$PORT" 'frame:"two\\nlines"'
	finished
	run output_of server out
	assert_output "Received Payload: two
lines"
}

@test "server reads a frame that arrives one byte at a time" {
	start_server
	likely "frame_recvall() in frame.c stops after one recv(), or puts every recv() at the start of buf: loop until n bytes are in, each recv() at buf + have for the n - have still missing"
	# trickle: each byte is sent once the server has read the one before, so that each of
	# its recv() calls returns exactly one byte.
	run peer connect "$HOST" "$PORT" 'trickle:\x00\x00\x00\x0c{"ok": true}'
	finished
	run output_of server out
	assert_output "Received Payload: {'ok': True}"
	assert_equal "$STATUS" 0
}

@test "server reads a 1 MiB frame whole" {
	start_server
	likely "frame_recv() in frame.c: read the payload into memory that grows (twice as big each time it is full, never past N + 1), with frame_recvall() of the rest each time, until all N bytes are in"
	run peer connect "$HOST" "$PORT" bigframe:1048576 close
	# The payload is the JSON string "aaa...a": printed bare, 1048574 a's.
	local OUTPUT_MAX=$((4 << 20)) size
	finished
	assert_equal "$STATUS" 0
	size=$(stat -c %s "$BATS_TEST_TMPDIR/server.stdout")
	assert_equal "$size bytes, $(head -c 21 "$BATS_TEST_TMPDIR/server.stdout")" \
		"$((18 + 1048574 + 1)) bytes, Received Payload: aaa"
}

@test "server: a peer that closes before a whole header gets 'Received Payload: None'" {
	start_server
	likely "frame_recv() in frame.c: a peer that closed before the 4 header bytes is no error: set *len to how many came and return 0 (the seed's recv_msg returns None)"
	run peer connect "$HOST" "$PORT" 'send:\x00\x00' close
	finished
	assert_equal "$STATUS" 0
	run output_of server out
	assert_output "Received Payload: None"
}

@test "server: a truncated payload is a one-line error and exit 1, with nothing printed" {
	start_server
	likely "frame_recv() in frame.c: a payload cut short (frame_recvall() returned fewer bytes than asked) is an error: -1, and \"truncated payload: got X of N bytes\" in err"
	run peer connect "$HOST" "$PORT" 'send:\x00\x00\x00\x10{"cut": ' close
	finished
	assert_equal "$STATUS" 1
	run output_of server out
	assert_output ""
	run output_of server err
	assert_equal "${#lines[@]}" 2 # the listening line, then the error
	assert_line --index 1 --partial 'truncated payload'
}

@test "server: invalid UTF-8 and invalid JSON are one-line errors and exit 1" {
	likely "frame_recv() in frame.c: return the payload as it came, with its length in *len, and 1: server.c (given) decodes it and says what is wrong"
	for payload in '\xff\xfe' '{"a": 1,}' '' '[1] [2]'; do
		start_server
		run peer connect "$HOST" "$PORT" "frame:$payload" close
		finished
		assert_equal "$STATUS ($payload)" "1 ($payload)"
		run output_of server err
		assert_equal "${#lines[@]} ($payload)" "2 ($payload)"
		# The reason comes from the JSON decoder: frame_recv() handed it the payload.
		[[ ${lines[1]} =~ invalid\ (UTF-8|JSON) ]] || fail "($payload) not the decoder's reason: ${lines[1]}"
	done
}

@test "server refuses a 4 GiB announced length at once, without waiting for the payload" {
	start_server
	likely "frame_recv() in frame.c must refuse a length over max before it reads or allocates anything: -1, and the reason in err"
	# Only the header comes; the server must read it (read), then answer by closing, not
	# wait for 4 GiB.
	run peer connect "$HOST" "$PORT" 'send:\xff\xff\xff\xff' read eof
	assert_success
	finished
	assert_equal "$STATUS" 1
	run output_of server err
	assert_equal "${#lines[@]}" 2 # the listening line, then one line of error
}

@test "server --max-frame 4294967295: a 4 GiB frame cut short is an error, not an overflow" {
	# Regression: malloc(N + 1) in 32 bits is malloc(0) for N = 0xFFFFFFFF.
	start_server --max-frame 4294967295
	likely "frame_recv() in frame.c: count in size_t: with N = 0xFFFFFFFF, N + 1 in 32 bits is 0 (malloc(0)); and a payload cut short is \"truncated payload: got X of N bytes\""
	run peer connect "$HOST" "$PORT" 'send:\xff\xff\xff\xffsome bytes' close
	finished
	assert_equal "$STATUS" 1
	run output_of server err
	assert_equal "${#lines[@]}" 2
	assert_line --index 1 --partial 'truncated payload: got 10 of 4294967295 bytes'
}

# vm_kib PID: the process's virtual memory in KiB.  malloc'd memory counts there at once,
# even memory never touched (which its resident size would not show).
vm_kib() {
	local key value _
	while read -r key value _; do
		[[ $key == VmSize: ]] && { echo "$value"; return; }
	done <"/proc/$1/status"
}

@test "server: memory for a payload grows as its bytes arrive, not to the announced length" {
	# Within --max-frame the length is still only the peer's word (README, step 4).
	start_server --echo --max-frame 4294967295
	likely "frame_recv() in frame.c allocates what the header announces: start with min(N, FRAME_CHUNK) + 1 bytes, and grow as the bytes arrive"
	local before after
	before=$(vm_kib "$server_PID")
	# A 4 GiB header and 10 bytes of payload; "read" waits until the server has read all
	# 14 bytes, so that it has allocated whatever it allocates for them.
	spawn holder "${PEER[@]}" connect "$HOST" "$PORT" 'send:\xff\xff\xff\xff0123456789' read eof
	expect_line holder out '^read$'
	after=$(vm_kib "$server_PID")
	(( after - before < 65536 )) ||
		fail "the server's memory grew by $(( (after - before) / 1024 )) MiB for 14 bytes received"
	finish server TERM
	finish holder
}

@test "server --max-frame 10 refuses an 11-byte frame and accepts a 10-byte one" {
	start_server --max-frame 10
	likely "frame_recv() in frame.c does not refuse a length over max (--max-frame), or refuses max itself: N > max is refused, N == max is not"
	run peer connect "$HOST" "$PORT" 'frame:"123456789"' eof
	finished
	assert_equal "$STATUS" 1
	start_server --max-frame 10
	run peer connect "$HOST" "$PORT" 'frame:"12345678"' close
	finished
	assert_equal "$STATUS" 0
	run output_of server out
	assert_output "Received Payload: 12345678"
}

# --- the server with --echo ----------------------------------------------------------------

@test "server --echo answers each frame with json.dumps(json.loads(payload))" {
	start_server --echo
	likely "$SEND_CAUSE"
	run peer connect "$HOST" "$PORT" 'frame:{"b":1,  "a" : [1.50, 1E5, "é", -0]}' recvframe \
		'frame:[]' recvframe
	assert_success
	assert_wire "${lines[0]-}" "frame b'{\"b\": 1, \"a\": [1.5, 100000.0, \"\\\\u00e9\", 0]}'"
	assert_wire "${lines[1]-}" "frame b'[]'"
	expect_stdout '^Received Payload: '
	assert_equal "$LINE" "Received Payload: {'b': 1, 'a': [1.5, 100000.0, 'é', 0]}"
}

@test "server --echo answers frames that arrive together in one write, in order" {
	start_server --echo
	likely "frame_recv() in frame.c reads past its frame: ask frame_recvall() for the header's 4 bytes, then for the payload's N, so that the next frame stays in the socket"
	run peer connect "$HOST" "$PORT" 'send:\x00\x00\x00\x011\x00\x00\x00\x012\x00\x00\x00\x013' \
		recvframe recvframe recvframe
	assert_success
	assert_wire "$output" "frame b'1'
frame b'2'
frame b'3'"
}

@test "server --echo: a frame's rest and the next frame arrive together, after a pause" {
	start_server --echo
	likely "frame_recvall() in frame.c asks recv() for n bytes every time, not the n - have still missing: the rest of one frame and the start of the next arrive together, and it reads into the next"
	# read: the server has read the header and "[1, ", and waits for the rest.
	run peer connect "$HOST" "$PORT" 'send:\x00\x00\x00\x06[1, ' read 'send:2]\x00\x00\x00\x013' shut \
		recvframe recvframe
	assert_success
	assert_wire "$output" "read
frame b'[1, 2]'
frame b'3'"
}

@test "server --echo closes a connection that sends invalid JSON, and serves the next one" {
	start_server --echo
	likely "frame_recv() in frame.c: return each frame's payload with its length; server.c (given) closes a connection whose payload is not JSON"
	run peer connect "$HOST" "$PORT" 'frame:{oops' recvframe
	assert_success
	assert_output "eof"
	expect_stderr 'closed'
	run peer connect "$HOST" "$PORT" 'frame:"next"' recvframe
	assert_wire "$output" "frame b'\"next\"'"
}

@test "server --echo drops a client that stalls mid-frame after --timeout, then serves others" {
	start_server --echo --timeout 0.5
	likely "frame_recv() in frame.c: frame_recvall() failing (-1: the --timeout passed, errno EAGAIN) is an error, -1 with the reason in err"
	spawn stalled "${SILENT_PEER[@]}" connect "$HOST" "$PORT" 'send:\x00\x00' recvall
	expect_line stalled out "^recvall b''$" # the server closed it
	run peer connect "$HOST" "$PORT" 'frame:1' recvframe
	assert_wire "$output" "frame b'1'"
	# The stalled client was dropped before the next was served: its line is there already.
	likely "frame_recv() in frame.c reports the --timeout as strerror(EAGAIN): say \"timed out\" when errno is EAGAIN or EWOULDBLOCK"
	finish server TERM
	run output_of server err
	assert_output --regexp 'reading the frame header: timed out; connection closed'
}

# --- the client ------------------------------------------------------------------------

# standin [--reply TEXT]: a stand-in server; sets FPORT.
standin() {
	spawn standin "${PEER[@]}" serve "$@"
	expect_line standin err '^listening on 127\.0\.0\.1:([0-9]+)$'
	FPORT=${BASH_REMATCH[1]}
}

@test "client sends the default document as one frame: 4-byte length, then json.dumps" {
	standin --recvall
	likely "$SEND_CAUSE"
	run client --port "$FPORT"
	assert_success
	expect_line standin out '^all '
	assert_wire "$LINE" "all b'\\x00\\x00\\x00%$HELLO'" # 37 bytes: '%' is 0x25
}

@test "client re-encodes each document as json.dumps(json.loads(text)) and sends them in order" {
	standin --recvall
	likely "$SEND_CAUSE"
	run client --port "$FPORT" '{"b":1,  "a" : [1.50, 1E5, "é", 1e400]}' '"x"'
	assert_success
	expect_line standin out '^all '
	assert_wire "$LINE" "all b'\\x00\\x00\\x002{\"b\": 1, \"a\": [1.5, 100000.0, \"\\\\u00e9\", Infinity]}\\x00\\x00\\x00\\x03\"x\"'"
}

@test "client refuses a document that is not JSON: exit 2, one line, nothing sent" {
	standin --recvall
	likely "$SEND_CAUSE"
	run --separate-stderr client --port "$FPORT" '[1]' '{nope'
	assert_equal "$status" 2
	assert_equal "${#stderr_lines[@]}" 1
	# The stand-in server's first (and only) connection comes from the next client.
	run client --port "$FPORT" '[2]'
	assert_success
	expect_line standin out '^all '
	assert_wire "$LINE" "all b'\\x00\\x00\\x00\\x03[2]'"
}

@test "client --echo prints each reply as 'Received Payload: X'" {
	standin --reply '\x00\x00\x00\x1e{"ok": true, "n": [1.5, null]}'
	likely "$RECV_CAUSE"
	run client --port "$FPORT" --echo '[1]'
	assert_success
	assert_output "Received Payload: {'ok': True, 'n': [1.5, None]}"
}

@test "client --echo: a server that closes without replying is a one-line error, exit 1" {
	standin --close
	likely "frame_recv() in frame.c: at end of file before any header byte, set *len to 0 and return 0: client.c (given) says the server closed without a reply"
	run --separate-stderr client --port "$FPORT" --echo '[1]'
	assert_equal "$status" 1
	assert_equal "${#stderr_lines[@]}" 1
	assert_equal "$stderr" "client: the server closed the connection without a reply"
	expect_line standin out '^got ' # the frame went out first
	assert_wire "$LINE" "got b'\\x00\\x00\\x00\\x03[1]'"
}

@test "client and server --echo talk to each other" {
	start_server --echo
	likely "frame.c: the tests above of frame_send() and frame_recv() alone say which part"
	run client --port "$PORT" --echo '{"n": 1}' '["two", 2.0]'
	assert_success
	assert_output "Received Payload: {'n': 1}
Received Payload: ['two', 2.0]"
}

@test "client and server --echo talk to each other over ::1 (IPv6)" {
	start_server_at ::1 --echo
	likely "frame.c: the tests above of frame_send() and frame_recv() alone say which part"
	run client --host ::1 --port "$PORT" --echo '{"v": 6}'
	assert_success
	assert_output "Received Payload: {'v': 6}"
}
