#!/usr/bin/env bats
# harness/selfcheck/02-udp.bats - the self-check of lesson 02's given code: what the starter
# hands out complete (flag parsing, usage), not the learner's work.
# `make test` runs it on the solutions and on the untouched starters; the board, `make test-lab`
# and the grader do not count it.

load '../lab'

@test "server rejects an unknown flag or a bad port with the usage and exit 2" {
	for bad in '--bogus' '--port 65536' '--port x'; do
		# shellcheck disable=SC2086 # split the flag from its value
		run --separate-stderr timeout "$DEADLINE" "$LAB_BIN/server" $bad
		assert_equal "$status ($bad)" "2 ($bad)"
		[[ $stderr == *usage:* ]] || fail "no usage on stderr for '$bad': $stderr"
	done
}

@test "client rejects an unknown flag or a bad --timeout with the usage and exit 2" {
	for bad in '--bogus' '--timeout 0' '--timeout soon'; do
		# shellcheck disable=SC2086
		run --separate-stderr client $bad
		assert_equal "$status ($bad)" "2 ($bad)"
		[[ $stderr == *usage:* ]] || fail "no usage on stderr for '$bad': $stderr"
	done
}
