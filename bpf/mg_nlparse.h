/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Reading rtnetlink link requests the way the kernel reads them. Shared by the BPF guard
 * (which reads the skb with bpf_probe_read_kernel and loops with bpf_loop) and by the
 * host unit tests and fuzzer (memcpy and a plain loop), so the parsing logic that decides
 * what a message targets is tested outside the kernel.
 *
 * The kernel's reading (net/netlink/af_netlink.c netlink_rcv_skb, lib/nlattr.c):
 *  - messages follow each other at NLMSG_ALIGN(nlmsg_len); the walk stops at the first
 *    header with nlmsg_len < 16 or nlmsg_len > the bytes left;
 *  - only messages with NLM_F_REQUEST are processed;
 *  - rtnl_{del,new,set}link parse attributes with nlmsg_parse_deprecated: the attribute
 *    walk stops at the first attribute that is not nla_ok(); types are masked with
 *    NLA_TYPE_MASK; unknown types are skipped; a repeated type: the LAST one wins.
 */
#ifndef MG_NLPARSE_H
#define MG_NLPARSE_H

#include "mg_abi.h"

#define MG_NLMSG_HDRLEN        16
#define MG_NLM_F_REQUEST       0x1
#define MG_IFINFOMSG_LEN       16
#define MG_NLA_HDRLEN          4
#define MG_NLA_TYPE_MASK       0x3fff  /* ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) */
#define MG_ALIGN4(x)           (((x) + 3u) & ~3u)

#define MG_RTM_NEWLINK         16
#define MG_RTM_DELLINK         17
#define MG_RTM_SETLINK         19
#define MG_RTM_NEWLINKPROP     108
#define MG_RTM_DELLINKPROP     109

#define MG_AF_BRIDGE           7   /* ifi_family of bridge port requests (rtnl_bridge_*) */

#define MG_IFLA_IFNAME         3
#define MG_IFLA_NET_NS_PID     19
#define MG_IFLA_GROUP          27
#define MG_IFLA_NET_NS_FD      28
#define MG_IFLA_TARGET_NETNSID 46
#define MG_IFLA_ALT_IFNAME     53

/* bpf_loop's own ceiling: a message longer than this many attributes/messages cannot be
 * walked to its end and is treated as unparsable (fail closed). */
#define MG_LOOP_MAX            (1u << 23)

#ifdef __bpf__
#define MG_INLINE static __always_inline
/* The source bytes live in kernel memory (skb->data: the LSM guard) or, with user set, in
 * the sender's memory (the fallback reads the sendmsg/sendto buffer at syscall entry). */
struct mg_src {
	__u64 base;
	__u32 len;
	__u32 user;
};
MG_INLINE int mg_src_read(const struct mg_src *s, __u32 off, void *dst, __u32 n)
{
	if (off > s->len || n > s->len - off)
		return -1;
	if (s->user)
		return bpf_probe_read_user(dst, n, (const void *)(s->base + off)) ? -1 : 0;
	return bpf_probe_read_kernel(dst, n, (const void *)(s->base + off)) ? -1 : 0;
}
#define mg_loop(n, cb, ctx) bpf_loop((n), (cb), (ctx), 0)
#else
#include <string.h>
#define MG_INLINE static inline
struct mg_src {
	const unsigned char *base;
	__u32 len;
	__u32 user;      /* BPF only: the bytes are in user memory */
};
MG_INLINE int mg_src_read(const struct mg_src *s, __u32 off, void *dst, __u32 n)
{
	if (off > s->len || n > s->len - off)
		return -1;
	memcpy(dst, s->base + off, n);
	return 0;
}
/* Same contract as bpf_loop: returns the number of iterations run; a callback
 * returning 1 stops the loop (that iteration counts). */
MG_INLINE long mg_loop(__u32 n, long (*cb)(__u32, void *), void *ctx)
{
	__u32 i;
	for (i = 0; i < n;) {
		long r = cb(i, ctx);
		i++;
		if (r)
			break;
	}
	return i;
}
#endif

/* One message header as the walk saw it. */
struct mg_msghdr {
	__u32 len;
	__u16 type;
	__u16 flags;
	__u32 seq;
	__u32 pid;
};

