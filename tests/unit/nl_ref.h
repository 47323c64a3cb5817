/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * An independent model of how the kernel reads one rtnetlink link request, written from
 * the kernel sources (not from bpf/mg_nlparse.h) for differential tests and the fuzzer:
 *
 *  - nlmsg_parse_deprecated(nlh, sizeof(struct ifinfomsg), tb, IFLA_MAX, ifla_policy):
 *    nlmsg_len < nlmsg_msg_size(16) = 32 -> -EINVAL;
 *  - __nla_validate_parse(): nla_for_each_attr(nla, head, len, rem) with
 *    nla_ok(): rem >= 4 && nla_len >= 4 && nla_len <= rem; nla_next() subtracts
 *    NLA_ALIGN(nla_len) from an int rem; type = nla_type & NLA_TYPE_MASK; every attribute
 *    is validated against ifla_policy (any failure rejects the whole message); then
 *    tb[type] = nla, so the LAST attribute of a type wins;
 *  - validate_nla(): NLA_STRING (.len = IFNAMSIZ-1 / ALTIFNAMSIZ-1): attrlen >= 1, one
 *    trailing NUL is not counted, the rest must be <= len; NLA_U32 / NLA_S32: attrlen >= 4
 *    (nla_attr_minlen; longer is only a warning in liberal mode);
 *  - nla_strscpy(): drop one trailing NUL, copy min(len, size-1) bytes, zero-pad the rest.
 *
 * Only the attributes the guard reads are modelled; "rejected" means the kernel's policy
 * check of one of THOSE attributes fails (the kernel may reject for other reasons too).
 */
#ifndef NL_REF_H
#define NL_REF_H

#include <stdint.h>
#include <string.h>

#define REF_IFLA_IFNAME         3
#define REF_IFLA_NET_NS_PID     19
#define REF_IFLA_GROUP          27
#define REF_IFLA_NET_NS_FD      28
#define REF_IFLA_TARGET_NETNSID 46
#define REF_IFLA_ALT_IFNAME     53

struct ref_link {
	int      short_msg;      /* nlmsg_parse fails on the length: nothing happens */
	int      rejected;       /* a policy check of a modelled attribute fails */
	int32_t  ifindex;
	int      has_ifname, has_altname, has_group, has_netns, has_target_netnsid;
	uint32_t group;
	int32_t  target_netnsid;
	unsigned attrs;          /* attributes nla_for_each_attr visited */
	char     ifname[16];
	char     altname[128];
};

static inline uint16_t ref_get16(const unsigned char *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static inline void ref_strscpy(char *dst, const unsigned char *src, size_t srclen,
			       size_t dstsize)
{
	size_t len;

	if (srclen > 0 && src[srclen - 1] == '\0')
		srclen--;
	len = srclen >= dstsize ? dstsize - 1 : srclen;
	memcpy(dst, src, len);
	memset(dst + len, 0, dstsize - len);
}

static inline int ref_string_ok(const unsigned char *p, int attrlen, int maxlen)
{
	if (attrlen < 1)
		return 0;
	if (p[attrlen - 1] == '\0')
		attrlen--;
	return attrlen <= maxlen;
}

/* msg points at the nlmsghdr; nlmsg_len bytes are readable. */
static inline void ref_parse_link(const unsigned char *msg, uint32_t nlmsg_len,
				  struct ref_link *r)
{
	const unsigned char *tb[64] = { 0 };
	const unsigned char *nla;
	int rem;

	memset(r, 0, sizeof(*r));
	if (nlmsg_len < 32) {
		r->short_msg = 1;
		return;
	}
	memcpy(&r->ifindex, msg + 20, 4);
	nla = msg + 32;
	rem = (int)nlmsg_len - 32;
	while (rem >= 4) {
		uint16_t nla_len = ref_get16(nla);
		uint16_t type = ref_get16(nla + 2) & (uint16_t)~(0x8000 | 0x4000);
		int attrlen = nla_len - 4;

		if (nla_len < 4 || nla_len > rem)
			break;
		r->attrs++;
		switch (type) {
		case REF_IFLA_IFNAME:
			if (!ref_string_ok(nla + 4, attrlen, 15))
				r->rejected = 1;
			break;
		case REF_IFLA_ALT_IFNAME:
			if (!ref_string_ok(nla + 4, attrlen, 127))
				r->rejected = 1;
			break;
		case REF_IFLA_GROUP:
		case REF_IFLA_NET_NS_PID:
		case REF_IFLA_NET_NS_FD:
		case REF_IFLA_TARGET_NETNSID:
			if (attrlen < 4)
				r->rejected = 1;
			break;
		}
		if (type < 64)
			tb[type] = nla;
		rem -= (nla_len + 3) & ~3;
		nla += (nla_len + 3) & ~3;
	}
	if (tb[REF_IFLA_IFNAME]) {
		r->has_ifname = 1;
		ref_strscpy(r->ifname, tb[REF_IFLA_IFNAME] + 4,
			    ref_get16(tb[REF_IFLA_IFNAME]) - 4u, sizeof(r->ifname));
	}
	if (tb[REF_IFLA_ALT_IFNAME]) {
		r->has_altname = 1;
		ref_strscpy(r->altname, tb[REF_IFLA_ALT_IFNAME] + 4,
			    ref_get16(tb[REF_IFLA_ALT_IFNAME]) - 4u, sizeof(r->altname));
	}
	if (tb[REF_IFLA_GROUP] && ref_get16(tb[REF_IFLA_GROUP]) >= 8) {
		r->has_group = 1;
		memcpy(&r->group, tb[REF_IFLA_GROUP] + 4, 4);
	}
	r->has_netns = tb[REF_IFLA_NET_NS_PID] || tb[REF_IFLA_NET_NS_FD];
	if (tb[REF_IFLA_TARGET_NETNSID] && ref_get16(tb[REF_IFLA_TARGET_NETNSID]) >= 8) {
		r->has_target_netnsid = 1;
		memcpy(&r->target_netnsid, tb[REF_IFLA_TARGET_NETNSID] + 4, 4);
	}
}

/* do_setlink(): "interface selected by interface index but interface name provided implies
 * that a name change has been requested": ifi_index > 0 && ifname[0] (after nla_strscpy). */
static inline int ref_renames(uint16_t msg_type, const struct ref_link *r)
{
	return (msg_type == 16 || msg_type == 19) && !r->short_msg && !r->rejected &&
	       r->ifindex > 0 && r->has_ifname && r->ifname[0] != '\0';
}

/* do_setlink(): tb[IFLA_NET_NS_PID] || tb[IFLA_NET_NS_FD] || tb[IFLA_TARGET_NETNSID]
 * (rtnl_dellink refuses NET_NS_PID/FD and uses TARGET_NETNSID only as the lookup netns). */
static inline int ref_moves(uint16_t msg_type, const struct ref_link *r)
{
	return (msg_type == 16 || msg_type == 19) && !r->short_msg && !r->rejected &&
	       (r->has_netns || r->has_target_netnsid);
}

#endif /* NL_REF_H */
