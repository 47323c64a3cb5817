/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Host unit tests of the guard's netlink parsing (bpf/mg_nlparse.h) and policy
 * (bpf/mg_policy.h): crafted sendmsg batches are walked exactly as
 * bpf/guard_request.bpf.c walks them (mg_loop over mg_msg_at, mg_parse_link for every
 * mg_is_link_request message).
 *
 *   test_nlparse                      run the tests: "ok - NAME" / "not ok - NAME: detail",
 *                                     then "N passed, N failed"; exit 1 on any failure
 *   test_nlparse --write-corpus DIR   also write every batch built here into DIR (seed
 *                                     corpus of fuzz_nlparse)
 *   test_nlparse --abi-asserts        print _Static_asserts of the host layout of every
 *                                     mg_abi.h struct (compiled into a clang -target bpf
 *                                     object by tests/tests.mk: unit-abi)
 *
 * Tests named KNOWN-DIVERGENCE check the kernel's behaviour where the headers differ from
 * it; they fail until the header is fixed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "mg_abi.h"
#include "mg_nlparse.h"
#include "mg_policy.h"
#include "nl_ref.h"

/* ---- the constants the headers hard-code must be the kernel uapi's ---- */
_Static_assert(MG_NLMSG_HDRLEN == NLMSG_HDRLEN, "nlmsghdr length");
_Static_assert(MG_NLM_F_REQUEST == NLM_F_REQUEST, "NLM_F_REQUEST");
_Static_assert(MG_IFINFOMSG_LEN == sizeof(struct ifinfomsg), "ifinfomsg length");
_Static_assert(offsetof(struct ifinfomsg, ifi_index) == 4, "ifi_index offset");
_Static_assert(MG_NLA_HDRLEN == NLA_HDRLEN, "nlattr length");
_Static_assert(MG_NLA_TYPE_MASK == (uint16_t)NLA_TYPE_MASK, "NLA_TYPE_MASK (nla_type is a u16)");
_Static_assert(MG_RTM_NEWLINK == RTM_NEWLINK, "RTM_NEWLINK");
_Static_assert(MG_RTM_DELLINK == RTM_DELLINK, "RTM_DELLINK");
_Static_assert(MG_RTM_SETLINK == RTM_SETLINK, "RTM_SETLINK");
_Static_assert(MG_RTM_NEWLINKPROP == RTM_NEWLINKPROP, "RTM_NEWLINKPROP");
_Static_assert(MG_RTM_DELLINKPROP == RTM_DELLINKPROP, "RTM_DELLINKPROP");
_Static_assert(MG_AF_BRIDGE == AF_BRIDGE, "AF_BRIDGE");
_Static_assert(offsetof(struct ifinfomsg, ifi_family) == 0, "ifi_family offset");
_Static_assert(MG_IFLA_IFNAME == IFLA_IFNAME, "IFLA_IFNAME");
_Static_assert(MG_IFLA_NET_NS_PID == IFLA_NET_NS_PID, "IFLA_NET_NS_PID");
_Static_assert(MG_IFLA_GROUP == IFLA_GROUP, "IFLA_GROUP");
_Static_assert(MG_IFLA_NET_NS_FD == IFLA_NET_NS_FD, "IFLA_NET_NS_FD");
_Static_assert(MG_IFLA_TARGET_NETNSID == IFLA_TARGET_NETNSID, "IFLA_TARGET_NETNSID");
_Static_assert(MG_IFLA_ALT_IFNAME == IFLA_ALT_IFNAME, "IFLA_ALT_IFNAME");
_Static_assert(MG_IFNAMSIZ == IFNAMSIZ, "IFNAMSIZ");
_Static_assert(MG_ALTIFNAMSIZ == ALTIFNAMSIZ, "ALTIFNAMSIZ");
_Static_assert(sizeof(struct mg_msghdr) == sizeof(struct nlmsghdr), "mg_msghdr");
_Static_assert(offsetof(struct mg_msghdr, type) == offsetof(struct nlmsghdr, nlmsg_type), "type");
_Static_assert(offsetof(struct mg_msghdr, flags) == offsetof(struct nlmsghdr, nlmsg_flags), "flags");
_Static_assert(MG_LOOP_MAX == (1u << 23), "BPF_MAX_LOOPS");
_Static_assert(REF_IFLA_IFNAME == IFLA_IFNAME && REF_IFLA_ALT_IFNAME == IFLA_ALT_IFNAME &&
	       REF_IFLA_GROUP == IFLA_GROUP && REF_IFLA_NET_NS_PID == IFLA_NET_NS_PID &&
	       REF_IFLA_NET_NS_FD == IFLA_NET_NS_FD &&
	       REF_IFLA_TARGET_NETNSID == IFLA_TARGET_NETNSID, "reference model constants");

/* ---- tiny test harness ---- */
static unsigned n_pass, n_fail;
static const char *corpus_dir;
static unsigned corpus_n;

static void check(int cond, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void check(int cond, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (cond) {
		printf("ok - %s\n", name);
		n_pass++;
		return;
	}
	printf("not ok - %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	n_fail++;
}
#define CHECK(cond, name, ...) check(!!(cond), name, __VA_ARGS__)

/* ---- message builder ---- */
#define BUF_MAX (1u << 20)
struct buf {
	unsigned char *b;
	uint32_t len;
};

static void buf_init(struct buf *b)
{
	static unsigned char store[BUF_MAX];

	memset(store, 0xa5, sizeof(store));  /* garbage after the batch: must never be read */
	b->b = store;
	b->len = 0;
}

static void put(struct buf *b, const void *p, uint32_t n)
{
	if (b->len + n > BUF_MAX) {
		fprintf(stderr, "test buffer overflow\n");
		exit(2);
	}
	memcpy(b->b + b->len, p, n);
	b->len += n;
}

static void pad4(struct buf *b)
{
	static const unsigned char z[4];

	put(b, z, MG_ALIGN4(b->len) - b->len);
}

/* Starts a message: nlmsghdr (length filled in by msg_end) + ifinfomsg. Returns its offset. */
static uint32_t msg_begin(struct buf *b, uint16_t type, uint16_t flags, int32_t ifindex)
{
	struct nlmsghdr h = { .nlmsg_len = 0, .nlmsg_type = type, .nlmsg_flags = flags,
			      .nlmsg_seq = 1, .nlmsg_pid = 0 };
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	uint32_t off;

	pad4(b);
	off = b->len;
	put(b, &h, sizeof(h));
	put(b, &ifi, sizeof(ifi));
	return off;
}

/* A message with only a header (no ifinfomsg). */
static uint32_t msg_begin_bare(struct buf *b, uint16_t type, uint16_t flags)
{
	struct nlmsghdr h = { .nlmsg_type = type, .nlmsg_flags = flags };
	uint32_t off;

	pad4(b);
	off = b->len;
	put(b, &h, sizeof(h));
	return off;
}

static void set_len(struct buf *b, uint32_t off, uint32_t len)
{
	memcpy(b->b + off, &len, 4);
}

/* nlmsg_len = bytes since off (unaligned if the last attribute is); no padding added. */
static void msg_end(struct buf *b, uint32_t off)
{
	set_len(b, off, b->len - off);
}

/* An attribute with a consistent header, padded to 4 like nla_put. */
static void attr(struct buf *b, uint16_t type, const void *data, uint16_t n)
{
	struct nlattr a = { .nla_len = (uint16_t)(NLA_HDRLEN + n), .nla_type = type };

	pad4(b);
	put(b, &a, sizeof(a));
	if (n)
		put(b, data, n);
}

/* The last attribute without its padding (so nlmsg_len can be unaligned). */
static void attr_nopad(struct buf *b, uint16_t type, const void *data, uint16_t n)
{
	struct nlattr a = { .nla_len = (uint16_t)(NLA_HDRLEN + n), .nla_type = type };

	put(b, &a, sizeof(a));
	if (n)
		put(b, data, n);
}

/* An attribute header with any nla_len, followed by n payload bytes. */
static void attr_raw(struct buf *b, uint16_t nla_len, uint16_t type, const void *data,
		     uint32_t n)
{
	struct nlattr a = { .nla_len = nla_len, .nla_type = type };

	pad4(b);
	put(b, &a, sizeof(a));
	if (n)
		put(b, data, n);
}

static void attr_str(struct buf *b, uint16_t type, const char *s)
{
	attr(b, type, s, (uint16_t)(strlen(s) + 1));  /* with its NUL, as libnl does */
}

static void attr_u32(struct buf *b, uint16_t type, uint32_t v)
{
	attr(b, type, &v, 4);
}

/* ---- driving the parser the way guard_request.bpf.c does ---- */
#define MAX_LINK 256
struct walk_result {
	unsigned msgs;               /* messages the walk stepped over (OK from mg_msg_at) */
	unsigned links;              /* link requests parsed */
	int end;                     /* last mg_msg_at status (END or ERR), -1: iterations ran out */
	long iters;                  /* mg_loop's return */
	uint32_t end_off;
	uint16_t index[MAX_LINK];    /* msg_index as guard_request.bpf.c records it */
	uint32_t off[MAX_LINK];
	struct mg_linkmsg m[MAX_LINK];
};

struct walk_ctx {
	struct mg_src src;
	uint32_t msg_off;
	struct walk_result *r;
};

static long walk_step(uint32_t i, void *ctx)
{
	struct walk_ctx *c = ctx;
	struct walk_result *r = c->r;
	struct mg_msghdr h;
	uint32_t next = 0;
	int st;

	memset(&h, 0, sizeof(h));
	st = mg_msg_at(&c->src, c->msg_off, &h, &next);
	if (st != MG_MSG_OK) {
		r->end = st;
		return 1;
	}
	r->msgs++;
	if (mg_is_link_request(&h) && r->links < MAX_LINK) {
		struct mg_attr_walk aw;

		memset(&aw, 0xee, sizeof(aw));   /* parse must not depend on stale state */
		aw.src = c->src;
		mg_parse_link(&aw, c->msg_off, h.len, h.type);
		r->index[r->links] = (uint16_t)i;
		r->off[r->links] = c->msg_off;
		r->m[r->links] = aw.m;
		r->links++;
	}
	c->msg_off = next;
	return 0;
}

static void write_seed(const unsigned char *p, uint32_t n)
{
	char path[4096];
	FILE *f;

	if (!corpus_dir || n > 65536)   /* the fuzzer's -max_len */
		return;
	snprintf(path, sizeof(path), "%s/seed-%04u", corpus_dir, corpus_n++);
	f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		exit(2);
	}
	fwrite(p, 1, n, f);
	fclose(f);
}

static void walk(const unsigned char *data, uint32_t len, struct walk_result *r)
{
	struct walk_ctx c;
	uint32_t iters = len / MG_NLMSG_HDRLEN + 1;   /* as guard_request.bpf.c */

	write_seed(data, len);
	memset(r, 0, sizeof(*r));
	r->end = -1;
	c.src.base = data;
	c.src.len = len;
	c.src.user = 0;
	c.msg_off = 0;
	c.r = r;
	r->iters = mg_loop(iters, walk_step, &c);
	r->end_off = c.msg_off;
}

static void walk_buf(const struct buf *b, struct walk_result *r)
{
	walk(b->b, b->len, r);
}

/* One message batch with one link request: the parse result. */
static int one(const struct buf *b, struct mg_linkmsg *m, const char *name)
{
	static struct walk_result r;

	walk_buf(b, &r);
	if (r.links != 1 || r.end != MG_MSG_END) {
		check(0, name, "expected one link request and a clean end, got %u (end %d)",
		      r.links, r.end);
		memset(m, 0, sizeof(*m));
		return 0;
	}
	*m = r.m[0];
	return 1;
}

static int zero_tail(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	if (n == size)
		return 0;
	return 1;
}

/* ---- tests ---- */
static void t_libvirt_delete(void)
{
	struct buf b;
	struct mg_linkmsg m;
	uint32_t o;

	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, 0);
	attr_str(&b, IFLA_IFNAME, "macvtap0");
	msg_end(&b, o);
	if (!one(&b, &m, "libvirt delete: ifi_index 0 + IFLA_IFNAME"))
		return;
	CHECK(m.status == MG_PARSE_OK && m.type == RTM_DELLINK && m.ifindex == 0 &&
	      m.has_ifname && strcmp(m.ifname, "macvtap0") == 0 && !m.has_altname &&
	      !m.has_group && !m.has_netns && !m.has_target_netnsid,
	      "libvirt delete: ifi_index 0 + IFLA_IFNAME",
	      "status %u type %u ifindex %d has_ifname %u name '%s'", m.status, m.type,
	      m.ifindex, m.has_ifname, m.ifname);
	CHECK(!mg_link_changes_name(&m) && !mg_link_moves_netns(&m),
	      "libvirt delete: not a rename or move", "changes %d moves %d",
	      mg_link_changes_name(&m), mg_link_moves_netns(&m));
}