enum mg_msg_status {
	MG_MSG_OK  = 0,   /* a message at off; next message at *next */
	MG_MSG_END = 1,   /* the kernel would stop here */
	MG_MSG_ERR = 2,   /* could not read bytes the kernel would read: fail closed */
};

/* The message at off, with the kernel's stop rules. */
MG_INLINE int mg_msg_at(const struct mg_src *s, __u32 off, struct mg_msghdr *h, __u32 *next)
{
	__u32 left, step;

	if (off >= s->len || s->len - off < MG_NLMSG_HDRLEN)
		return MG_MSG_END;
	if (mg_src_read(s, off, h, sizeof(*h)))
		return MG_MSG_ERR;
	left = s->len - off;
	if (h->len < MG_NLMSG_HDRLEN || h->len > left)
		return MG_MSG_END;
	step = MG_ALIGN4(h->len);
	if (step > left || step < h->len)   /* the kernel caps the pull at what is left */
		step = left;
	*next = off + step;
	return MG_MSG_OK;
}

MG_INLINE int mg_is_link_request(const struct mg_msghdr *h)
{
	if (!(h->flags & MG_NLM_F_REQUEST))
		return 0;
	return h->type == MG_RTM_DELLINK || h->type == MG_RTM_NEWLINK ||
	       h->type == MG_RTM_SETLINK || h->type == MG_RTM_NEWLINKPROP ||
	       h->type == MG_RTM_DELLINKPROP;
}

/* What a link request says about its target and about changes that matter to us. */
struct mg_linkmsg {
	__s32 ifindex;            /* ifinfomsg.ifi_index */
	__u32 group;
	__s32 target_netnsid;
	__u16 type;
	__u8  has_ifname;
	__u8  has_altname;
	__u8  has_group;
	__u8  has_netns;          /* IFLA_NET_NS_PID or IFLA_NET_NS_FD */
	__u8  has_target_netnsid;
	__u8  status;             /* MG_PARSE_* */
	__u8  family;             /* ifinfomsg.ifi_family: rtnetlink picks the handler by it */
	__u8  pad[3];
	char  ifname[MG_IFNAMSIZ];
	char  altname[MG_ALTIFNAMSIZ];
};

enum mg_parse_status {
	MG_PARSE_OK      = 0,
	MG_PARSE_SHORT   = 1,  /* shorter than nlmsghdr + ifinfomsg: the kernel rejects it */
	MG_PARSE_UNREAD  = 2,  /* bytes the kernel reads could not be read: fail closed */
};

/* Attribute walk state; no pointers inside, so it can be a bpf_loop context. */
struct mg_attr_walk {
	struct mg_src src;
	__u32 off;
	__u32 end;
	__u8  done;      /* walk reached a stop the kernel would reach too */
	__u8  err;
	__u8  pad[2];
	__u32 pad2;
	struct mg_linkmsg m;
};

/* Copy a string attribute as nla_strscpy() does: at most size-1 bytes, stopping at the
 * first NUL; dst is zero-filled first, so it is always terminated. */
MG_INLINE int mg_read_name(const struct mg_src *s, __u32 off, __u32 plen, char *dst,
			   __u32 size)
{
	__u32 n = plen;

	__builtin_memset(dst, 0, size);
	if (n > size - 1)
		n = size - 1;
	if (n == 0)
		return 0;
#ifdef __bpf__
	/* A variable length the verifier can bound. */
	if (size == MG_IFNAMSIZ) {
		n &= MG_IFNAMSIZ - 1;
	} else {
		n &= MG_ALTIFNAMSIZ - 1;
	}
	if (n == 0)
		return 0;
#endif
	return mg_src_read(s, off, dst, n);
}

