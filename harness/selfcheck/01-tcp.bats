#!/usr/bin/env bats
# harness/selfcheck/01-tcp.bats - the self-check of lesson 01's given code: what the starter
# hands out complete (flag parsing, usage), not the learner's work.
# `make test` runs it on the solutions and on the untouched starters; the board, `make test-lab`
# and the grader do not count it.

load '../lab'

@test "server --help prints the usage on stdout and exits 0" {
	run --separate-stderr "$LAB_BIN/server" --help
	assert_success
	assert_output --partial 'usage:'
	assert_output --partial '--port'
}

@test "server rejects an unknown flag or a bad port with the usage and exit 2" {
	for bad in '--bogus' '--port 70000' '--port abc' '--port'; do
		# shellcheck disable=SC2086 # split the flag from its value
		run --separate-stderr timeout "$DEADLINE" "$LAB_BIN/server" $bad
		assert_equal "$status ($bad)" "2 ($bad)"
		assert_equal "$output" ""
		[[ $stderr == *usage:* ]] || fail "no usage on stderr for '$bad': $stderr"
	done

}

@test "client rejects an unknown flag with the usage and exit 2" {
	run --separate-stderr client --bogus
	assert_equal "$status" 2
	[[ $stderr == *usage:* ]] || fail "no usage on stderr: $stderr"
}
