/* Guard events: text and JSON renderings, and the ring-buffer consumer. */
#ifndef MG_EVENTS_H
#define MG_EVENTS_H

#include <stdbool.h>
#include <stdio.h>
#include "mg_abi.h"
#include "names.h"
#include "output.h"
#include "paths.h"
#include "util.h"

struct mg_event_filter {
	const char *ifname;
	const char *domain;
	int verdict;            /* -1: any */
	const char *kind;       /* rtnl kind: macvtap, macvlan, veth, tun, tap */
};

extern bool mg_events_autoflush;   /* fflush after each record (default) */
json_object *mg_event_json(const struct mg_event *e);
void mg_event_print(FILE *out, const struct mg_event *e, bool json);
/* teardown: the domain whose libvirt teardown sent the message ("" or NULL: none known). */
void mg_event_print_td(FILE *out, const struct mg_event *e, const char *teardown, bool json);
/* The column header of the text lines (none with --wide: those label their fields). */
void mg_event_header(FILE *out);
bool mg_event_matches(const struct mg_event *e, const struct mg_event_filter *f);
/* A synthetic "lost N events" record, in the same stream. */
void mg_print_lost(FILE *out, unsigned long long n, const char *where, bool json);

#endif