MG_INLINE long mg_attr_step(__u32 i, void *ctx)
{
	struct mg_attr_walk *w = ctx;
	__u16 nla[2];
	__u32 nla_len, type, payload, plen, step;

	(void)i;
	if (w->off >= w->end || w->end - w->off < MG_NLA_HDRLEN) {
		w->done = 1;
		return 1;
	}
	if (mg_src_read(&w->src, w->off, nla, sizeof(nla))) {
		w->err = 1;
		return 1;
	}
	nla_len = nla[0];
	if (nla_len < MG_NLA_HDRLEN || nla_len > w->end - w->off) {
		w->done = 1;     /* !nla_ok(): the kernel stops, the rest is ignored */
		return 1;
	}
	type = nla[1] & MG_NLA_TYPE_MASK;
	payload = w->off + MG_NLA_HDRLEN;
	plen = nla_len - MG_NLA_HDRLEN;
	switch (type) {
	case MG_IFLA_IFNAME:
		if (mg_read_name(&w->src, payload, plen, w->m.ifname, MG_IFNAMSIZ)) {
			w->err = 1;
			return 1;
		}
		w->m.has_ifname = 1;
		break;
	case MG_IFLA_ALT_IFNAME:
		if (mg_read_name(&w->src, payload, plen, w->m.altname, MG_ALTIFNAMSIZ)) {
			w->err = 1;
			return 1;
		}
		w->m.has_altname = 1;
		break;
	case MG_IFLA_GROUP:
		/* NLA_U32: shorter payloads are rejected by the kernel's policy check. */
		if (plen >= 4) {
			if (mg_src_read(&w->src, payload, &w->m.group, 4)) {
				w->err = 1;
				return 1;
			}
			w->m.has_group = 1;
		}
		break;
	case MG_IFLA_NET_NS_PID:
	case MG_IFLA_NET_NS_FD:
		w->m.has_netns = 1;
		break;
	case MG_IFLA_TARGET_NETNSID:
		if (plen >= 4) {
			if (mg_src_read(&w->src, payload, &w->m.target_netnsid, 4)) {
				w->err = 1;
				return 1;
			}
			w->m.has_target_netnsid = 1;
		}
		break;
	default:
		break;
	}
	step = MG_ALIGN4(nla_len);
	if (step > w->end - w->off)
		step = w->end - w->off;
	w->off += step;
	return 0;
}

/*
 * Parse the link request at off (length len from its header) into w->m. Callers set
 * w->src first. Each attribute consumes at least 4 bytes, so (len / 4) + 1 iterations
 * always reach the end; a walk that still did not reach it is reported as unread.
 */
MG_INLINE void mg_parse_link(struct mg_attr_walk *w, __u32 off, __u32 len, __u16 type)
{
	__s32 ifindex = 0;
	__u8 family = 0;
	__u32 iters;

	__builtin_memset(&w->m, 0, sizeof(w->m));
	w->m.type = type;
	w->done = 0;
	w->err = 0;
	if (len < MG_NLMSG_HDRLEN + MG_IFINFOMSG_LEN) {
		w->m.status = MG_PARSE_SHORT;
		return;
	}
	if (mg_src_read(&w->src, off + MG_NLMSG_HDRLEN + 4, &ifindex, 4)) {
		w->m.status = MG_PARSE_UNREAD;
		return;
	}
	if (mg_src_read(&w->src, off + MG_NLMSG_HDRLEN, &family, 1)) {
		w->m.status = MG_PARSE_UNREAD;
		return;
	}
	w->m.ifindex = ifindex;
	w->m.family = family;
	w->off = off + MG_NLMSG_HDRLEN + MG_IFINFOMSG_LEN;
	w->end = off + len;
	iters = (len / MG_NLA_HDRLEN) + 1;
	if (iters > MG_LOOP_MAX) {
		w->m.status = MG_PARSE_UNREAD;
		return;
	}
	mg_loop(iters, mg_attr_step, w);
	if (w->err || !w->done)
		w->m.status = MG_PARSE_UNREAD;
	else
		w->m.status = MG_PARSE_OK;
}

/* Does the request rename the link or move it to another netns? (Only meaningful when
 * the target was found by index: a name given without an index is the lookup key.) */
MG_INLINE int mg_link_changes_name(const struct mg_linkmsg *m)
{
	/* do_setlink renames only for ifi_index > 0 and a non-empty name */
	return m->type != MG_RTM_DELLINK && m->ifindex > 0 && m->has_ifname && m->ifname[0];
}

MG_INLINE int mg_link_moves_netns(const struct mg_linkmsg *m)
{
	return m->type != MG_RTM_DELLINK && (m->has_netns || m->has_target_netnsid);
}

#endif /* MG_NLPARSE_H */