static void t_by_index(void)
{
	struct buf b;
	struct mg_linkmsg m;
	uint32_t o;

	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 42);
	msg_end(&b, o);
	if (one(&b, &m, "delete by index"))
		CHECK(m.status == MG_PARSE_OK && m.ifindex == 42 && !m.has_ifname &&
		      m.ifname[0] == 0 && !m.has_altname && !m.has_group,
		      "delete by index", "status %u ifindex %d", m.status, m.ifindex);

	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, -7);
	attr_str(&b, IFLA_IFNAME, "tap3");
	msg_end(&b, o);
	if (one(&b, &m, "negative ifi_index is kept signed"))
		CHECK(m.ifindex == -7 && m.has_ifname && strcmp(m.ifname, "tap3") == 0,
		      "negative ifi_index is kept signed", "ifindex %d", m.ifindex);

	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0x7fffffff);
	attr_str(&b, IFLA_IFNAME, "x");
	msg_end(&b, o);
	if (one(&b, &m, "ifi_index INT_MAX with a name"))
		CHECK(m.ifindex == 0x7fffffff && m.has_ifname, "ifi_index INT_MAX with a name",
		      "ifindex %d", m.ifindex);
}

static void t_altname(void)
{
	struct buf b;
	struct mg_linkmsg m;
	char name[300];
	uint32_t o;

	memset(name, 'a', sizeof(name));
	name[127] = 0;
	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0);
	attr(&b, IFLA_ALT_IFNAME, name, 128);      /* 127 chars + NUL: the kernel's maximum */
	msg_end(&b, o);
	if (one(&b, &m, "IFLA_ALT_IFNAME 127 chars"))
		CHECK(m.status == MG_PARSE_OK && m.has_altname && !m.has_ifname &&
		      strlen(m.altname) == 127 && memcmp(m.altname, name, 128) == 0,
		      "IFLA_ALT_IFNAME 127 chars", "has_altname %u len %zu", m.has_altname,
		      strnlen(m.altname, sizeof(m.altname)));

	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0);
	attr(&b, IFLA_ALT_IFNAME, name, 127);      /* 127 chars, no NUL */
	msg_end(&b, o);
	if (one(&b, &m, "IFLA_ALT_IFNAME 127 chars without NUL"))
		CHECK(m.has_altname && strlen(m.altname) == 127,
		      "IFLA_ALT_IFNAME 127 chars without NUL", "len %zu",
		      strnlen(m.altname, sizeof(m.altname)));

	memset(name, 'b', sizeof(name));
	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0);
	attr(&b, IFLA_ALT_IFNAME, name, 250);      /* too long: cut to 127, terminated */
	msg_end(&b, o);
	if (one(&b, &m, "IFLA_ALT_IFNAME 250 bytes cut to 127"))
		CHECK(m.has_altname && m.altname[127] == 0 && strlen(m.altname) == 127,
		      "IFLA_ALT_IFNAME 250 bytes cut to 127", "len %zu",
		      strnlen(m.altname, sizeof(m.altname)));

	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0);
	attr_str(&b, IFLA_ALT_IFNAME, "guest-uplink-altname");
	attr_str(&b, IFLA_IFNAME, "macvtap7");
	msg_end(&b, o);
	if (one(&b, &m, "IFLA_IFNAME and IFLA_ALT_IFNAME both seen"))
		CHECK(m.has_altname && m.has_ifname && strcmp(m.ifname, "macvtap7") == 0 &&
		      strcmp(m.altname, "guest-uplink-altname") == 0,
		      "IFLA_IFNAME and IFLA_ALT_IFNAME both seen", "'%s' '%s'", m.ifname,
		      m.altname);
}

static void t_group(void)
{
	struct buf b;
	struct mg_linkmsg m;
	uint32_t o;
	uint64_t g8 = 0x1111111100000009ull;
	uint16_t g2 = 5;

	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0);
	attr_u32(&b, IFLA_GROUP, 7);
	msg_end(&b, o);
	if (one(&b, &m, "IFLA_GROUP"))
		CHECK(m.has_group && m.group == 7 && !m.has_ifname, "IFLA_GROUP",
		      "has_group %u group %u", m.has_group, m.group);

	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0);
	attr(&b, IFLA_GROUP, &g2, 2);
	msg_end(&b, o);
	if (one(&b, &m, "IFLA_GROUP with a 2-byte payload is not taken"))
		CHECK(!m.has_group && m.status == MG_PARSE_OK,
		      "IFLA_GROUP with a 2-byte payload is not taken", "has_group %u",
		      m.has_group);

	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0);
	attr(&b, IFLA_GROUP, NULL, 0);
	msg_end(&b, o);
	if (one(&b, &m, "IFLA_GROUP with an empty payload is not taken"))
		CHECK(!m.has_group, "IFLA_GROUP with an empty payload is not taken",
		      "has_group %u", m.has_group);

	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0);
	attr(&b, IFLA_GROUP, &g8, 8);              /* liberal parse: longer is a warning */
	msg_end(&b, o);
	if (one(&b, &m, "IFLA_GROUP with an 8-byte payload: first 4 bytes"))
		CHECK(m.has_group && m.group == 9,
		      "IFLA_GROUP with an 8-byte payload: first 4 bytes", "group %u", m.group);

	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0);
	attr_u32(&b, IFLA_GROUP, 1);
	attr_u32(&b, IFLA_GROUP, 2);
	msg_end(&b, o);
	if (one(&b, &m, "repeated IFLA_GROUP: last wins"))
		CHECK(m.has_group && m.group == 2, "repeated IFLA_GROUP: last wins", "group %u",
		      m.group);
}

