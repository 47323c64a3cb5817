/* The guard's kernel state: loading, probing, pinning, adopting and removing it. */
#ifndef MG_STATE_H
#define MG_STATE_H

#include <stdbool.h>
#include "mg_abi.h"
#include "names.h"
#include "output.h"
#include "paths.h"
#include "util.h"

/* Size of the event ring buffer the agent creates (bpf/maps.bpf.h says 4 MiB; state.c
 * sets this before a fresh load): room for a burst of ~36,000 records. */
#define MG_EVENTS_RING_BYTES (16u << 20)

struct guard_bpf;

/* How the guard's request programs are attached: BPF LSM where it is active, else
 * fmod_ret on the security_* functions (same programs' logic), else none (flag-only). */
enum mg_attach { MG_ATTACH_NONE, MG_ATTACH_LSM, MG_ATTACH_FMODRET };
/* "none", "bpf_lsm", "fmod_ret" (JSON, metrics, journal) */
const char *mg_attach_name(unsigned attach);
/* "BPF LSM", "fmod_ret on security_netlink_send" (the state line: "enforcing via ...") */
const char *mg_attach_text(unsigned attach);

/* What the kernel can do, found by looking (BTF, lsm list) and by trying. */
struct mg_features {
	char kernel[128];
	bool btf_vmlinux;
	bool lsm_bpf_listed;        /* "bpf" in /sys/kernel/security/lsm */
	bool lsm_list_known;        /* ... which could be read (securityfs mounted) */
	char lsm_list[160];         /* the active LSM list ("" unknown) */
	char lockdown[24];          /* none|integrity|confidentiality, "" unknown */
	bool lsm_loaded;            /* the lsm/netlink_send program loaded and attached */
	bool lsm_verified;          /* ... and was seen to run on a real netlink message */
	bool expiry_attached;       /* fentry tag expiry programs attached */
	bool btf_macvtap;           /* module BTF to read macvtap queue counts */
	bool btf_tun;
	char mode_reason[256];      /* why the agent runs in the mode it runs in */
	bool delete_verified;       /* deletion-path fentry seen reporting a test deletion */
	char monitor_reason[256];   /* how deletions are monitored, and why */
	int load_errno;             /* why the kernel refused the LSM programs (0: it did not) */
	char fmodret_reason[160];   /* why fmod_ret did not take over ("" not tried or it did) */
};

struct mg_state {
	int guarded_fd;
	int counts_fd;
	int config_fd;
	int stats_fd;
	int events_fd;
	bool adopted;               /* reused the programs of an earlier agent */
	bool enforcing;             /* kernel guard active (enforce or audit decided by config) */
	unsigned attach;            /* enum mg_attach: how (MG_ATTACH_NONE when !enforcing) */
	const char *mode_source;    /* why the guard has the mode it has (mg_state_start) */
	struct guard_bpf *skel;     /* when this process loaded the programs */
	struct mg_features feat;
};

/* `run`: adopt pinned programs when they match this build, otherwise load, attach,
 * verify and pin. Falls back to maps only (flag-only) when the kernel refuses. */
int mg_state_start(struct mg_state *st, unsigned initial_mode, bool mode_given);
/* Open the pinned maps for a CLI command; prints an error and fails when the agent
 * never ran. */
int mg_state_open(struct mg_state *st);
void mg_state_close(struct mg_state *st);
/* Remove every pin (programs stop being enforced once no process holds them). */
int mg_state_unpin(void);
bool mg_state_pinned(void);
bool mg_state_lsm_pinned(void);      /* a request guard is pinned (either attachment) */
unsigned mg_state_attach_pinned(void); /* enum mg_attach of the pinned request guard */

/* Not enforcing, said so that an operator knows what to do: CAUSE (why the guard is
 * flag-only or auditing) and REMEDY (what to change), from the features the agent saw.
 * attach: how the guard is attached (enum mg_attach); mode: the current mode. Returns
 * true when enforcing (cause and remedy then describe the guard). */
bool mg_guard_explain(const struct mg_features *f, unsigned attach, unsigned mode, char *cause,
		      size_t csz, char *remedy, size_t rsz);

int mg_config_get(int config_fd, struct mg_config *cfg);
int mg_config_set_mode(int config_fd, unsigned mode);
int mg_stats_sum(int stats_fd, struct mg_stats *out);

/* Detach (false) or re-attach (true) the pinned deletion-path probes; returns how many. */
int mg_delete_probes(bool on);

#endif
