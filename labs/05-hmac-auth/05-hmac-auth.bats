#!/usr/bin/env bats
# 05-hmac-auth.bats - lesson 05: HMAC challenge-response, as the contract describes it.
#
# Runs against $LAB_BIN/{server,client}: `make test-lab LAB=05 IMPL=starter` for yours.
# The test peer answers challenges with Python's hmac (peer.py's challenge/answer steps);
# the client is tested against the seed's own server (harness/reference/05-hmac-auth).
# Every test that must not grant access checks that "Access Granted" never comes.  Each
# `likely` names the mistake that would make the next steps fail (harness/lab.bash);
# harness/tests/mutants/ holds a solution with each of them, and checks that it fails.

load '../../harness/lab'

REFERENCE=$HARNESS/reference/05-hmac-auth
START_CAUSE="server.c is given and starts as it is: a server that does not start has crashed or exited; see its stderr below"
AUTH_CAUSE="auth.c: auth_challenge() fills buf with RAND_bytes() and returns 0; auth_hmac() writes HMAC(key, msg) with the digest named (\"md5\" is MD5) and returns 0; auth_equal() returns 1 for equal bytes (CRYPTO_memcmp() gives 0 then), 0 for different ones"
DIGEST_CAUSE="auth_hmac() in auth.c does not use the digest it is asked for: \"md5\" is MD5 (16 bytes), \"sha256\" is SHA-256 (32 bytes), as auth_digest_size() says"

# A key file of our own; the demo key is the tutorial's.
setup() {
	KEY=$BATS_TEST_TMPDIR/key
	printf 'not the demo key\n\x00\xff' >"$KEY"
}

# refused: the peer's output shows the server closed with nothing, and said so on stdout.
refused() {
	assert_success
	assert_line --regexp "^recvall b''( reset)?$" # closed with nothing (unread bytes: a reset)
	refute_output --partial 'Access Granted'
	expect_stdout '^Client '
	[[ $LINE =~ ^"Client ('127.0.0.1', "[0-9]+") failed authentication."$ ]] || fail "got: $LINE"
}

# --- the server ----------------------------------------------------------------------

@test "server grants access to the right HMAC-MD5 (the default)" {
	start_server
	likely "$AUTH_CAUSE"
	run peer connect "$HOST" "$PORT" port challenge answer:md5 recvall
	assert_success
	assert_wire "${output##*$'\n'}" "recvall b'Access Granted'"
	expect_stdout '^Client '
	assert_equal "$LINE" "Client ('127.0.0.1', ${lines[0]#port }) authenticated successfully."
}

@test "server --digest sha256 --key-file grants access to the right HMAC-SHA256" {
	start_server --digest sha256 --key-file "$KEY"
	likely "$DIGEST_CAUSE"
	run peer connect "$HOST" "$PORT" challenge "answer:sha256:$KEY" recvall
	assert_success
	assert_wire "${output##*$'\n'}" "recvall b'Access Granted'"
	run output_of server err
	refute_output --partial 'demo key'
}

@test "server refuses the wrong key" {
	start_server --key-file "$KEY"
	likely "auth_equal() in auth.c says equal for different bytes: 1 only if all n bytes are the same (CRYPTO_memcmp() returns 0 then), else 0; or auth_hmac() ignores the key"
	run peer connect "$HOST" "$PORT" challenge answer:md5 recvall
	refused
}

@test "server refuses a digest of the wrong kind (SHA-256 to an MD5 server)" {
	start_server
	likely "$DIGEST_CAUSE"
	run peer connect "$HOST" "$PORT" challenge answer:sha256 recvall
	refused
}

@test "server refuses an answer cut short, sent and then closed" {
	start_server
	likely "$AUTH_CAUSE"
	run peer connect "$HOST" "$PORT" challenge cut:10 answer:md5 shut recvall
	refused
}

@test "server gives up on a truncated answer after --timeout, then serves the next client" {
	start_server --timeout 0.5
	likely "$AUTH_CAUSE"
	spawn stalled "${SILENT_PEER[@]}" connect "$HOST" "$PORT" challenge cut:5 answer:md5 recvall
	expect_line stalled out "^recvall b''$"
	expect_stdout 'failed authentication\.$'
	run peer connect "$HOST" "$PORT" challenge answer:md5 recvall
	assert_wire "${output##*$'\n'}" "recvall b'Access Granted'"
}

@test "server fails a client that drips its answer slower than --timeout allows in all" {
	start_server --timeout 0.5
	likely "$AUTH_CAUSE"
	# 16 bytes, one every 100 ms: every read makes progress, the whole takes 1.6 s.
	run peer connect "$HOST" "$PORT" challenge drip:100 answer:md5 recvall
	refused
}