static void t_truncated_headers(void)
{
	struct buf b;
	struct walk_result r;
	uint32_t o, o2;

	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 3);
	msg_end(&b, o);
	walk(b.b, 15, &r);
	CHECK(r.msgs == 0 && r.links == 0 && r.end == MG_MSG_END,
	      "batch shorter than nlmsghdr: no message", "msgs %u end %d", r.msgs, r.end);
	walk(b.b, 0, &r);
	CHECK(r.msgs == 0 && r.end == MG_MSG_END && r.iters == 1, "empty batch",
	      "msgs %u end %d iters %ld", r.msgs, r.end, r.iters);

	for (uint32_t bad = 0; bad < 16; bad += 5) {
		char name[96];

		buf_init(&b);
		o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 3);
		set_len(&b, o, bad);
		o2 = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 4);
		msg_end(&b, o2);
		walk_buf(&b, &r);
		snprintf(name, sizeof(name), "nlmsg_len %u < 16 ends the walk (next message unseen)",
			 bad);
		CHECK(r.msgs == 0 && r.links == 0 && r.end == MG_MSG_END, name,
		      "msgs %u links %u end %d", r.msgs, r.links, r.end);
	}

	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 3);
	msg_end(&b, o);
	o2 = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 4);
	attr_str(&b, IFLA_IFNAME, "macvtap0");
	set_len(&b, o2, b.len - o2 + 1);           /* one byte more than is left */
	walk_buf(&b, &r);
	CHECK(r.msgs == 1 && r.links == 1 && r.m[0].ifindex == 3 && r.end == MG_MSG_END &&
	      r.end_off == o2, "nlmsg_len > bytes left ends the walk there",
	      "msgs %u links %u end %d end_off %u", r.msgs, r.links, r.end, r.end_off);

	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 3);
	set_len(&b, o, 0xffffffffu);
	walk_buf(&b, &r);
	CHECK(r.msgs == 0 && r.end == MG_MSG_END, "nlmsg_len 0xffffffff ends the walk",
	      "msgs %u end %d", r.msgs, r.end);

	/* A whole message followed by 1..15 stray bytes: the stray bytes are not a message. */
	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 3);
	msg_end(&b, o);
	put(&b, "\x40\0\0\0\x11\0\x01\0", 8);
	walk_buf(&b, &r);
	CHECK(r.msgs == 1 && r.links == 1 && r.end == MG_MSG_END,
	      "8 stray bytes after the last message are ignored", "msgs %u end %d", r.msgs,
	      r.end);
}

static void t_short(void)
{
	struct buf b;
	struct walk_result r;
	uint32_t o;

	buf_init(&b);
	o = msg_begin_bare(&b, RTM_DELLINK, NLM_F_REQUEST);
	msg_end(&b, o);
	walk_buf(&b, &r);
	CHECK(r.links == 1 && r.m[0].status == MG_PARSE_SHORT && r.m[0].type == RTM_DELLINK,
	      "DELLINK of 16 bytes (no ifinfomsg): MG_PARSE_SHORT", "links %u status %u",
	      r.links, r.links ? r.m[0].status : 99);

	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 9);
	set_len(&b, o, 31);
	walk(b.b, 31, &r);
	CHECK(r.links == 1 && r.m[0].status == MG_PARSE_SHORT,
	      "DELLINK of 31 bytes: MG_PARSE_SHORT", "links %u status %u", r.links,
	      r.links ? r.m[0].status : 99);

	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 9);
	msg_end(&b, o);
	walk_buf(&b, &r);
	CHECK(r.links == 1 && r.m[0].status == MG_PARSE_OK && r.m[0].ifindex == 9,
	      "DELLINK of exactly 32 bytes: parsed", "links %u status %u", r.links,
	      r.links ? r.m[0].status : 99);

	/* A short message does not stop the batch: the next one is still walked. */
	buf_init(&b);
	o = msg_begin_bare(&b, RTM_DELLINK, NLM_F_REQUEST);
	put(&b, "abcd", 4);
	msg_end(&b, o);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0);
	attr_str(&b, IFLA_IFNAME, "macvtap1");
	msg_end(&b, o);
	walk_buf(&b, &r);
	CHECK(r.links == 2 && r.m[0].status == MG_PARSE_SHORT && r.m[1].status == MG_PARSE_OK &&
	      strcmp(r.m[1].ifname, "macvtap1") == 0,
	      "short message then a delete: the delete is seen", "links %u", r.links);
}

static void t_bad_nla_len(void)
{
	static const struct {
		const char *name;
		uint16_t nla_len;
	} cases[] = {
		{ "nla_len 0 stops the attribute walk (later name unseen)", 0 },
		{ "nla_len 3 stops the attribute walk (later name unseen)", 3 },
		{ "nla_len past the message stops the walk (later name unseen)", 200 },
		{ "nla_len 0xffff stops the attribute walk (later name unseen)", 0xffff },
	};
	struct buf b;
	struct mg_linkmsg m;
	uint32_t o;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_init(&b);
		o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0);
		attr_str(&b, IFLA_IFNAME, "first0");
		attr_raw(&b, cases[i].nla_len, IFLA_MTU, "\0\0\0\0", 4);
		attr_str(&b, IFLA_IFNAME, "macvtap0");
		attr_str(&b, IFLA_ALT_IFNAME, "alt-hidden");
		attr_u32(&b, IFLA_GROUP, 3);
		msg_end(&b, o);
		if (one(&b, &m, cases[i].name))
			CHECK(m.status == MG_PARSE_OK && m.has_ifname &&
			      strcmp(m.ifname, "first0") == 0 && !m.has_altname && !m.has_group,
			      cases[i].name, "status %u name '%s' alt %u group %u", m.status,
			      m.ifname, m.has_altname, m.has_group);
	}

	/* nla_len that reaches into the NEXT message of the batch: still past this one. */
	{
		struct walk_result r;
		uint32_t o2;

		buf_init(&b);
		o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0);
		attr_raw(&b, 64, IFLA_IFNAME, "macvtap0", 8);
		msg_end(&b, o);
		o2 = msg_begin(&b, RTM_GETLINK, NLM_F_REQUEST, 0);
		attr_str(&b, IFLA_IFNAME, "macvtap0-and-more-bytes");
		msg_end(&b, o2);
		walk_buf(&b, &r);
		CHECK(r.links == 1 && r.m[0].status == MG_PARSE_OK && !r.m[0].has_ifname &&
		      r.msgs == 2, "nla_len reaching into the next message: not an attribute",
		      "links %u has_ifname %u msgs %u", r.links,
		      r.links ? r.m[0].has_ifname : 9, r.msgs);
	}

	/* 1..3 bytes left after the last attribute: the kernel's loop ends (rem < 4). */
	for (uint32_t extra = 1; extra < 4; extra++) {
		char name[80];

		buf_init(&b);
		o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0);
		attr_str(&b, IFLA_IFNAME, "tap0");
		pad4(&b);
		put(&b, "\x08\0\x03\0", extra);
		msg_end(&b, o);
		snprintf(name, sizeof(name), "%u trailing byte(s) after the attributes", extra);
		if (one(&b, &m, name))
			CHECK(m.status == MG_PARSE_OK && strcmp(m.ifname, "tap0") == 0, name,
			      "status %u name '%s'", m.status, m.ifname);
	}
}

static void t_last_wins(void)
{
	struct buf b;
	struct mg_linkmsg m;
	uint32_t o;

	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0);
	attr_str(&b, IFLA_IFNAME, "decoy-long-name");
	attr_str(&b, IFLA_IFNAME, "tap1");
	msg_end(&b, o);
	if (one(&b, &m, "repeated IFLA_IFNAME: last wins, no bytes of the first left"))
		CHECK(m.has_ifname && strcmp(m.ifname, "tap1") == 0 &&
		      memcmp(m.ifname, "tap1\0\0\0\0\0\0\0\0\0\0\0\0", 16) == 0,
		      "repeated IFLA_IFNAME: last wins, no bytes of the first left", "'%s'",
		      m.ifname);

	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0);
	attr_str(&b, IFLA_ALT_IFNAME, "first-alternative-name");
	attr_str(&b, IFLA_ALT_IFNAME, "second");
	msg_end(&b, o);
	if (one(&b, &m, "repeated IFLA_ALT_IFNAME: last wins"))
		CHECK(m.has_altname && strcmp(m.altname, "second") == 0 &&
		      m.altname[7] == 0 && m.altname[20] == 0,
		      "repeated IFLA_ALT_IFNAME: last wins", "'%s'", m.altname);

	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0);
	for (int i = 0; i < 50; i++) {
		char n[16];

		snprintf(n, sizeof(n), "decoy%d", i);
		attr_str(&b, IFLA_IFNAME, n);
	}
	attr_str(&b, IFLA_IFNAME, "macvtap0");
	msg_end(&b, o);
	if (one(&b, &m, "51 IFLA_IFNAMEs: the 51st wins"))
		CHECK(strcmp(m.ifname, "macvtap0") == 0, "51 IFLA_IFNAMEs: the 51st wins", "'%s'",
		      m.ifname);
}

