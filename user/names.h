/* Text names of the ABI's enums (bpf/mg_abi.h), the same in text, JSON and the journal. */
#ifndef MG_NAMES_H
#define MG_NAMES_H

#include "mg_abi.h"

const char *mg_verdict_name(unsigned v);
const char *mg_how_name(unsigned h);
const char *mg_reason_name(unsigned r);
const char *mg_action_name(unsigned a);
const char *mg_mode_name(unsigned m);
const char *mg_record_name(unsigned r);
const char *mg_path_name(unsigned p);
const char *mg_result_name(unsigned r);
const char *mg_kind_name(unsigned k);
const char *mg_source_name(unsigned s);
const char *mg_queues_name(unsigned q);
/* Why the guard was not enforcing (enum mg_unenforced), a sentence; "" for none. */
const char *mg_unenforced_name(unsigned u);
/* "enforce"/"audit" -> enum mg_mode; -1 otherwise. */
int mg_parse_mode(const char *s, unsigned *mode);
/* enum mg_kind of an rtnl_link_ops kind string ("macvtap", "tun", ...). */
unsigned mg_kind_of(const char *type);

#endif
