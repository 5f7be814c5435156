#!/usr/bin/env bats
# harness/selfcheck/06-concurrency.bats - the self-check of lesson 06's given code: what the starter
# hands out complete (flag parsing, usage, the given programs), not the learner's work.
# `make test` runs it on the solutions and on the untouched starters; the board, `make test-lab`
# and the grader do not count it.

load '../lab'

@test "server rejects an unknown --model or a bad flag with the usage and exit 2" {
	for bad in '--model threads' '--threads 0' '--bogus'; do
		# shellcheck disable=SC2086
		run --separate-stderr timeout "$DEADLINE" "$LAB_BIN/server" $bad
		assert_equal "$status ($bad)" "2 ($bad)"
		[[ $stderr == *usage:* ]] || fail "no usage on stderr for '$bad': $stderr"
	done
}

@test "client sends its message, reads until the server closes, prints 'Received: TEXT'" {
	spawn standin "${PEER[@]}" serve --reply 'PART ONE, ' --close
	expect_line standin err '^listening on 127\.0\.0\.1:([0-9]+)$'
	run client --port "${BASH_REMATCH[1]}" --message 'part one'
	assert_success
	assert_output 'Received: PART ONE, '
	expect_line standin out '^got '
	assert_wire "$LINE" "got b'part one'"
}

@test "client works against the seed's ThreadingTCPServer" {
	spawn ref "$PYTHON" -u "$HARNESS/reference/06-concurrency/server.py" --host 127.0.0.1 --port 0
	expect_line ref err '^listening on 127\.0\.0\.1:([0-9]+)$'
	run client --port "${BASH_REMATCH[1]}"
	assert_success
	assert_output 'Received: HELLO, SERVER'
}