static void t_type_flags(void)
{
	static const struct {
		uint16_t type;
		int is_name;
		const char *name;
	} cases[] = {
		{ IFLA_IFNAME | NLA_F_NESTED, 1, "IFLA_IFNAME|NLA_F_NESTED is IFLA_IFNAME" },
		{ IFLA_IFNAME | NLA_F_NET_BYTEORDER, 1, "IFLA_IFNAME|NLA_F_NET_BYTEORDER is IFLA_IFNAME" },
		{ IFLA_IFNAME | NLA_F_NESTED | NLA_F_NET_BYTEORDER, 1, "IFLA_IFNAME|both flags is IFLA_IFNAME" },
		{ IFLA_IFNAME | 0x2000, 0, "IFLA_IFNAME|0x2000 is another type" },
		{ IFLA_IFNAME | 0x0100, 0, "IFLA_IFNAME|0x0100 is another type" },
	};
	struct buf b;
	struct mg_linkmsg m;
	uint32_t o;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_init(&b);
		o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0);
		attr_str(&b, cases[i].type, "macvtap0");
		msg_end(&b, o);
		if (one(&b, &m, cases[i].name))
			CHECK(m.has_ifname == cases[i].is_name &&
			      (!cases[i].is_name || strcmp(m.ifname, "macvtap0") == 0),
			      cases[i].name, "has_ifname %u '%s'", m.has_ifname, m.ifname);
	}

	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0);
	attr_str(&b, IFLA_ALT_IFNAME | NLA_F_NESTED, "alt0");
	{
		uint32_t g = 4;
		attr(&b, IFLA_GROUP | NLA_F_NET_BYTEORDER, &g, 4);
	}
	msg_end(&b, o);
	if (one(&b, &m, "flag bits on IFLA_ALT_IFNAME / IFLA_GROUP are masked"))
		CHECK(m.has_altname && strcmp(m.altname, "alt0") == 0 && m.has_group &&
		      m.group == 4, "flag bits on IFLA_ALT_IFNAME / IFLA_GROUP are masked",
		      "alt %u group %u", m.has_altname, m.has_group);
}

static void t_names(void)
{
	struct buf b;
	struct mg_linkmsg m;
	uint32_t o;

	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0);
	attr(&b, IFLA_IFNAME, "macvtap0", 8);
	msg_end(&b, o);
	if (one(&b, &m, "name without NUL"))
		CHECK(m.has_ifname && strcmp(m.ifname, "macvtap0") == 0 && zero_tail(m.ifname, 16),
		      "name without NUL", "'%s'", m.ifname);

	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0);
	attr(&b, IFLA_IFNAME, "mac\0vtap0", 10);
	msg_end(&b, o);
	if (one(&b, &m, "name with an embedded NUL is the part before it"))
		CHECK(m.has_ifname && strcmp(m.ifname, "mac") == 0 &&
		      memcmp(m.ifname, "mac\0vtap0\0\0\0\0\0\0", 16) == 0,
		      "name with an embedded NUL is the part before it", "'%s'", m.ifname);

	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0);
	attr_str(&b, IFLA_IFNAME, "abcdefghijklmnopqrst");
	msg_end(&b, o);
	if (one(&b, &m, "20-byte name cut to 15 and terminated"))
		CHECK(strcmp(m.ifname, "abcdefghijklmno") == 0 && m.ifname[15] == 0,
		      "20-byte name cut to 15 and terminated", "'%.16s'", m.ifname);

	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0);
	attr(&b, IFLA_IFNAME, "0123456789abcdef", 16);
	msg_end(&b, o);
	if (one(&b, &m, "16-byte name without NUL cut to 15"))
		CHECK(strcmp(m.ifname, "0123456789abcde") == 0, "16-byte name without NUL cut to 15",
		      "'%.16s'", m.ifname);

	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0);
	attr_str(&b, IFLA_IFNAME, "0123456789abcde");   /* 15 + NUL: the longest legal name */
	msg_end(&b, o);
	if (one(&b, &m, "15-char name + NUL kept whole"))
		CHECK(strcmp(m.ifname, "0123456789abcde") == 0, "15-char name + NUL kept whole",
		      "'%.16s'", m.ifname);

	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0);
	attr(&b, IFLA_IFNAME, NULL, 0);
	msg_end(&b, o);
	if (one(&b, &m, "empty IFLA_IFNAME: present, empty"))
		CHECK(m.has_ifname && m.ifname[0] == 0, "empty IFLA_IFNAME: present, empty",
		      "has_ifname %u", m.has_ifname);

	/* The unaligned last attribute: name bytes end exactly at nlmsg_len. */
	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0);
	attr_nopad(&b, IFLA_IFNAME, "tap12", 5);
	msg_end(&b, o);
	if (one(&b, &m, "name ending at an unaligned nlmsg_len at the end of the batch"))
		CHECK(m.status == MG_PARSE_OK && strcmp(m.ifname, "tap12") == 0,
		      "name ending at an unaligned nlmsg_len at the end of the batch",
		      "status %u '%s'", m.status, m.ifname);
}

static void t_fillers(void)
{
	struct buf b;
	struct mg_linkmsg m;
	uint32_t o;
	unsigned char junk[12];

	memset(junk, 'j', sizeof(junk));
	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0);
	for (int i = 0; i < 500; i++)
		attr(&b, (uint16_t)(1000 + i), junk, (uint16_t)(i % 13));
	attr_str(&b, IFLA_IFNAME, "macvtap0");
	msg_end(&b, o);
	if (one(&b, &m, "500 unknown attributes before the name"))
		CHECK(m.status == MG_PARSE_OK && strcmp(m.ifname, "macvtap0") == 0,
		      "500 unknown attributes before the name", "status %u '%s'", m.status,
		      m.ifname);

	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0);
	for (int i = 0; i < 16000; i++)
		attr(&b, 0, NULL, 0);                /* 4-byte attributes: the densest case */
	attr_str(&b, IFLA_IFNAME, "macvtap0");
	msg_end(&b, o);
	if (one(&b, &m, "16000 empty attributes before the name (64 KiB message)"))
		CHECK(m.status == MG_PARSE_OK && strcmp(m.ifname, "macvtap0") == 0,
		      "16000 empty attributes before the name (64 KiB message)", "status %u",
		      m.status);

	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0);
	for (int i = 0; i < 200000; i++)
		attr(&b, IFLA_MTU, NULL, 0);
	attr_str(&b, IFLA_IFNAME, "macvtap0");
	msg_end(&b, o);
	if (one(&b, &m, "200000 attributes (800 KiB message) before the name"))
		CHECK(m.status == MG_PARSE_OK && strcmp(m.ifname, "macvtap0") == 0,
		      "200000 attributes (800 KiB message) before the name", "status %u",
		      m.status);
}

static void t_batches(void)
{
	struct buf b;
	struct walk_result r;
	uint32_t o;
	static const uint16_t noise[] = { RTM_GETLINK, RTM_NEWADDR, RTM_GETROUTE, 0x03 /* DONE */,
					  RTM_NEWROUTE, RTM_DELADDR };

	for (int target = 0; target < 64; target += 21) {
		char name[96];

		buf_init(&b);
		for (int i = 0; i < 64; i++) {
			if (i == target) {
				o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, 0);
				attr_str(&b, IFLA_IFNAME, "macvtap0");
			} else {
				o = msg_begin(&b, noise[i % 6], NLM_F_REQUEST, i);
				attr_str(&b, IFLA_IFNAME, "macvtap0");
			}
			msg_end(&b, o);
		}
		walk_buf(&b, &r);
		snprintf(name, sizeof(name), "64-message batch, DELLINK at %d", target);
		CHECK(r.msgs == 64 && r.links == 1 && r.index[0] == target &&
		      strcmp(r.m[0].ifname, "macvtap0") == 0 && r.end == MG_MSG_END, name,
		      "msgs %u links %u index %u end %d", r.msgs, r.links,
		      r.links ? r.index[0] : 999, r.end);
	}

	buf_init(&b);
	for (int i = 0; i < 64; i++) {
		o = msg_begin(&b, (uint16_t)(i == 63 ? RTM_DELLINK : RTM_GETLINK), NLM_F_REQUEST, 0);
		attr_str(&b, IFLA_IFNAME, i == 63 ? "macvtap9" : "lo");
		msg_end(&b, o);
	}
	walk_buf(&b, &r);
	CHECK(r.links == 1 && r.index[0] == 63 && strcmp(r.m[0].ifname, "macvtap9") == 0,
	      "64-message batch, DELLINK last", "links %u", r.links);

	/* Not a request: skipped, and the walk goes on. */
	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, 0, 0);
	attr_str(&b, IFLA_IFNAME, "macvtap0");
	msg_end(&b, o);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_ACK | NLM_F_ECHO, 0);
	attr_str(&b, IFLA_IFNAME, "macvtap1");
	msg_end(&b, o);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0);
	attr_str(&b, IFLA_IFNAME, "macvtap2");
	msg_end(&b, o);
	walk_buf(&b, &r);
	CHECK(r.msgs == 3 && r.links == 1 && strcmp(r.m[0].ifname, "macvtap2") == 0 &&
	      r.index[0] == 2, "messages without NLM_F_REQUEST are skipped",
	      "msgs %u links %u", r.msgs, r.links);

	/* Link-request types. */
	{
		static const struct {
			uint16_t type;
			int is_link;
		} t[] = { { RTM_NEWLINK, 1 }, { RTM_DELLINK, 1 }, { RTM_GETLINK, 0 },
			  { RTM_SETLINK, 1 }, { RTM_NEWADDR, 0 }, { RTM_DELLINK | 0x100, 0 },
			  { RTM_NEWLINKPROP, 1 }, { RTM_DELLINKPROP, 1 }, { 0, 0 } };
		int good = 1;
		char detail[128] = "";

		for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
			struct mg_msghdr h = { .len = 32, .type = t[i].type,
					       .flags = NLM_F_REQUEST };
			if (mg_is_link_request(&h) != t[i].is_link) {
				good = 0;
				snprintf(detail, sizeof(detail), "type %u", t[i].type);
			}
		}
		CHECK(good, "mg_is_link_request: NEWLINK/DELLINK/SETLINK/NEWLINKPROP/DELLINKPROP "
		      "(GETLINK 18, NEWADDR 20 skipped)", "%s", detail);
	}

	/* Unaligned nlmsg_len: the next message starts at NLMSG_ALIGN(nlmsg_len). */
	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0);
	attr_nopad(&b, IFLA_IFNAME, "ab", 2);      /* nlmsg_len 38 */
	msg_end(&b, o);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0);   /* at 40 */
	attr_str(&b, IFLA_IFNAME, "macvtap0");
	msg_end(&b, o);
	walk_buf(&b, &r);
	CHECK(r.links == 2 && r.off[1] == 40 && strcmp(r.m[0].ifname, "ab") == 0 &&
	      strcmp(r.m[1].ifname, "macvtap0") == 0,
	      "unaligned nlmsg_len 38: next message at 40", "links %u off %u '%s' '%s'",
	      r.links, r.links > 1 ? r.off[1] : 0, r.links ? r.m[0].ifname : "",
	      r.links > 1 ? r.m[1].ifname : "");

	/* Unaligned last message with no padding at the end of the batch: a clean end. */
	buf_init(&b);
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 0);
	attr_nopad(&b, IFLA_IFNAME, "abc", 3);     /* nlmsg_len 39 = batch length */
	msg_end(&b, o);
	walk_buf(&b, &r);
	CHECK(r.links == 1 && r.end == MG_MSG_END && r.end_off == 39 &&
	      strcmp(r.m[0].ifname, "abc") == 0,
	      "unaligned last message without padding ends cleanly", "end %d end_off %u",
	      r.end, r.end_off);

	/* 1000 minimal messages: the walk's iteration bound (len/16+1) suffices. */
	buf_init(&b);
	for (int i = 0; i < 1000; i++) {
		o = msg_begin_bare(&b, RTM_GETLINK, NLM_F_REQUEST);
		msg_end(&b, o);
	}
	o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 77);
	msg_end(&b, o);
	walk_buf(&b, &r);
	CHECK(r.msgs == 1001 && r.links == 1 && r.m[0].ifindex == 77 && r.end == MG_MSG_END &&
	      (unsigned long)r.iters <= b.len / 16 + 1,
	      "1001 minimal messages walked within len/16+1 iterations",
	      "msgs %u end %d iters %ld", r.msgs, r.end, r.iters);
}

