/* The configuration file (/etc/macvguard/macvguard.conf). */
#ifndef MG_CONFIG_H
#define MG_CONFIG_H

#include <stdbool.h>

/* Configuration (/etc/macvguard/macvguard.conf, KEY = VALUE lines, # comments). */
struct mg_conf {
	char status_dir[256];
	char mode[16];
	bool watch_status;
};
void mg_conf_defaults(struct mg_conf *c);
/* Missing file: defaults, 0. Unknown keys or bad values: warning, ignored. */
int mg_conf_load(const char *path, struct mg_conf *c);

#endif
