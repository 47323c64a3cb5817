/* Shared helpers of the macvguard binary: messages, names of ABI values, JSON output. */
#ifndef MG_COMMON_H
#define MG_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>
#include "mg_abi.h"

#define MG_RUN_DIR     "/run/macvguard"
#define MG_PIDFILE     MG_RUN_DIR "/agent.pid"
#define MG_STATUSFILE  MG_RUN_DIR "/status.json"

extern bool mg_json;      /* -j: JSON output */
extern bool mg_verbose;   /* -v */

void mg_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

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
int mg_parse_mode(const char *s, unsigned *mode);
/* enum mg_kind of an rtnl_link_ops kind string ("macvtap", "tun", ...). */
unsigned mg_kind_of(const char *type);

/* Bounded copy that always terminates. */
void mg_strlcpy(char *dst, const char *src, size_t size);
/* uuid text <-> 16 bytes; format gives "" for the all-zero uuid. */
int mg_uuid_parse(const char *s, uint8_t out[16]);
void mg_uuid_format(const uint8_t in[16], char out[37]);
/* CLOCK_BOOTTIME ns -> CLOCK_REALTIME ns, and an ISO-8601 text for it. */
uint64_t mg_boot_to_real(uint64_t boot_ns);
void mg_format_time(uint64_t real_ns, char *out, size_t size);
uint64_t mg_now_real_ns(void);

/* Start time of a process in clock ticks since boot (/proc/PID/stat field 22);
 * 0 when the process does not exist. */
uint64_t mg_proc_start_ticks(uint32_t pid);
bool mg_proc_alive(uint32_t pid, uint64_t start_ticks);

/* Print a JSON value on stdout (one line), and free it. */
void mg_json_print(json_object *obj);

/* Parse an unsigned decimal; false on anything else. */
bool mg_parse_u32(const char *s, uint32_t *out);

#endif
