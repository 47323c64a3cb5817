/* tests/bench/xml.sh helpers.
 *   xml-bench SECONDS FILE...
 *       in-process throughput: documents per second through mg_xml_sanitize()
 *       (inactive mode) over the files, for about SECONDS seconds;
 *   xml-bench --exec RUNS STDIN_FILE PROGRAM ARG...
 *       wall time per call of PROGRAM, process start included, stdin from STDIN_FILE
 *       and stdout to /dev/null (as libvirtd runs a hook): prints mean and median ms. */
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "xmlrules.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int exec_bench(int runs, const char *in, char **argv)
{
	extern char **environ;
	double *t = calloc((size_t)runs, sizeof(*t)), sum = 0;

	for (int i = -20; i < runs; i++) { /* 20 warm-up runs */
		posix_spawn_file_actions_t fa;
		pid_t pid;
		int st;
		double t0 = now();

		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(&fa, 0, in, O_RDONLY, 0);
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
		if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ))
			return 2;
		posix_spawn_file_actions_destroy(&fa);
		if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			return 1;
		if (i >= 0) {
			t[i] = (now() - t0) * 1e3;
			sum += t[i];
		}
	}
	qsort(t, (size_t)runs, sizeof(*t), cmpd);
	printf("%.3f %.3f\n", sum / runs, t[runs / 2]);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && !strcmp(argv[1], "--exec"))
		return exec_bench(atoi(argv[2]), argv[3], argv + 4);

	double secs, t0, t;
	char **buf;
	size_t *len;
	long docs = 0;
	int n = argc - 2;

	if (argc < 3)
		return 2;
	secs = atof(argv[1]);
	buf = calloc((size_t)n, sizeof(*buf));
	len = calloc((size_t)n, sizeof(*len));
	for (int i = 0; i < n; i++) {
		FILE *f = fopen(argv[i + 2], "rb");
		if (!f || fseek(f, 0, SEEK_END))
			return 2;
		len[i] = (size_t)ftell(f);
		rewind(f);
		buf[i] = malloc(len[i] + 1);
		if (fread(buf[i], 1, len[i], f) != len[i])
			return 2;
		fclose(f);
	}
	t0 = now();
	do {
		for (int i = 0; i < n; i++) {
			struct mg_xml_result r;
			if (mg_xml_sanitize(buf[i], len[i], NULL, &r)) {
				fprintf(stderr, "%s: %s\n", argv[i + 2], r.err);
				return 1;
			}
			mg_xml_result_free(&r);
			docs++;
		}
		t = now() - t0;
	} while (t < secs);
	printf("%.0f\n", docs / t);
	return 0;
}
