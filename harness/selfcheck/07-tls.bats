#!/usr/bin/env bats
# harness/selfcheck/07-tls.bats - the self-check of lesson 07's given code: what the starter
# hands out complete (server.c and client.c: flag parsing, usage, the required flags), not the
# learner's work (tls.c).
# `make test` runs it on the solutions and on the untouched starters; the board, `make test-lab`
# and the grader do not count it.

load '../lab'

@test "server --help prints the usage on stdout and exits 0" {
	run --separate-stderr "$LAB_BIN/server" --help
	assert_success
	assert_output --partial 'usage:'
	for flag in --port --cert --key --require-client-cert --ca --timeout; do
		assert_output --partial "$flag"
	done
	assert_output --partial '65443'
}

@test "server without --cert or --key: one line and the usage on stderr, exit 2" {
	for args in '' '--cert c.pem' '--key k.pem'; do
		# shellcheck disable=SC2086 # split the flag from its value
		run --separate-stderr timeout "$DEADLINE" "$LAB_BIN/server" --port 0 $args
		assert_equal "$status ($args)" "2 ($args)"
		assert_equal "$output" ""
		[[ ${stderr_lines[0]} == *'--cert and --key are required'* ]] || fail "got: ${stderr_lines[0]}"
		[[ $stderr == *usage:* ]] || fail "no usage on stderr for '$args': $stderr"
	done
}

@test "server: --require-client-cert and --ca only together, else exit 2" {
	for args in '--require-client-cert' '--ca ca.pem'; do
		# shellcheck disable=SC2086
		run --separate-stderr timeout "$DEADLINE" "$LAB_BIN/server" --port 0 --cert c --key k $args
		assert_equal "$status ($args)" "2 ($args)"
		[[ ${stderr_lines[0]} == *'go together'* ]] || fail "got: ${stderr_lines[0]}"
	done
}

@test "server rejects an unknown flag, a bad port or a bad --timeout with the usage and exit 2" {
	for bad in '--bogus' '--port 70000' '--timeout 0' '--port'; do
		# shellcheck disable=SC2086
		run --separate-stderr timeout "$DEADLINE" "$LAB_BIN/server" --cert c --key k $bad
		assert_equal "$status ($bad)" "2 ($bad)"
		assert_equal "$output" ""
		[[ $stderr == *usage:* ]] || fail "no usage on stderr for '$bad': $stderr"
	done
}

@test "client --help prints the usage on stdout and exits 0" {
	run --separate-stderr "$LAB_BIN/client" --help
	assert_success
	for flag in --message --ca --servername --client-cert --client-key --timeout; do
		assert_output --partial "$flag"
	done
}

@test "client without --ca, or with half of a client certificate: exit 2" {
	run --separate-stderr client
	assert_equal "$status" 2
	[[ ${stderr_lines[0]} == *'--ca is required'* ]] || fail "got: ${stderr_lines[0]}"
	run --separate-stderr client --ca ca.pem --client-cert c.pem
	assert_equal "$status" 2
	[[ ${stderr_lines[0]} == *'go together'* ]] || fail "got: ${stderr_lines[0]}"
	run --separate-stderr client --ca ca.pem --bogus
	assert_equal "$status" 2
	[[ $stderr == *usage:* ]] || fail "no usage on stderr: $stderr"
}

@test "make-certs makes the CA and the certificates the lesson uses, and no key for others" {
	run "$LAB_ROOT/labs/07-tls/make-certs" "$BATS_TEST_TMPDIR/certs"
	assert_success
	for name in ca ca2 server client expired other stranger; do
		[[ -s $BATS_TEST_TMPDIR/certs/$name.pem && -s $BATS_TEST_TMPDIR/certs/$name.key ]] ||
			fail "no $name.pem and $name.key"
		[[ $(stat -c %a "$BATS_TEST_TMPDIR/certs/$name.key") == 600 ]] || fail "$name.key is not 600"
	done
	run openssl verify -CAfile "$BATS_TEST_TMPDIR/certs/ca.pem" "$BATS_TEST_TMPDIR/certs/server.pem"
	assert_success
	run openssl x509 -in "$BATS_TEST_TMPDIR/certs/server.pem" -noout -ext subjectAltName
	assert_output --partial 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1'
	run openssl verify -CAfile "$BATS_TEST_TMPDIR/certs/ca.pem" "$BATS_TEST_TMPDIR/certs/expired.pem"
	assert_failure
	assert_output --partial 'expired'
}
