#!/usr/bin/env bats
# harness/selfcheck/04-struct-framing.bats - the self-check of lesson 04's given code: what the starter
# hands out complete (flag parsing, usage), not the learner's work.
# `make test` runs it on the solutions and on the untouched starters; the board, `make test-lab`
# and the grader do not count it.

load '../lab'

@test "server rejects a bad --max-frame or --timeout with the usage and exit 2" {
	for bad in '--max-frame x' '--max-frame 4294967296' '--timeout 0' '--bogus'; do
		# shellcheck disable=SC2086
		run --separate-stderr timeout "$DEADLINE" "$LAB_BIN/server" $bad
		assert_equal "$status ($bad)" "2 ($bad)"
		[[ $stderr == *usage:* ]] || fail "no usage on stderr for '$bad': $stderr"
	done
}

@test "server --echo exits 0 on SIGTERM" {
	start_server --echo
	finish server TERM
	assert_equal "$STATUS" 0
}
