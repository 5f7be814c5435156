/* lab-exec.c - how harness/grade starts every program under test: $LAB_BIN/server and
 * $LAB_BIN/client are two-line scripts that exec this, built by the grader when it starts.
 *
 *     lab-exec [-u UID] [-m BYTES] [-c CGROUP_PROCS]... [-t TMPDIR] -- PROGRAM ARGS...
 *
 * The test runners (bats, pytest: the grader's, as root) run it; it then, in this order:
 *   closes every file descriptor but 0, 1 and 2 (bats' fd 3, its TAP stream, included:
 *       a program cannot write a verdict, nor hold the runner's pipes open);
 *   limits the address space to BYTES (-m);
 *   joins each cgroup whose cgroup.procs file is given (-c): the submission's memory
 *       and process cap (a program cannot leave it: it is not root);
 *   sets TMPDIR (-t): the programs' own temporary directory, not the runner's;
 *   takes the uid UID and the gid of the same number, without supplementary groups (-u),
 *       and no_new_privs, so that no setuid program gives anything back;
 *   execs PROGRAM.
 * A failure of its own exits 125 with one line on stderr: the program never runs.
 * Standard C and Linux only: it must build wherever the grader runs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PR_SET_NO_NEW_PRIVS
#define PR_SET_NO_NEW_PRIVS 38
#endif

static void die(const char *what)
{
	fprintf(stderr, "lab-exec: %s: %s\n", what, strerror(errno));
	_exit(125);
}

/* Every descriptor above 2: close_range(2) where the kernel has it (5.9), else each one
 * /proc/self/fd lists, else every number up to the limit. */
static void close_above_2(void)
{
	DIR *d;
	struct dirent *e;
	struct rlimit rl;
	long fd, max;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0)
		return;
#endif
	d = opendir("/proc/self/fd");
	if (d) {
		int self = dirfd(d);
		int fds[4096], n = 0, i;

		while ((e = readdir(d)) && n < 4096) {
			fd = strtol(e->d_name, NULL, 10);
			if (fd > 2 && fd != self)
				fds[n++] = (int)fd;
		}
		closedir(d);
		for (i = 0; i < n; i++)
			close(fds[i]);
		if (n < 4096)
			return;
	}
	max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? (long)rl.rlim_cur
	                                                                         : 65536;
	for (fd = 3; fd < max; fd++)
		close((int)fd);
}

static void join(const char *procs)
{
	char pid[32];
	int fd = open(procs, O_WRONLY | O_CLOEXEC);
	int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());

	if (fd < 0)
		die(procs);
	if (write(fd, pid, (size_t)n) != n)
		die(procs);
	close(fd);
}

int main(int argc, char **argv)
{
	long uid = -1;
	int i = 1;

	close_above_2();
	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (i + 1 >= argc)
			break;
		if (strcmp(argv[i], "-u") == 0) {
			uid = strtol(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "-m") == 0) {
			struct rlimit rl;

			rl.rlim_cur = rl.rlim_max = strtoull(argv[++i], NULL, 10);
			if (setrlimit(RLIMIT_AS, &rl) < 0)
				die("setrlimit");
		} else if (strcmp(argv[i], "-c") == 0) {
			join(argv[++i]);
		} else if (strcmp(argv[i], "-t") == 0) {
			if (setenv("TMPDIR", argv[++i], 1) < 0)
				die("setenv");
		} else {
			break;
		}
	}
	if (i >= argc - 1 || strcmp(argv[i], "--") != 0) {
		fprintf(stderr, "usage: lab-exec [-u UID] [-m BYTES] [-c CGROUP_PROCS]... "
		                "[-t TMPDIR] -- PROGRAM ARGS...\n");
		return 125;
	}
	if (uid >= 0) {
		if (setgroups(0, NULL) < 0)
			die("setgroups");
		if (setresgid((gid_t)uid, (gid_t)uid, (gid_t)uid) < 0)
			die("setresgid");
		if (setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0)
			die("setresuid");
		if (getuid() != (uid_t)uid || geteuid() != (uid_t)uid)
			die("setresuid");
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die("no_new_privs");
	execv(argv[i + 1], argv + i + 1);
	fprintf(stderr, "lab-exec: cannot run %s: %s\n", argv[i + 1], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
