/* args.c - the contract's flags and usage, and the exit-on-error wrappers for main(). */
#include "lab.h"

#include <err.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct lab_opt *find(const struct lab_opt *opts, const char *name, size_t len)
{
	for (; opts->name != NULL; opts++)
		if (strlen(opts->name) == len && strncmp(opts->name, name, len) == 0)
			return opts;
	return NULL;
}

/* Decimal digits only: strtoul alone would take " 12", "+12" and "0x1f". */
static int parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (max - (unsigned long long)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned long long)(*s - '0');
	}
	*out = v;
	return 0;
}

static int is_choice(const char *choices, const char *word)
{
	size_t len = strlen(word);
	const char *p = choices;

	while (*p != '\0') {
		size_t n = strcspn(p, "|");
		if (n == len && strncmp(p, word, len) == 0)
			return 1;
		p += n + (p[n] == '|');
	}
	return 0;
}

/* Store `val` into the option, or explain in err why it is not valid. */
static int set_value(const struct lab_opt *o, const char *val, char *err, size_t errlen)
{
	unsigned long long u;
	char *end;
	double d;

	switch (o->kind) {
	case LAB_OPT_STRING:
		*(const char **)o->value = val;
		return 0;
	case LAB_OPT_PORT:
		if (parse_uint(val, 65535, &u) < 0)
			break;
		*(const char **)o->value = val;
		return 0;
	case LAB_OPT_SECONDS:
		errno = 0;
		d = strtod(val, &end);
		if (end == val || *end != '\0' || errno != 0 || !isfinite(d) || d < 0.001 ||
		    d > 86400)
			break;
		*(double *)o->value = d;
		return 0;
	case LAB_OPT_SIZE:
		if (parse_uint(val, o->max, &u) < 0 || u < o->min)
			break;
		*(size_t *)o->value = (size_t)u;
		return 0;
	case LAB_OPT_CHOICE:
		if (!is_choice(o->choices, val))
			break;
		*(const char **)o->value = val;
		return 0;
	case LAB_OPT_FLAG:
		break;
	}
	switch (o->kind) {
	case LAB_OPT_PORT:
		snprintf(err, errlen, "%s: '%s' is not a port number (0-65535)", o->name, val);
		break;
	case LAB_OPT_SECONDS:
		snprintf(err, errlen, "%s: '%s' is not a number of seconds (0.001 to 86400)",
		         o->name, val);
		break;
	case LAB_OPT_SIZE:
		snprintf(err, errlen, "%s: '%s' is not a whole number from %zu to %zu", o->name,
		         val, o->min, o->max);
		break;
	case LAB_OPT_CHOICE:
		snprintf(err, errlen, "%s: '%s' is not one of %s", o->name, val, o->choices);
		break;
	default:
		snprintf(err, errlen, "%s: takes no value", o->name);
	}
	return -1;
}

/* An argument that starts with '-' is a flag, unless it is "-" alone or a
 * negative number (argparse's rule, so that JSON such as -1 can be given). */
static int is_flag(const char *a)
{
	return a[0] == '-' && a[1] != '\0' && !(a[1] >= '0' && a[1] <= '9');
}

/* Parse one flag at argv[*i] (moving *i past its value).  1: help, -1: error. */
static int parse_flag(int argc, char **argv, int *i, const struct lab_opt *opts, char *err,
                      size_t errlen)
{
	const char *a = argv[*i], *eq = strchr(a, '='), *val;
	const struct lab_opt *o;

	if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
		return 1;
	o = find(opts, a, eq != NULL ? (size_t)(eq - a) : strlen(a));
	if (o == NULL) {
		snprintf(err, errlen, "unknown flag %s", a);
		return -1;
	}
	if (o->kind == LAB_OPT_FLAG) {
		if (eq != NULL) {
			snprintf(err, errlen, "%s takes no value", o->name);
			return -1;
		}
		*(bool *)o->value = true;
		return 0;
	}
	if (eq != NULL) {
		val = eq + 1;
	} else if (*i + 1 < argc) {
		val = argv[++*i];
	} else {
		snprintf(err, errlen, "%s needs a value (%s)", o->name, o->arg);
		return -1;
	}
	return set_value(o, val, err, errlen);
}

