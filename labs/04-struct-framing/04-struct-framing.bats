#!/usr/bin/env bats
# 04-struct-framing.bats - lesson 04: length-prefixed JSON frames, as the contract describes them.
#
# Runs against $LAB_BIN/{server,client}: `make test-lab LAB=04 IMPL=starter` for yours.
# A frame is struct.pack('!I', N) + N bytes of json.dumps(value); peer.py's frame:TEXT step
# sends one, recvframe reads one.

load '../../harness/lab'

HELLO='{"message": "Hello, Server", "id": 1}'

# finished: wait for the (one-connection) server to exit by itself; STATUS is its status.
finished() {
	finish server
}

# --- the server, as the seed: one frame ------------------------------------------------

@test "server prints 'Received Payload: X' with X as Python prints the dict, then exits 0" {
	start_server
	run peer connect "$HOST" "$PORT" "frame:$HELLO"
	assert_success
	finished
	assert_equal "$STATUS" 0
	run output_of server out
	assert_output "Received Payload: {'message': 'Hello, Server', 'id': 1}"
}

@test "server prints lists, numbers, true/false/null and strings as Python's print does" {
	start_server
	run peer connect "$HOST" "$PORT" \
		'frame:[1, -2.5, 1e+16, true, false, null, "it\u0027s", "say \\"hi\\"", "\u00e9\\t", NaN, -Infinity]'
	finished
	run output_of server out
	assert_output "Received Payload: [1, -2.5, 1e+16, True, False, None, \"it's\", 'say \"hi\"', 'é\\t', nan, -inf]"
}

@test "server prints a top-level string bare, newlines and all" {
	start_server
	run peer connect "$HOST" "$PORT" 'frame:"two\\nlines"'
	finished
	run output_of server out
	assert_output "Received Payload: two
lines"
}

@test "server reads a frame that arrives one byte at a time" {
	start_server
	run peer connect "$HOST" "$PORT" 'bytes:\x00\x00\x00\x0c{"ok": true}'
	assert_success
	finished
	assert_equal "$STATUS" 0
	run output_of server out
	assert_output "Received Payload: {'ok': True}"
}

@test "server: a peer that closes before a whole header gets 'Received Payload: None'" {
	start_server
	run peer connect "$HOST" "$PORT" 'send:\x00\x00' close
	finished
	assert_equal "$STATUS" 0
	run output_of server out
	assert_output "Received Payload: None"
}

@test "server: a truncated payload is a one-line error and exit 1, with nothing printed" {
	start_server
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
	# Only the header comes; the server must answer by closing, not wait for 4 GiB.
	run peer connect "$HOST" "$PORT" 'send:\xff\xff\xff\xff' eof
	assert_success
	finished
	assert_equal "$STATUS" 1
	run output_of server err
	assert_equal "${#lines[@]}" 2 # the listening line, then one line of error
}

@test "server --max-frame 4294967295: a 4 GiB frame cut short is an error, not an overflow" {
	# Regression: malloc(N + 1) in 32 bits is malloc(0) for N = 0xFFFFFFFF.
	start_server --max-frame 4294967295
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
	run peer connect "$HOST" "$PORT" 'send:\x00\x00\x00\x011\x00\x00\x00\x012\x00\x00\x00\x013' \
		recvframe recvframe recvframe
	assert_success
	assert_wire "$output" "frame b'1'
frame b'2'
frame b'3'"
}

@test "server --echo closes a connection that sends invalid JSON, and serves the next one" {
	start_server --echo
	run peer connect "$HOST" "$PORT" 'frame:{oops' recvframe
	assert_success
	assert_output "eof"
	expect_stderr 'closed'
	run peer connect "$HOST" "$PORT" 'frame:"next"' recvframe
	assert_wire "$output" "frame b'\"next\"'"
}

@test "server --echo drops a client that stalls mid-frame after --timeout, then serves others" {
	start_server --echo --timeout 0.5
	spawn stalled "${PEER[@]}" connect "$HOST" "$PORT" 'send:\x00\x00' recvall
	expect_line stalled out "^recvall b''$" # the server closed it
	expect_stderr 'connection closed$'
	run peer connect "$HOST" "$PORT" 'frame:1' recvframe
	assert_wire "$output" "frame b'1'"
}

# --- the client ------------------------------------------------------------------------

# fake_server [--reply TEXT]: a stand-in server; sets FPORT.
fake_server() {
	spawn fake "${PEER[@]}" serve "$@"
	expect_line fake err '^listening on 127\.0\.0\.1:([0-9]+)$'
	FPORT=${BASH_REMATCH[1]}
}

@test "client sends the default document as one frame: 4-byte length, then json.dumps" {
	fake_server --recvall
	run client --port "$FPORT"
	assert_success
	expect_line fake out '^all '
	assert_wire "$LINE" "all b'\\x00\\x00\\x00%$HELLO'" # 37 bytes: '%' is 0x25
}

@test "client re-encodes each document as json.dumps(json.loads(text)) and sends them in order" {
	fake_server --recvall
	run client --port "$FPORT" '{"b":1,  "a" : [1.50, 1E5, "é", 1e400]}' '"x"'
	assert_success
	expect_line fake out '^all '
	assert_wire "$LINE" "all b'\\x00\\x00\\x002{\"b\": 1, \"a\": [1.5, 100000.0, \"\\\\u00e9\", Infinity]}\\x00\\x00\\x00\\x03\"x\"'"
}

@test "client refuses a document that is not JSON: exit 2, one line, nothing sent" {
	fake_server --recvall
	run --separate-stderr client --port "$FPORT" '[1]' '{nope'
	assert_equal "$status" 2
	assert_equal "${#stderr_lines[@]}" 1
	# The fake server's first (and only) connection comes from the next client.
	run client --port "$FPORT" '[2]'
	assert_success
	expect_line fake out '^all '
	assert_wire "$LINE" "all b'\\x00\\x00\\x00\\x03[2]'"
}

@test "client --echo prints each reply as 'Received Payload: X'" {
	fake_server --reply '\x00\x00\x00\x1e{"ok": true, "n": [1.5, null]}'
	run client --port "$FPORT" --echo '[1]'
	assert_success
	assert_output "Received Payload: {'ok': True, 'n': [1.5, None]}"
}

@test "client --echo: a server that closes without replying is a one-line error, exit 1" {
	fake_server --close
	run --separate-stderr client --port "$FPORT" --echo '[1]'
	assert_equal "$status" 1
	assert_equal "${#stderr_lines[@]}" 1
	assert_equal "$stderr" "client: the server closed the connection without a reply"
	expect_line fake out '^got ' # the frame went out first
	assert_wire "$LINE" "got b'\\x00\\x00\\x00\\x03[1]'"
}

@test "client and server --echo talk to each other" {
	start_server --echo
	run client --port "$PORT" --echo '{"n": 1}' '["two", 2.0]'
	assert_success
	assert_output "Received Payload: {'n': 1}
Received Payload: ['two', 2.0]"
}

@test "client and server --echo talk to each other over ::1 (IPv6)" {
	start_server_at ::1 --echo
	run client --host ::1 --port "$PORT" --echo '{"v": 6}'
	assert_success
	assert_output "Received Payload: {'v': 6}"
}