static void t_rename_move(void)
{
	struct buf b;
	struct mg_linkmsg m;
	uint32_t o;
	static const struct {
		const char *name;
		uint16_t type;
		int32_t ifindex;
		int has_name;
		uint16_t ns_attr;     /* 0: none */
		int rename, move;
	} cases[] = {
		{ "NEWLINK index+IFLA_IFNAME is a rename", RTM_NEWLINK, 5, 1, 0, 1, 0 },
		{ "SETLINK index+IFLA_IFNAME is a rename", RTM_SETLINK, 5, 1, 0, 1, 0 },
		{ "NEWLINK name only is a lookup, not a rename", RTM_NEWLINK, 0, 1, 0, 0, 0 },
		{ "NEWLINK negative index+name is not a rename", RTM_NEWLINK, -3, 1, 0, 0, 0 },
		{ "DELLINK index+name is not a rename", RTM_DELLINK, 5, 1, 0, 0, 0 },
		{ "NEWLINK IFLA_NET_NS_PID is a move", RTM_NEWLINK, 5, 0, IFLA_NET_NS_PID, 0, 1 },
		{ "NEWLINK IFLA_NET_NS_FD is a move", RTM_NEWLINK, 5, 0, IFLA_NET_NS_FD, 0, 1 },
		{ "SETLINK IFLA_TARGET_NETNSID is a move", RTM_SETLINK, 5, 0, IFLA_TARGET_NETNSID, 0, 1 },
		{ "NEWLINK by name + IFLA_NET_NS_FD is a move", RTM_NEWLINK, 0, 1, IFLA_NET_NS_FD, 0, 1 },
		{ "NEWLINK index+name+IFLA_NET_NS_PID: move and rename", RTM_NEWLINK, 5, 1, IFLA_NET_NS_PID, 1, 1 },
		{ "DELLINK IFLA_NET_NS_PID is not a move", RTM_DELLINK, 5, 0, IFLA_NET_NS_PID, 0, 0 },
		{ "DELLINK IFLA_TARGET_NETNSID is not a move", RTM_DELLINK, 5, 0, IFLA_TARGET_NETNSID, 0, 0 },
		{ "NEWLINK index only: neither", RTM_NEWLINK, 5, 0, 0, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_init(&b);
		o = msg_begin(&b, cases[i].type, NLM_F_REQUEST | NLM_F_ACK, cases[i].ifindex);
		attr_u32(&b, IFLA_MTU, 1400);
		if (cases[i].has_name)
			attr_str(&b, IFLA_IFNAME, "renamed0");
		if (cases[i].ns_attr)
			attr_u32(&b, cases[i].ns_attr, 12);
		msg_end(&b, o);
		if (!one(&b, &m, cases[i].name))
			continue;
		CHECK(mg_link_changes_name(&m) == cases[i].rename &&
		      mg_link_moves_netns(&m) == cases[i].move, cases[i].name,
		      "changes_name %d moves_netns %d", mg_link_changes_name(&m),
		      mg_link_moves_netns(&m));
	}

	buf_init(&b);
	o = msg_begin(&b, RTM_NEWLINK, NLM_F_REQUEST, 5);
	attr_u32(&b, IFLA_TARGET_NETNSID, (uint32_t)-1);
	msg_end(&b, o);
	if (one(&b, &m, "IFLA_TARGET_NETNSID value read signed"))
		CHECK(m.has_target_netnsid && m.target_netnsid == -1,
		      "IFLA_TARGET_NETNSID value read signed", "%d", m.target_netnsid);

	buf_init(&b);
	o = msg_begin(&b, RTM_NEWLINK, NLM_F_REQUEST, 5);
	attr(&b, IFLA_TARGET_NETNSID, "\1\0", 2);
	msg_end(&b, o);
	if (one(&b, &m, "IFLA_TARGET_NETNSID with a 2-byte payload is not taken"))
		CHECK(!m.has_target_netnsid, "IFLA_TARGET_NETNSID with a 2-byte payload is not taken",
		      "has %u", m.has_target_netnsid);

	buf_init(&b);
	o = msg_begin(&b, RTM_NEWLINK, NLM_F_REQUEST, 0);
	attr_u32(&b, IFLA_GROUP, 6);
	attr_u32(&b, IFLA_NET_NS_PID, 1);
	msg_end(&b, o);
	if (one(&b, &m, "NEWLINK group + IFLA_NET_NS_PID (group move) exposes group and move"))
		CHECK(m.has_group && m.group == 6 && mg_link_moves_netns(&m) && m.ifindex == 0 &&
		      !m.has_ifname,
		      "NEWLINK group + IFLA_NET_NS_PID (group move) exposes group and move",
		      "group %u moves %d", m.has_group, mg_link_moves_netns(&m));

	/*
	 * KNOWN-DIVERGENCE: do_setlink() renames only when `ifm->ifi_index > 0 && ifname[0]`
	 * (ifname after nla_strscpy). An IFLA_IFNAME of "" (payload "\0", accepted by the
	 * NLA_STRING policy) with an index is NOT a rename, but mg_link_changes_name() only
	 * tests has_ifname, so the guard would refuse e.g. an MTU change of a guarded link
	 * that carries an empty IFLA_IFNAME. Fails until mg_nlparse.h adds `&& m->ifname[0]`.
	 */
	buf_init(&b);
	o = msg_begin(&b, RTM_NEWLINK, NLM_F_REQUEST, 5);
	attr_u32(&b, IFLA_MTU, 1400);
	attr(&b, IFLA_IFNAME, "", 1);
	msg_end(&b, o);
	if (one(&b, &m, "KNOWN-DIVERGENCE empty IFLA_IFNAME with an index is not a rename")) {
		struct ref_link ref;

		ref_parse_link(b.b, b.len, &ref);
		CHECK(!ref_renames(RTM_NEWLINK, &ref) && mg_link_changes_name(&m) == 0,
		      "KNOWN-DIVERGENCE empty IFLA_IFNAME with an index is not a rename",
		      "kernel renames: %d, mg_link_changes_name: %d (mg_nlparse.h "
		      "mg_link_changes_name() must also require m->ifname[0])",
		      ref_renames(RTM_NEWLINK, &ref), mg_link_changes_name(&m));
	}
}

/* mg_loop has bpf_loop's contract. */
static long count_to(uint32_t i, void *ctx)
{
	uint32_t *stop = ctx;

	return i + 1 == *stop;
}

static void t_loop_contract(void)
{
	uint32_t stop = 5;

	CHECK(mg_loop(10, count_to, &stop) == 5, "mg_loop: callback returning 1 at i=4 -> 5",
	      "%ld", mg_loop(10, count_to, &stop));
	stop = 100;
	CHECK(mg_loop(10, count_to, &stop) == 10, "mg_loop: runs out -> n", "%ld",
	      mg_loop(10, count_to, &stop));
	CHECK(mg_loop(0, count_to, &stop) == 0, "mg_loop: n = 0 -> 0", "%ld",
	      mg_loop(0, count_to, &stop));
}

static void t_src_read(void)
{
	unsigned char data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct mg_src s = { .base = data, .len = 8 };
	unsigned char out[8];
	struct mg_msghdr h;
	uint32_t next;

	CHECK(mg_src_read(&s, 0, out, 8) == 0 && mg_src_read(&s, 8, out, 0) == 0 &&
	      mg_src_read(&s, 4, out, 5) == -1 && mg_src_read(&s, 9, out, 0) == -1 &&
	      mg_src_read(&s, 0xfffffffcu, out, 8) == -1 && mg_src_read(&s, 1, out, 0xffffffffu) == -1,
	      "mg_src_read bounds (incl. offset+size wrap-around)", "-");
	CHECK(mg_msg_at(&s, 0, &h, &next) == MG_MSG_END && mg_msg_at(&s, 100, &h, &next) == MG_MSG_END,
	      "mg_msg_at past or near the end -> END", "-");
}

/* Differential test against the independent kernel model (nl_ref.h) on random messages. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

static void random_link_msg(struct buf *b)
{
	static const uint16_t types[] = { IFLA_IFNAME, IFLA_ALT_IFNAME, IFLA_GROUP,
		IFLA_NET_NS_PID, IFLA_NET_NS_FD, IFLA_TARGET_NETNSID, IFLA_MTU, 0, 1000,
		IFLA_IFNAME | NLA_F_NESTED, IFLA_ALT_IFNAME | NLA_F_NET_BYTEORDER,
		IFLA_GROUP | 0xc000, IFLA_IFNAME | 0x2000 };
	static const uint16_t mtypes[] = { RTM_DELLINK, RTM_NEWLINK, RTM_SETLINK };
	unsigned char payload[200];
	uint32_t o, nattr = rnd() % 8;

	o = msg_begin(b, mtypes[rnd() % 3], NLM_F_REQUEST, (int32_t)(rnd() % 4) - 1);
	for (uint32_t i = 0; i < nattr; i++) {
		uint16_t type = types[rnd() % (sizeof(types) / sizeof(types[0]))];
		uint32_t n = rnd() % 5 == 0 ? rnd() % 140 : rnd() % 20;

		for (uint32_t k = 0; k < n; k++)
			payload[k] = rnd() % 6 == 0 ? 0 : (unsigned char)('a' + rnd() % 26);
		if (rnd() % 3 == 0 && n)
			payload[n - 1] = 0;
		if (rnd() % 25 == 0)
			attr_raw(b, (uint16_t)(rnd() % 3 == 0 ? rnd() % 4 : rnd() % 300), type,
				 payload, n);
		else if (i + 1 == nattr && rnd() % 2)
			attr_nopad(b, type, payload, (uint16_t)n);
		else
			attr(b, type, payload, (uint16_t)n);
	}
	msg_end(b, o);
	if (rnd() % 10 == 0) { /* cut the message short (its length says so too) */
		b->len -= rnd() % (b->len - o + 1);
		set_len(b, o, b->len - o);
	}
}