@test "server refuses a replayed answer to an earlier challenge" {
	start_server
	likely "auth_challenge() in auth.c gives the same challenge every time: fill buf with n fresh bytes from RAND_bytes() at every call (not rand(), not once for all)"
	run peer connect "$HOST" "$PORT" challenge answer:md5 recvall reconnect \
		challenge answer-previous:md5 recvall
	assert_success
	assert_wire "${lines[1]-}" "recvall b'Access Granted'"
	assert_wire "${lines[3]-}" "recvall b''"
	expect_stdout 'authenticated successfully\.$'
	expect_stdout 'failed authentication\.$'
}

@test "server refuses the right digest followed by extra bytes" {
	start_server
	likely "$AUTH_CAUSE"
	run peer connect "$HOST" "$PORT" challenge extra:more answer:md5 recvall
	refused
}

@test "server survives a client that vanishes mid-answer, and serves the next" {
	start_server
	likely "$AUTH_CAUSE"
	run peer connect "$HOST" "$PORT" challenge cut:7 answer:md5 close
	expect_stdout 'failed authentication\.$'
	run peer connect "$HOST" "$PORT" challenge answer:md5 recvall
	assert_wire "${output##*$'\n'}" "recvall b'Access Granted'"
}

@test "server sends a new random 32-byte challenge every time" {
	start_server
	likely "auth_challenge() in auth.c gives the same challenge every time: fill buf with n fresh bytes from RAND_bytes() at every call (not rand(), not once for all)"
	local all=() i
	for i in 1 2 3 4 5 6 7 8; do
		run peer connect "$HOST" "$PORT" challenge close
		assert_output --regexp '^challenge [0-9a-f]{64}$'
		all+=("$output")
	done
	assert_equal "$(printf '%s\n' "${all[@]}" | sort -u | wc -l)" 8
}

# --- the client ------------------------------------------------------------------------

# reference_server ARGS...: the seed's server (Python); sets RPORT.
reference_server() {
	spawn ref "$PYTHON" -u "$REFERENCE/server.py" --port 0 "$@"
	expect_line ref err '^listening on 127\.0\.0\.1:([0-9]+)$'
	RPORT=${BASH_REMATCH[1]}
}

@test "client proves the demo key to the seed's server: 'Server replied: Access Granted'" {
	reference_server
	likely "auth_hmac() in auth.c: the client's answer is HMAC-MD5 of the challenge with the key, as Python's hmac.new(key, challenge, 'md5')"
	run --separate-stderr client --port "$RPORT"
	assert_success
	assert_output "Server replied: Access Granted"
	[[ $stderr == *demo* ]] || fail "no demo-key warning on stderr: $stderr"
}

@test "client --digest sha256 --key-file proves that key" {
	reference_server --digest sha256 --key-file "$KEY"
	likely "$DIGEST_CAUSE"
	run client --port "$RPORT" --digest sha256 --key-file "$KEY"
	assert_success
	assert_output "Server replied: Access Granted"
}

@test "client with the wrong key prints 'Authentication failed' and exits 1" {
	reference_server --key-file "$KEY"
	likely "$AUTH_CAUSE"
	run --separate-stderr client --port "$RPORT"
	assert_equal "$status" 1
	assert_output "Authentication failed"
}

@test "client: any other reply is printed, with exit 1" {
	spawn standin "${PEER[@]}" serve --greet '0123456789abcdef0123456789abcdef' --reply 'Go away' --close
	expect_line standin err '^listening on 127\.0\.0\.1:([0-9]+)$'
	likely "$AUTH_CAUSE"
	run --separate-stderr client --port "${BASH_REMATCH[1]}"
	assert_equal "$status" 1
	assert_output "Server replied: Go away"
}

@test "client and server talk to each other" {
	start_server --digest sha256 --key-file "$KEY"
	likely "$DIGEST_CAUSE"
	run client --port "$PORT" --digest sha256 --key-file "$KEY"
	assert_success
	assert_output "Server replied: Access Granted"
}

@test "server on :: grants an IPv4 client and prints it as ('::ffff:127.0.0.1', PORT, 0, 0)" {
	start_server_at ::
	likely "$AUTH_CAUSE"
	run peer connect 127.0.0.1 "$PORT" port challenge answer:md5 recvall
	assert_success
	assert_wire "${output##*$'\n'}" "recvall b'Access Granted'"
	expect_stdout '^Client '
	assert_equal "$LINE" "Client ('::ffff:127.0.0.1', ${lines[0]#port }, 0, 0) authenticated successfully."
}

@test "client and server talk to each other over ::1 (IPv6)" {
	start_server_at ::1 --key-file "$KEY"
	likely "$AUTH_CAUSE"
	run client --host ::1 --port "$PORT" --key-file "$KEY"
	assert_success
	assert_output "Server replied: Access Granted"
}
