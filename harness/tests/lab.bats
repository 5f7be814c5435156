#!/usr/bin/env bats
# lab.bats - harness/lab.bash's process handling, which every lab test relies on: finish's
# STATUS and LEFTOVER, and the /proc scan behind LEFTOVER on a busy machine.

load '../lab'

@test "finish: the program's exit status, and nothing left" {
	spawn prog sh -c 'echo ready; exit 3'
	expect_line prog out '^ready$'
	finish prog
	assert_equal "status $STATUS, $LEFTOVER left" "status 3, 0 left"
}

@test "finish: a child the program left running is counted in LEFTOVER, then killed" {
	spawn prog sh -c 'sleep 60 >/dev/null 2>&1 </dev/null & echo "child $!"; exit 0'
	expect_line prog out '^child [0-9]+$'
	local group=$prog_PID end=$((SECONDS + DEADLINE))
	finish prog
	assert_equal "status $STATUS, $LEFTOVER left" "status 0, 1 left"
	# finish SIGKILLed the group; the child dies as soon as it is scheduled.
	group_members "$group"
	while ((REPLY > 0 && SECONDS < end)); do group_members "$group"; done
	assert_equal "$REPLY left after finish" "0 left after finish"
}

@test "finish NAME KILL: status 137, and LEFTOVER not counted" {
	spawn prog sh -c 'echo ready; exec sleep 60'
	expect_line prog out '^ready$'
	finish prog KILL
	assert_equal "status $STATUS, [$LEFTOVER]" "status 137, []"
}

# Regression: group_members read each /proc/PID/stat with $(<file), and under bats' set -e
# bash 5.2 ended the test when a process vanished between the glob and the read.
@test "group_members survives processes that exit while it reads /proc" {
	local i pids=()
	for ((i = 0; i < 30; i++)); do
		sleep "0.0$((i % 9))" &
		pids+=($!)
	done
	for ((i = 0; i < 40; i++)); do
		group_members $$
	done
	wait "${pids[@]}"
}
