/* The agent's event stream to `macvguard monitor` clients (MG_EVENTS_SOCK, one
 * struct mg_wire per SOCK_SEQPACKET message): accept, forward, and count what a slow
 * client loses so that received + lost is exact. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "agent_clients.h"

/* A client that cannot keep up loses records; the count goes to it as a LOST record
 * (itself retried until it fits) before anything else, so received + lost is exact. */
static bool flush_client_lost(struct agent *a, int i)
{
	struct mg_wire lost = { .kind = MG_WIRE_LOST };

	if (!a->client_lost[i])
		return true;
	lost.lost = a->client_lost[i];
	mg_strlcpy(lost.where, "monitor socket", sizeof(lost.where));
	if (send(a->clients[i], &lost, sizeof(lost), MSG_DONTWAIT | MSG_NOSIGNAL) ==
	    (ssize_t)sizeof(lost)) {
		a->client_lost[i] = 0;
		return true;
	}
	return false;
}

void agent_clients_flush(struct agent *a)
{
	int i;

	for (i = 0; i < MAX_CLIENTS; i++)
		if (a->clients[i] >= 0)
			flush_client_lost(a, i);
}

void agent_clients_forward(struct agent *a, const struct mg_wire *w)
{
	unsigned long long n = w->kind == MG_WIRE_LOST ? w->lost : 1;
	int i;

	for (i = 0; i < MAX_CLIENTS; i++) {
		if (a->clients[i] < 0)
			continue;
		if (!flush_client_lost(a, i)) {
			a->client_lost[i] += n;
			continue;
		}
		if (send(a->clients[i], w, sizeof(*w), MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) {
			a->client_active_ns[i] = mg_now_mono_ns();
		} else {
			if (errno == EAGAIN || errno == ENOBUFS) {
				a->client_lost[i] += n;
			} else {
				close(a->clients[i]);
				a->clients[i] = -1;
			}
		}
	}
}

int agent_clients_open(struct agent *a)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	mg_strlcpy(sa.sun_path, MG_EVENTS_SOCK, sizeof(sa.sun_path));
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(MG_EVENTS_SOCK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 8)) {
		int e = errno;
		close(fd);
		return -e;
	}
	chmod(MG_EVENTS_SOCK, 0600);
	a->listen_fd = fd;
	return 0;
}

void agent_clients_accept(struct agent *a)
{
	int fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK), i;
	const char *knob = getenv("MG_CLIENT_SNDBUF");   /* tests: force client-side loss */
	int sndbuf = knob ? atoi(knob) : 16 << 20;

	if (fd < 0)
		return;
	/* root may exceed wmem_max: room for ~12,000 records per slow client */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	for (i = 0; i < MAX_CLIENTS; i++)
		if (a->clients[i] < 0)
			break;
	if (i == MAX_CLIENTS) {
		/* full: the client that has gone longest without taking a record leaves, told
		 * why, rather than the newcomer being shut out in silence */
		struct mg_wire bye = { .kind = MG_WIRE_BYE };
		int idlest = 0;

		for (int k = 1; k < MAX_CLIENTS; k++)
			if (a->client_active_ns[k] < a->client_active_ns[idlest])
				idlest = k;
		snprintf(bye.where, sizeof(bye.where), "evicted: %d clients", MAX_CLIENTS);
		send(a->clients[idlest], &bye, sizeof(bye), MSG_DONTWAIT | MSG_NOSIGNAL);
		close(a->clients[idlest]);
		a->clients_evicted++;
		if (a->clients_evicted == 1 || a->clients_evicted % 100 == 0)
			mg_warn("%d monitor clients connected: evicted the idlest (%llu so far)",
				MAX_CLIENTS, a->clients_evicted);
		i = idlest;
	}
	a->clients[i] = fd;
	a->client_lost[i] = 0;
	a->client_active_ns[i] = mg_now_mono_ns();
}

/* Clients that hung up or failed; every client at the end. */
void agent_clients_reap(struct agent *a, const struct pollfd *pfd)
{
	for (int i = 0; i < MAX_CLIENTS; i++) {
		if (pfd[i].fd >= 0 && (pfd[i].revents & (POLLHUP | POLLERR))) {
			close(a->clients[i]);
			a->clients[i] = -1;
		}
	}
}

void agent_clients_close(struct agent *a)
{
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (a->clients[i] >= 0)
			close(a->clients[i]);
	if (a->listen_fd >= 0) {
		close(a->listen_fd);
		unlink(MG_EVENTS_SOCK);
	}
}