int lab_parse_opts(int argc, char **argv, const struct lab_opt *opts, int *first_arg, char *err,
                   size_t errlen)
{
	char **args;
	int i, rc, nflags = 1, nargs = 0;

	/* Flags may come before, between or after the positional arguments (as
	 * with argparse); argv is reordered so that the positional ones end it. */
	if ((args = malloc((size_t)argc * sizeof *args)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) { /* the rest are positional */
			argv[nflags++] = argv[i];
			while (++i < argc)
				args[nargs++] = argv[i];
			break;
		}
		if (!is_flag(argv[i])) {
			args[nargs++] = argv[i];
			continue;
		}
		int start = i;
		if ((rc = parse_flag(argc, argv, &i, opts, err, errlen)) != 0) {
			free(args);
			return rc;
		}
		while (start <= i) /* the flag and its value, moved to the front */
			argv[nflags++] = argv[start++];
	}
	memcpy(argv + nflags, args, (size_t)nargs * sizeof *args);
	free(args);
	*first_arg = argc - nargs;
	return 0;
}

static const char *progname(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');

	return slash != NULL ? slash + 1 : argv0;
}

void lab_usage(FILE *f, const char *prog, const char *purpose, const char *args,
               const struct lab_opt *opts)
{
	const struct lab_opt *o;
	char left[64];

	fprintf(f, "usage: %s [-h]", prog);
	for (o = opts; o->name != NULL; o++)
		fprintf(f, o->arg != NULL ? " [%s %s]" : " [%s]", o->name, o->arg);
	fprintf(f, "%s%s\n%s\n\n", args != NULL ? " " : "", args != NULL ? args : "", purpose);
	for (o = opts; o->name != NULL; o++) {
		snprintf(left, sizeof left, o->arg != NULL ? "%s %s" : "%s", o->name, o->arg);
		fprintf(f, "  %-22s %s", left, o->help);
		if (o->kind == LAB_OPT_SECONDS)
			fprintf(f, " (default: %g)", *(double *)o->value);
		else if (o->kind == LAB_OPT_SIZE)
			fprintf(f, " (default: %zu)", *(size_t *)o->value);
		else if (o->kind != LAB_OPT_FLAG && *(const char **)o->value != NULL)
			fprintf(f, " (default: %s)", *(const char **)o->value);
		fputc('\n', f);
	}
	fprintf(f, "  %-22s %s\n", "-h, --help", "show this help and exit");
}

int lab_args(int argc, char **argv, const struct lab_opt *opts, const char *purpose,
             const char *args)
{
	const char *prog = progname(argc > 0 ? argv[0] : "program");
	char msg[LAB_ERRLEN], *usage = NULL;
	size_t len = 0;
	int first = argc, rc;
	FILE *f;

	/* Written now, before parsing changes the values it shows as defaults. */
	if ((f = open_memstream(&usage, &len)) == NULL)
		err(1, "open_memstream");
	lab_usage(f, prog, purpose, args, opts);
	if (fclose(f) == EOF)
		err(1, "usage");
	rc = lab_parse_opts(argc, argv, opts, &first, msg, sizeof msg);
	if (rc == 0 && args == NULL && first < argc) {
		snprintf(msg, sizeof msg, "unexpected argument '%s'", argv[first]);
		rc = -1;
	}
	if (rc == 1) {
		fputs(usage, stdout);
		exit(0);
	}
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n%s", prog, msg, usage);
		exit(2);
	}
	free(usage);
	return first;
}

int xlisten(const char *host, const char *port, int type, int backlog)
{
	char msg[LAB_ERRLEN];
	int fd;

	if ((fd = lab_listen(host, port, type, backlog, msg, sizeof msg)) < 0)
		errx(1, "%s", msg);
	if (lab_announce(fd) < 0)
		err(1, "getsockname");
	return fd;
}

int xconnect(const char *host, const char *port, int type)
{
	char msg[LAB_ERRLEN];
	int fd;

	if ((fd = lab_connect(host, port, type, msg, sizeof msg)) < 0)
		errx(1, "%s", msg);
	return fd;
}