static void t_differential(void)
{
	const unsigned rounds = 30000;
	unsigned compared = 0, bad = 0, bound_bad = 0;
	char detail[256] = "";
	struct buf b;
	static struct walk_result r;
	const char *saved = corpus_dir;

	for (unsigned i = 0; i < rounds; i++) {
		struct ref_link ref;
		const struct mg_linkmsg *m;
		uint32_t len;

		corpus_dir = i < 40 ? saved : NULL;     /* a few of them as fuzz seeds */
		buf_init(&b);
		random_link_msg(&b);
		memcpy(&len, b.b, 4);
		if (len > b.len)
			len = b.len;
		walk_buf(&b, &r);
		if (len < 16) {
			if (r.msgs) {
				bad++;
				snprintf(detail, sizeof(detail), "round %u: message of %u walked", i, len);
			}
			continue;
		}
		if (r.links != 1) {
			bad++;
			snprintf(detail, sizeof(detail), "round %u: %u link requests", i, r.links);
			continue;
		}
		if ((unsigned long)r.iters > b.len / 16 + 1)
			bound_bad++;
		m = &r.m[0];
		ref_parse_link(b.b, len, &ref);
		if (ref.short_msg != (m->status == MG_PARSE_SHORT) ||
		    (!ref.short_msg && m->status != MG_PARSE_OK)) {
			bad++;
			snprintf(detail, sizeof(detail), "round %u: status %u, kernel short %d", i,
				 m->status, ref.short_msg);
			continue;
		}
		if (m->ifname[15] || m->altname[127]) {
			bad++;
			snprintf(detail, sizeof(detail), "round %u: unterminated name", i);
			continue;
		}
		if (ref.short_msg)
			continue;
		/* Never miss what the kernel would do, even for messages it rejects. */
		if ((ref_renames(m->type, &ref) && !mg_link_changes_name(m)) ||
		    (ref_moves(m->type, &ref) && !mg_link_moves_netns(m))) {
			bad++;
			snprintf(detail, sizeof(detail), "round %u: missed a rename/move", i);
			continue;
		}
		if (ref.rejected)
			continue;
		compared++;
		if (m->ifindex != ref.ifindex || m->has_ifname != ref.has_ifname ||
		    memcmp(m->ifname, ref.ifname, 16) || m->has_altname != ref.has_altname ||
		    memcmp(m->altname, ref.altname, 128) || m->has_group != ref.has_group ||
		    (ref.has_group && m->group != ref.group) || m->has_netns != ref.has_netns ||
		    m->has_target_netnsid != ref.has_target_netnsid ||
		    (ref.has_target_netnsid && m->target_netnsid != ref.target_netnsid)) {
			bad++;
			snprintf(detail, sizeof(detail),
				 "round %u: mg ifname %u'%.16s' alt %u group %u/%u netns %u tn %u; "
				 "kernel ifname %d'%.16s' alt %d group %d/%u netns %d tn %d", i,
				 m->has_ifname, m->ifname, m->has_altname, m->has_group, m->group,
				 m->has_netns, m->has_target_netnsid, ref.has_ifname, ref.ifname,
				 ref.has_altname, ref.has_group, ref.group, ref.has_netns,
				 ref.has_target_netnsid);
		}
	}
	corpus_dir = saved;
	CHECK(bad == 0 && compared > rounds / 4,
	      "30000 random link requests agree with the kernel model (nl_ref.h)",
	      "%u disagreements, %u compared; last: %s", bad, compared, detail);
	CHECK(bound_bad == 0, "random batches walked within len/16+1 iterations", "%u over",
	      bound_bad);
}

/* ---- policy ---- */
static void t_policy(void)
{
	/* Expectation written from the rules in mg_policy.h's comment, in a different shape:
	 * the first matching row wins. */
	unsigned bad = 0, total = 0;
	char detail[200] = "";
	static const uint32_t flag_sets[] = { 0, MG_TAG_RELEASED, MG_TAG_OWNER_GONE,
		MG_TAG_RELEASED | MG_TAG_OWNER_GONE, 0x4, 0xfffffffcu,
		MG_TAG_OWNER_GONE | 0x80000000u, 0xffffffffu };
	static const uint8_t qstates[] = { MG_Q_NONE, MG_Q_HELD, MG_Q_UNKNOWN, 3, 255 };
	static const uint8_t modes[] = { MG_MODE_ENFORCE, MG_MODE_AUDIT, 2, 255 };

	for (size_t f = 0; f < sizeof(flag_sets) / sizeof(flag_sets[0]); f++)
	for (size_t q = 0; q < sizeof(qstates); q++)
	for (int owner = 0; owner <= 2; owner++)
	for (size_t mo = 0; mo < sizeof(modes); mo++) {
		struct mg_policy_in in = { .tag_flags = flag_sets[f], .queues_state = qstates[q],
					   .requester_is_owner = (uint8_t)(owner == 2 ? 7 : owner),
					   .mode = modes[mo] };
		int released = (flag_sets[f] & 1u) != 0, gone = (flag_sets[f] & 2u) != 0;
		int is_owner = owner != 0, held = qstates[q] != 0;
		uint8_t ev, er, v, r = 0xaa;

		if (released) {
			ev = MG_V_ALLOW; er = MG_R_RELEASED;
		} else if (is_owner) {
			ev = MG_V_ALLOW; er = MG_R_OWNER;
		} else if (gone) {
			ev = MG_V_ALLOW; er = MG_R_OWNER_GONE;
		} else if (!held) {
			ev = MG_V_ALLOW; er = MG_R_NOT_IN_USE;
		} else {
			/* in use: only an explicit audit mode lets it through; any other mode
			 * value fails closed */
			ev = modes[mo] == 1 ? MG_V_AUDIT : MG_V_DENY;
			er = MG_R_IN_USE;
		}
		v = mg_decide(&in, &r);
		total++;
		if (v != ev || r != er) {
			bad++;
			snprintf(detail, sizeof(detail),
				 "flags %#x queues %u owner %d mode %u: got %u/%u want %u/%u",
				 flag_sets[f], qstates[q], owner, modes[mo], v, r, ev, er);
		}
	}
	CHECK(bad == 0 && total == 8 * 5 * 3 * 4,
	      "mg_decide: 480 flag x queue x owner x mode combinations match the table",
	      "%u of %u wrong; last %s", bad, total, detail);

	/* The common cases by name, so a regression names itself. */
	{
		struct mg_policy_in in = { .queues_state = MG_Q_HELD, .mode = MG_MODE_ENFORCE };
		uint8_t r;
		CHECK(mg_decide(&in, &r) == MG_V_DENY && r == MG_R_IN_USE,
		      "mg_decide: in use, stranger, enforce -> deny/in-use", "-");
		in.mode = MG_MODE_AUDIT;
		CHECK(mg_decide(&in, &r) == MG_V_AUDIT && r == MG_R_IN_USE,
		      "mg_decide: in use, stranger, audit -> audit/in-use", "-");
		in.mode = MG_MODE_ENFORCE;
		in.queues_state = MG_Q_UNKNOWN;
		CHECK(mg_decide(&in, &r) == MG_V_DENY && r == MG_R_IN_USE,
		      "mg_decide: queue state unknown counts as in use", "-");
		in.queues_state = MG_Q_NONE;
		CHECK(mg_decide(&in, &r) == MG_V_ALLOW && r == MG_R_NOT_IN_USE,
		      "mg_decide: no queue held -> allow/not-in-use", "-");
		in.queues_state = MG_Q_HELD;
		in.requester_is_owner = 1;
		CHECK(mg_decide(&in, &r) == MG_V_ALLOW && r == MG_R_OWNER,
		      "mg_decide: owner -> allow/owner", "-");
		in.requester_is_owner = 0;
		in.tag_flags = MG_TAG_OWNER_GONE;
		CHECK(mg_decide(&in, &r) == MG_V_ALLOW && r == MG_R_OWNER_GONE,
		      "mg_decide: owner gone -> allow/owner-gone", "-");
		in.tag_flags = MG_TAG_RELEASED | MG_TAG_OWNER_GONE;
		in.requester_is_owner = 1;
		CHECK(mg_decide(&in, &r) == MG_V_ALLOW && r == MG_R_RELEASED,
		      "mg_decide: released wins over owner and owner-gone", "-");
	}

	CHECK(mg_decide_unreadable(0, MG_MODE_ENFORCE) == MG_V_NONE &&
	      mg_decide_unreadable(0, MG_MODE_AUDIT) == MG_V_NONE &&
	      mg_decide_unreadable(1, MG_MODE_ENFORCE) == MG_V_DENY &&
	      mg_decide_unreadable(1, MG_MODE_AUDIT) == MG_V_AUDIT &&
	      mg_decide_unreadable(-1, MG_MODE_AUDIT) == MG_V_AUDIT &&
	      mg_decide_unreadable(1, 2) == MG_V_DENY && mg_decide_unreadable(1, 255) == MG_V_DENY,
	      "mg_decide_unreadable: nothing guarded -> none; guarded -> deny/audit by mode",
	      "-");
	CHECK(mg_refuse(MG_MODE_ENFORCE) == MG_V_DENY && mg_refuse(MG_MODE_AUDIT) == MG_V_AUDIT &&
	      mg_refuse(7) == MG_V_DENY, "mg_refuse: unknown mode fails closed", "-");
}

