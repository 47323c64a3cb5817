/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * libFuzzer target: the input is one sendmsg batch on a NETLINK_ROUTE socket. It is walked
 * exactly as bpf/guard_request.bpf.c walks it (mg_loop with len/16+1 iterations over
 * mg_msg_at, mg_parse_link for each link request), under ASan/UBSan, and checked against:
 *  - no read outside the input (ASan; the input is copied to an exact-size heap block);
 *  - the walk always ends inside its iteration bound, every step moves forward and stays
 *    inside the batch, mg_msg_at never reports ERR on the host (all reads are in bounds);
 *  - every parse has a valid status, reaches the end of its attributes within len/4+1
 *    iterations (re-walked here with a counting callback) and is never UNREAD on the host;
 *  - names are NUL-terminated and zero-padded, flags are 0/1, fields not present are 0;
 *  - the result agrees with the independent kernel model in nl_ref.h for every message the
 *    kernel would accept, and never misses a rename or netns move the kernel would do.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_abi.h"
#include "mg_nlparse.h"
#include "nl_ref.h"

#define FAIL(...) do { fprintf(stderr, "fuzz_nlparse: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

struct fz_ctx {
	struct mg_src src;
	uint32_t msg_off;
	uint32_t msgs;
	int end;
};

struct count_ctx {
	struct mg_attr_walk w;
	uint32_t calls;
};

static long count_step(uint32_t i, void *ctx)
{
	struct count_ctx *c = ctx;

	c->calls++;
	return mg_attr_step(i, &c->w);
}

static int all_zero(const char *s, size_t size)
{
	for (size_t i = 0; i < size; i++)
		if (s[i])
			return 0;
	return 1;
}

/* 1: terminated, zero after the string's end (or embedded-NUL bytes: -1); 0: no NUL. */
static int tail_zero(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	if (n >= size)
		return 0;
	for (size_t i = n; i < size; i++)
		if (s[i])
			return -1;   /* bytes after the first NUL are allowed (embedded NUL) */
	return 1;
}

static void check_link(const struct fz_ctx *c, const struct mg_msghdr *h)
{
	struct mg_attr_walk aw;
	const struct mg_linkmsg *m = &aw.m;
	struct ref_link ref;
	uint32_t len = h->len;

	memset(&aw, 0xcc, sizeof(aw));
	aw.src = c->src;
	mg_parse_link(&aw, c->msg_off, len, h->type);

	if (m->type != h->type)
		FAIL("type %u != %u", m->type, h->type);
	if (m->status > MG_PARSE_UNREAD)
		FAIL("status %u out of range", m->status);
	if ((m->status == MG_PARSE_SHORT) != (len < MG_NLMSG_HDRLEN + MG_IFINFOMSG_LEN))
		FAIL("status %u for nlmsg_len %u", m->status, len);
	if (m->status == MG_PARSE_UNREAD)
		FAIL("MG_PARSE_UNREAD on the host (nlmsg_len %u): a read the walk makes is out "
		     "of bounds or the iteration bound is too small", len);
	if (m->ifname[MG_IFNAMSIZ - 1] || m->altname[MG_ALTIFNAMSIZ - 1])
		FAIL("name not NUL-terminated");
	if (m->has_ifname > 1 || m->has_altname > 1 || m->has_group > 1 || m->has_netns > 1 ||
	    m->has_target_netnsid > 1)
		FAIL("flag not 0/1");
	if ((!m->has_ifname && !all_zero(m->ifname, MG_IFNAMSIZ)) ||
	    (!m->has_altname && !all_zero(m->altname, MG_ALTIFNAMSIZ)) ||
	    (!m->has_group && m->group) || (!m->has_target_netnsid && m->target_netnsid))
		FAIL("field set without its attribute");
	if (tail_zero(m->ifname, MG_IFNAMSIZ) == 0 || tail_zero(m->altname, MG_ALTIFNAMSIZ) == 0)
		FAIL("name without terminator");
	if (m->status == MG_PARSE_SHORT)
		return;

	/* Re-walk with a counting callback: the bound guard_request.bpf.c relies on holds. */
	{
		static struct count_ctx cc;
		uint32_t iters = len / MG_NLA_HDRLEN + 1;
		long n;

		memset(&cc, 0, sizeof(cc));
		cc.w.src = c->src;
		cc.w.off = c->msg_off + MG_NLMSG_HDRLEN + MG_IFINFOMSG_LEN;
		cc.w.end = c->msg_off + len;
		n = mg_loop(iters, count_step, &cc);
		if (!cc.w.done || cc.w.err || (uint32_t)n != cc.calls || n > (long)iters ||
		    (uint32_t)n > (len - 32) / 4 + 1)
			FAIL("attribute walk: done %u err %u iterations %ld of %u (nlmsg_len %u)",
			     cc.w.done, cc.w.err, n, iters, len);
		if (memcmp(&cc.w.m.ifname, m->ifname, sizeof(m->ifname)) ||
		    cc.w.m.has_ifname != m->has_ifname)
			FAIL("re-walk disagrees");
	}

	/* The independent kernel model. */
	ref_parse_link(c->src.base + c->msg_off, len, &ref);
	if (ref.short_msg)
		FAIL("model says short, parser did not");
	if (ref_renames(h->type, &ref) && !mg_link_changes_name(m))
		FAIL("missed a rename the kernel would do");
	if (ref_moves(h->type, &ref) && !mg_link_moves_netns(m))
		FAIL("missed a netns move the kernel would do");
	if (ref.rejected)
		return;
	if (m->ifindex != ref.ifindex)
		FAIL("ifindex %d != %d", m->ifindex, ref.ifindex);
	if (m->has_ifname != ref.has_ifname || memcmp(m->ifname, ref.ifname, 16))
		FAIL("ifname %u'%.16s' != kernel %d'%.16s'", m->has_ifname, m->ifname,
		     ref.has_ifname, ref.ifname);
	if (m->has_altname != ref.has_altname || memcmp(m->altname, ref.altname, 128))
		FAIL("altname %u'%.128s' != kernel %d'%.128s'", m->has_altname, m->altname,
		     ref.has_altname, ref.altname);
	if (m->has_group != ref.has_group || m->group != ref.group)
		FAIL("group %u/%u != kernel %d/%u", m->has_group, m->group, ref.has_group,
		     ref.group);
	if (m->has_netns != ref.has_netns)
		FAIL("has_netns %u != kernel %d", m->has_netns, ref.has_netns);
	if (m->has_target_netnsid != ref.has_target_netnsid ||
	    m->target_netnsid != ref.target_netnsid)
		FAIL("target_netnsid differs");
}

