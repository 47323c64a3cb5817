/* The configuration file: KEY = VALUE lines, # comments (see config.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "config.h"
#include "output.h"
#include "paths.h"
#include "util.h"

void mg_conf_defaults(struct mg_conf *c)
{
	memset(c, 0, sizeof(*c));
	mg_strlcpy(c->status_dir, MG_DEFAULT_STATUS_DIR, sizeof(c->status_dir));
	mg_strlcpy(c->mode, "enforce", sizeof(c->mode));
	c->watch_status = true;
}

int mg_conf_load(const char *path, struct mg_conf *c)
{
	char line[512];
	int lineno = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f)) {
		char *k = line, *v, *e;

		lineno++;
		if ((e = strchr(k, '#')))
			*e = 0;
		while (*k == ' ' || *k == '\t')
			k++;
		for (e = k + strlen(k); e > k && (e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\t'); e--)
			e[-1] = 0;
		if (!*k)
			continue;
		v = strchr(k, '=');
		if (!v) {
			mg_warn("%s:%d: expected KEY = VALUE, ignored", path, lineno);
			continue;
		}
		*v++ = 0;
		for (e = k + strlen(k); e > k && (e[-1] == ' ' || e[-1] == '\t'); e--)
			e[-1] = 0;
		while (*v == ' ' || *v == '\t')
			v++;
		if (!strcmp(k, "status_dir")) {
			if (v[0] != '/' || strlen(v) >= sizeof(c->status_dir))
				mg_warn("%s:%d: status_dir must be an absolute path", path, lineno);
			else
				mg_strlcpy(c->status_dir, v, sizeof(c->status_dir));
		} else if (!strcmp(k, "mode")) {
			if (strcmp(v, "enforce") && strcmp(v, "audit"))
				mg_warn("%s:%d: mode must be enforce or audit", path, lineno);
			else
				mg_strlcpy(c->mode, v, sizeof(c->mode));
		} else if (!strcmp(k, "watch_status")) {
			int b = mg_parse_bool(v);
			if (b < 0)
				mg_warn("%s:%d: watch_status must be yes or no", path, lineno);
			else
				c->watch_status = b;
		} else {
			mg_warn("%s:%d: unknown key '%s', ignored", path, lineno, k);
		}
	}
	fclose(f);
	return 0;
}