/* ---- what a request does (mg_request_action) ---- */
static void t_request_action(void)
{
	static const struct {
		const char *name;
		uint16_t type;
		uint8_t family;
		int32_t index;
		const char *ifname;      /* IFLA_IFNAME or NULL */
		int altname;             /* IFLA_ALT_IFNAME present */
		int group;               /* IFLA_GROUP present */
		int netns;               /* IFLA_NET_NS_FD present */
		uint8_t act, ident;
	} c[] = {
		{ "DELLINK AF_UNSPEC by name is a delete", RTM_DELLINK, AF_UNSPEC, 0, "m0", 0, 0, 0,
		  MG_ACT_DELETE, 0 },
		{ "DELLINK AF_PACKET is a delete", RTM_DELLINK, AF_PACKET, 5, NULL, 0, 0, 0,
		  MG_ACT_DELETE, 0 },
		{ "DELLINK AF_INET falls back to rtnl_dellink: a delete", RTM_DELLINK, AF_INET, 5,
		  NULL, 0, 0, 0, MG_ACT_DELETE, 0 },
		{ "DELLINK AF_BRIDGE (bridge vlan del) is not a delete", RTM_DELLINK, AF_BRIDGE, 5,
		  NULL, 0, 0, 0, 0, 0 },
		{ "SETLINK AF_BRIDGE (bridge port flags) changes no identity", RTM_SETLINK, AF_BRIDGE,
		  5, "x", 0, 1, 1, 0, 0 },
		{ "NEWLINK AF_BRIDGE falls back to rtnl_newlink: a move", RTM_NEWLINK, AF_BRIDGE, 5,
		  NULL, 0, 0, 1, MG_ACT_MOVE, 0 },
		{ "NEWLINKPROP is an altname change", RTM_NEWLINKPROP, AF_UNSPEC, 5, NULL, 0, 0, 0,
		  MG_ACT_ALTNAME, MG_IDENT_ALTNAME },
		{ "DELLINKPROP is an altname change", RTM_DELLINKPROP, AF_UNSPEC, 0, "m0", 0, 0, 0,
		  MG_ACT_ALTNAME, MG_IDENT_ALTNAME },
		{ "SETLINK by index with IFLA_GROUP is a group change", RTM_SETLINK, AF_UNSPEC, 5,
		  NULL, 0, 1, 0, MG_ACT_GROUP, MG_IDENT_GROUP },
		{ "NEWLINK by name with IFLA_GROUP is a group change", RTM_NEWLINK, AF_UNSPEC, 0,
		  "m0", 0, 1, 0, MG_ACT_GROUP, MG_IDENT_GROUP },
		{ "NEWLINK by altname with IFLA_GROUP is a group change", RTM_NEWLINK, AF_UNSPEC, 0,
		  NULL, 1, 1, 0, MG_ACT_GROUP, MG_IDENT_GROUP },
		{ "NEWLINK group only selects devices (group changelink): nothing", RTM_NEWLINK,
		  AF_UNSPEC, 0, NULL, 0, 1, 0, 0, 0 },
		{ "rename and group change in one: both", RTM_SETLINK, AF_UNSPEC, 5, "new", 0, 1, 0,
		  MG_ACT_GROUP, MG_IDENT_GROUP | MG_IDENT_NAME },
		{ "rename by index", RTM_NEWLINK, AF_UNSPEC, 5, "new", 0, 0, 0, MG_ACT_RENAME,
		  MG_IDENT_NAME },
		{ "a move wins over a group change", RTM_NEWLINK, AF_UNSPEC, 5, NULL, 0, 1, 1,
		  MG_ACT_MOVE, 0 },
		{ "group netns move (changelink)", RTM_NEWLINK, AF_UNSPEC, 0, NULL, 0, 1, 1,
		  MG_ACT_MOVE, 0 },
		{ "SETLINK without changes: nothing", RTM_SETLINK, AF_UNSPEC, 5, NULL, 0, 0, 0, 0, 0 },
		{ "GETLINK: nothing", RTM_GETLINK, AF_UNSPEC, 5, "m0", 0, 0, 0, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct mg_linkmsg m = { .type = c[i].type, .family = c[i].family,
					.ifindex = c[i].index };
		uint8_t ident = 0xaa, act;

		if (c[i].ifname) {
			m.has_ifname = 1;
			snprintf(m.ifname, sizeof(m.ifname), "%s", c[i].ifname);
		}
		m.has_altname = (uint8_t)c[i].altname;
		m.has_group = (uint8_t)c[i].group;
		m.has_netns = (uint8_t)c[i].netns;
		act = mg_request_action(&m, &ident);
		CHECK(act == c[i].act && ident == c[i].ident, c[i].name,
		      "action %u ident %#x, want %u %#x", act, ident, c[i].act, c[i].ident);
	}

	/* The family byte is parsed from the message. */
	{
		struct buf b;
		uint32_t o;
		static struct walk_result r;

		buf_init(&b);
		o = msg_begin(&b, RTM_DELLINK, NLM_F_REQUEST, 9);
		b.b[o + NLMSG_HDRLEN] = AF_BRIDGE;     /* ifinfomsg.ifi_family */
		msg_end(&b, o);
		walk_buf(&b, &r);
		CHECK(r.links == 1 && r.m[0].family == AF_BRIDGE && r.m[0].ifindex == 9,
		      "mg_parse_link reads ifi_family", "links %u family %u", r.links,
		      r.links ? r.m[0].family : 0);
	}

	/* Unprivileged senders: refused (the kernel refuses them too), whatever the tag says. */
	{
		struct mg_policy_in in = { .queues_state = MG_Q_NONE, .unprivileged = 1,
					   .tag_flags = MG_TAG_RELEASED, .requester_is_owner = 1 };
		uint8_t r = 0;

		CHECK(mg_decide(&in, &r) == MG_V_DENY && r == MG_R_UNPRIVILEGED,
		      "mg_decide: unprivileged sender -> deny/unprivileged (no record)", "r %u", r);
		in.mode = MG_MODE_AUDIT;
		CHECK(mg_decide(&in, &r) == MG_V_AUDIT && r == MG_R_UNPRIVILEGED,
		      "mg_decide: unprivileged sender in audit mode -> audit/unprivileged", "r %u", r);
	}

	/* A link of a domain whose start is in progress (creation claim, no tag yet): only
	 * that domain's start or teardown thread may remove it, whatever the queues say. */
	{
		struct mg_policy_in in = { .starting = 1, .queues_state = MG_Q_NONE };
		uint8_t r = 0;

		CHECK(mg_decide(&in, &r) == MG_V_DENY && r == MG_R_STARTING,
		      "mg_decide: starting domain's link, other requester -> deny/starting (no queue held yet)",
		      "r %u", r);
		in.queues_state = MG_Q_HELD;
		CHECK(mg_decide(&in, &r) == MG_V_DENY && r == MG_R_STARTING,
		      "mg_decide: starting domain's link, queues held by libvirt -> deny/starting", "r %u", r);
		in.mode = MG_MODE_AUDIT;
		CHECK(mg_decide(&in, &r) == MG_V_AUDIT && r == MG_R_STARTING,
		      "mg_decide: starting domain's link in audit mode -> audit/starting", "r %u", r);
		in.mode = MG_MODE_ENFORCE;
		in.requester_in_window = 1;
		CHECK(mg_decide(&in, &r) == MG_V_ALLOW && r == MG_R_OWNER,
		      "mg_decide: starting domain's link, its own start/teardown thread -> allow/owner",
		      "r %u", r);
		in.unprivileged = 1;
		CHECK(mg_decide(&in, &r) == MG_V_DENY && r == MG_R_UNPRIVILEGED,
		      "mg_decide: starting domain's link, unprivileged sender -> deny/unprivileged", "r %u", r);
		in = (struct mg_policy_in){ .queues_state = MG_Q_NONE };
		CHECK(mg_decide(&in, &r) == MG_V_ALLOW && r == MG_R_NOT_IN_USE,
		      "mg_decide: not starting (no claim), no tag flags -> the tag rules", "r %u", r);
	}

	/* The claim inputs: which claims are live, which devices they cover, who is in the
	 * domain's windows (mg_claim_window_live, mg_claim_covers, mg_claim_requester_in_window). */
	{
		const uint64_t s = 1000000000ull;
		struct mg_start win = { .domain = "d1", .since_ns = 100 * s, .tgid = 500, .tid = 510 };
		struct mg_claim c = { .domain = "d1", .since_ns = 101 * s, .window_ns = 100 * s,
				      .tgid = 500, .tid = 510, .ifindex_base = 40 };
		struct mg_start w2 = win;
		struct mg_teardown td = { .domain = "d1", .since_ns = 105 * s, .tgid = 500, .tid = 777 };

		CHECK(mg_claim_window_live(&c, &win, 102 * s), "claim: live while its window is open", "-");
		CHECK(!mg_claim_window_live(&c, NULL, 102 * s),
		      "claim: dead once its window is closed (started/release)", "-");
		CHECK(!mg_claim_window_live(&c, &win, 100 * s + MG_START_WINDOW_MAX_NS),
		      "claim: dead once its window is older than MG_START_WINDOW_MAX_NS", "-");
		w2.since_ns = 103 * s;
		CHECK(!mg_claim_window_live(&c, &w2, 104 * s),
		      "claim: dead when the thread's window was replaced by a later start", "-");
		w2 = win;
		w2.tgid = 600;
		CHECK(!mg_claim_window_live(&c, &w2, 102 * s),
		      "claim: dead when the thread id now belongs to another daemon", "-");
		CHECK(mg_claim_covers(&c, &win, 102 * s, 40) && mg_claim_covers(&c, &win, 102 * s, 41),
		      "claim: covers a device created at or after the request (index >= hint)", "-");
		CHECK(!mg_claim_covers(&c, &win, 102 * s, 39),
		      "claim: not an older device of that name (the one the create collided with)", "-");
		CHECK(mg_claim_requester_in_window(&c, 500, 510, NULL),
		      "claim requester: the starting thread itself (own failed start's cleanup)", "-");
		CHECK(!mg_claim_requester_in_window(&c, 500, 511, NULL),
		      "claim requester: another thread of the daemon (d2's start) is not", "-");
		CHECK(!mg_claim_requester_in_window(&c, 501, 510, NULL),
		      "claim requester: the same thread id in another process is not", "-");
		CHECK(mg_claim_requester_in_window(&c, 500, 777, &td),
		      "claim requester: a thread in the domain's open teardown window (destroy)", "-");
		td.until_ns = 106 * s;
		CHECK(!mg_claim_requester_in_window(&c, 500, 777, &td),
		      "claim requester: a closed teardown window is not", "-");
		td.until_ns = 0;
		memcpy(td.domain, "d2", 3);
		CHECK(!mg_claim_requester_in_window(&c, 500, 777, &td),
		      "claim requester: another domain's teardown (d2's failed start) is not", "-");
		memcpy(td.domain, "d10", 4);
		CHECK(!mg_claim_requester_in_window(&c, 500, 777, &td) && !mg_same_domain("d1", "d10") &&
		      mg_same_domain("d1", "d1"),
		      "claim requester: domain names compare whole (d1 vs d10)", "-");
	}
}

/* ---- ABI: the layout the host sees, as asserts for a clang -target bpf build ---- */
#define ABI_FIELDS(X) \
	X(mg_link_key, netns_cookie) X(mg_link_key, ifindex) X(mg_link_key, pad) \
	X(mg_tag, domain) X(mg_tag, uuid) X(mg_tag, owner_start) X(mg_tag, tagged_at_ns) \
	X(mg_tag, owner_pid) X(mg_tag, flags) X(mg_tag, kind) X(mg_tag, lower_ifindex) \
	X(mg_tag, ifname) X(mg_tag, tagged_by) X(mg_tag, pad) \
	X(mg_counts, deny) X(mg_counts, audit) X(mg_counts, allow) \
	X(mg_config, abi_version) X(mg_config, mode) \
	X(mg_teardown, domain) X(mg_teardown, uuid) X(mg_teardown, since_ns) \
	X(mg_teardown, until_ns) X(mg_teardown, tgid) X(mg_teardown, tid) \
	X(mg_start, domain) X(mg_start, uuid) X(mg_start, since_ns) X(mg_start, tgid) \
	X(mg_start, tid) X(mg_claim_key, netns_cookie) X(mg_claim_key, name) \
	X(mg_claim, domain) X(mg_claim, since_ns) X(mg_claim, window_ns) X(mg_claim, tgid) \
	X(mg_claim, tid) X(mg_claim, ifindex_base) X(mg_claim, pad) \
	X(mg_stats, route_sends) X(mg_stats, link_msgs) X(mg_stats, events) \
	X(mg_stats, events_lost) X(mg_stats, fail_closed) X(mg_stats, tags_expired) \
	X(mg_stats, deletions) X(mg_stats, unprivileged) X(mg_stats, unresolved) \
	X(mg_event, ts_boot_ns) X(mg_event, req_netns_cookie) X(mg_event, link_netns_cookie) \
	X(mg_event, cgroup_id) X(mg_event, pid) X(mg_event, tid) X(mg_event, ppid) \
	X(mg_event, ifindex) X(mg_event, target_ifindex) X(mg_event, owner_pid) \
	X(mg_event, queues) X(mg_event, msg_type) X(mg_event, msg_index) X(mg_event, action) \
	X(mg_event, how) X(mg_event, verdict) X(mg_event, reason) X(mg_event, mode) \
	X(mg_event, queues_state) X(mg_event, unenforced) X(mg_event, pad) X(mg_event, comm) X(mg_event, ifname) \
	X(mg_event, req_name) X(mg_event, domain) X(mg_event, uuid) X(mg_event, teardown) \
	X(mg_event, record) X(mg_event, path) X(mg_event, result) X(mg_event, req_known) \
	X(mg_event, err) X(mg_event, lower_ifindex) X(mg_event, kind) X(mg_event, lower_name) \
	X(mg_event, pcomm) X(mg_event, count) X(mg_event, uid) \
	X(mg_flood_key, uid) X(mg_flood_key, why) X(mg_flood_key, comm) \
	X(mg_flood, count) X(mg_flood, first_ns) X(mg_flood, last_ns) X(mg_flood, netns_cookie) \
	X(mg_flood, cgroup_id) X(mg_flood, pid) X(mg_flood, tid) X(mg_flood, ppid) \
	X(mg_flood, target_ifindex) X(mg_flood, msg_type) X(mg_flood, comm) X(mg_flood, req_name)
#define ABI_STRUCTS(X) X(mg_link_key) X(mg_tag) X(mg_counts) X(mg_config) X(mg_teardown) X(mg_start) X(mg_claim_key) X(mg_claim) X(mg_stats) X(mg_event) X(mg_flood_key) X(mg_flood)

static void print_abi_asserts(void)
{
	printf("/* generated by test_nlparse --abi-asserts: the host (x86_64 gcc) layout */\n");
#define PRINT_FIELD(s, f) \
	printf("_Static_assert(__builtin_offsetof(struct " #s ", " #f ") == %zu && " \
	       "sizeof(((struct " #s " *)0)->" #f ") == %zu, \"" #s "." #f "\");\n", \
	       offsetof(struct s, f), sizeof(((struct s *)0)->f));
	ABI_FIELDS(PRINT_FIELD)
#define PRINT_STRUCT(s) \
	printf("_Static_assert(sizeof(struct " #s ") == %zu && _Alignof(struct " #s ") == %zu, " \
	       "\"" #s "\");\n", sizeof(struct s), _Alignof(struct s));
	ABI_STRUCTS(PRINT_STRUCT)
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--abi-asserts") == 0) {
			print_abi_asserts();
			return 0;
		} else if (strcmp(argv[i], "--write-corpus") == 0 && i + 1 < argc) {
			corpus_dir = argv[++i];
		} else {
			fprintf(stderr, "usage: %s [--write-corpus DIR | --abi-asserts]\n", argv[0]);
			return 2;
		}
	}

	t_libvirt_delete();
	t_by_index();
	t_altname();
	t_group();
	t_truncated_headers();
	t_short();
	t_bad_nla_len();
	t_last_wins();
	t_type_flags();
	t_names();
	t_fillers();
	t_batches();
	t_rename_move();
	t_loop_contract();
	t_src_read();
	t_differential();
	t_policy();
	t_request_action();

	printf("%u passed, %u failed\n", n_pass, n_fail);
	return n_fail ? 1 : 0;
}