static long fz_step(uint32_t i, void *ctx)
{
	struct fz_ctx *c = ctx;
	struct mg_msghdr h;
	uint32_t next = 0xdeadbeef;
	int st;

	(void)i;
	memset(&h, 0, sizeof(h));
	st = mg_msg_at(&c->src, c->msg_off, &h, &next);
	if (st > MG_MSG_ERR)
		FAIL("mg_msg_at status %d", st);
	if (st != MG_MSG_OK) {
		c->end = st;
		return 1;
	}
	if (next <= c->msg_off || next > c->src.len || next - c->msg_off < h.len ||
	    next - c->msg_off < MG_NLMSG_HDRLEN || next - c->msg_off > MG_ALIGN4(h.len))
		FAIL("step %u -> %u for nlmsg_len %u (batch %u)", c->msg_off, next, h.len,
		     c->src.len);
	c->msgs++;
	if (mg_is_link_request(&h))
		check_link(c, &h);
	c->msg_off = next;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_ctx c;
	unsigned char *copy;
	uint32_t iters;
	long n;

	if (size > (1u << 20))
		return 0;
	copy = malloc(size ? size : 1);   /* exact size: ASan flags any byte past the end */
	if (!copy)
		return 0;
	if (size)
		memcpy(copy, data, size);
	memset(&c, 0, sizeof(c));
	c.src.base = copy;
	c.src.len = (uint32_t)size;
	c.end = -1;
	iters = c.src.len / MG_NLMSG_HDRLEN + 1;      /* as guard_request.bpf.c */
	n = mg_loop(iters, fz_step, &c);
	if (c.end != MG_MSG_END)
		FAIL("walk did not end cleanly: end %d after %ld of %u iterations (%u bytes)",
		     c.end, n, iters, c.src.len);
	if (n > (long)iters || c.msgs > c.src.len / MG_NLMSG_HDRLEN)
		FAIL("walk took %ld iterations, %u messages for %u bytes", n, c.msgs, c.src.len);
	free(copy);
	return 0;
}
