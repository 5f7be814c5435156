#!/usr/bin/env bats
# harness/selfcheck/03-sticky-packets.bats - the self-check of lesson 03's given code: what the starter
# hands out complete (flag parsing, usage), not the learner's work.
# `make test` runs it on the solutions and on the untouched starters; the board, `make test-lab`
# and the grader do not count it.

load '../lab'

@test "server rejects a bad --bufsize or --delay with the usage and exit 2" {
	for bad in '--bufsize 0' '--bufsize x' '--delay -1' '--delay' '--bogus'; do
		# shellcheck disable=SC2086
		run --separate-stderr timeout "$DEADLINE" "$LAB_BIN/server" $bad
		assert_equal "$status ($bad)" "2 ($bad)"
		[[ $stderr == *usage:* ]] || fail "no usage on stderr for '$bad': $stderr"
	done
}
