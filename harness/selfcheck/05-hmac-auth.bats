#!/usr/bin/env bats
# harness/selfcheck/05-hmac-auth.bats - the self-check of lesson 05's given code: what the starter
# hands out complete (flag parsing, usage, the given programs), not the learner's work.
# `make test` runs it on the solutions and on the untouched starters; the board, `make test-lab`
# and the grader do not count it.

load '../lab'

@test "server prints 'Auth Server running...' and warns on stderr that the demo key is in use" {
	start_server
	expect_stdout '^Auth Server'
	assert_equal "$LINE" "Auth Server running..."
	run output_of server err
	assert_equal "${#lines[@]}" 2 # the warning and the listening line
}

@test "server rejects an unknown --digest, a missing key file or a bad flag" {
	for bad in '--digest sha1' '--timeout 0' '--bogus'; do
		# shellcheck disable=SC2086
		run --separate-stderr timeout "$DEADLINE" "$LAB_BIN/server" $bad
		assert_equal "$status ($bad)" "2 ($bad)"
	done
	run --separate-stderr timeout "$DEADLINE" "$LAB_BIN/server" --port 0 --key-file /nonexistent
	assert_equal "$status" 1
	assert_equal "${#stderr_lines[@]}" 1
}

@test "client: a challenge cut short is an error on stderr, exit 1" {
	spawn standin "${PEER[@]}" serve --greet 'only 10 b.' --close
	expect_line standin err '^listening on 127\.0\.0\.1:([0-9]+)$'
	run --separate-stderr client --port "${BASH_REMATCH[1]}"
	assert_equal "$status" 1
	assert_equal "$output" ""
	[[ $stderr == *challenge* ]] || fail "stderr does not mention the challenge: $stderr"
}

@test "server exits 0 on SIGTERM" {
	start_server
	expect_stdout '^Auth Server'
	finish server TERM
	assert_equal "$STATUS" 0
}
