/*
 * agent.c: the ssh-agent client of agent.h: framing over the UNIX
 * socket, REQUEST_IDENTITIES, ADD_ID_CONSTRAINED with a LIFETIME
 * constraint, REMOVE_IDENTITY (draft-miller-ssh-agent: ADD_IDENTITY,
 * ADD_ID_CONSTRAINED, REMOVE_IDENTITY).
 *
 * It does not choose which identities to remove;
 * login.c and logout.c do.
 * Works with ephkey.c (the private key serialisation, which includes the
 * certificate blob) and signer/wire.c.  Request buffers hold the private
 * key and are wiped when freed (wire_free).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client/agent.h"
#include "client/ephkey.h"
#include "signer/wire.h"

#define AGENT_IO_TIMEOUT_MS 10000
#define AGENT_MAX_REQUEST (64u * 1024)

struct agent {
	int fd;
};

int
agent_connect(struct agent **out, const char *path)
{
	struct sockaddr_un sun;
	struct agent *a = NULL;
	int fd = -1, r = ERR_INTERNAL;

	if (out == NULL)
		return ERR_INVALID_ARG;
	*out = NULL;
	if (path == NULL)
		path = getenv("SSH_AUTH_SOCK");
	if (path == NULL || *path == '\0')
		return ERR_NO_AGENT;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return ERR_NO_AGENT;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return ERR_SYSTEM;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		r = ERR_NO_AGENT;
		goto out;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	a->fd = fd;
	fd = -1;
	*out = a;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

void
agent_close(struct agent *a)
{
	if (a == NULL)
		return;
	if (a->fd >= 0)
		close(a->fd);
	free(a);
}

static int
io_wait(int fd, short ev)
{
	struct pollfd p = {.fd = fd, .events = ev};
	int n;

	do {
		n = poll(&p, 1, AGENT_IO_TIMEOUT_MS);
	} while (n < 0 && errno == EINTR);
	if (n <= 0)
		return ERR_AGENT;
	return 0;
}

static int
write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;
	int r;

	while (len > 0) {
		if ((r = io_wait(fd, POLLOUT)) != 0)
			return r;
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return ERR_AGENT;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
read_all(int fd, uint8_t *p, size_t len)
{
	ssize_t n;
	int r;

	while (len > 0) {
		if ((r = io_wait(fd, POLLIN)) != 0)
			return r;
		n = read(fd, p, len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return ERR_AGENT;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Send the message in req (type byte + payload) framed as a string
 * (uint32 length, bytes) and read the reply, framed the same way, into
 * a new owned buffer *reply (type byte + payload).  The frame holds a
 * copy of req (a private key when adding) and is wiped when freed.
 */
static int
transact(struct agent *a, const struct wire *req, struct wire **reply)
{
	struct wire *frame = NULL, *rep = NULL;
	uint8_t *dst;
	uint32_t len;
	int r = ERR_INTERNAL;

	*reply = NULL;
	if ((frame = wire_new(AGENT_MAX_REQUEST + 4)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = wire_put_stringb(frame, req)) != 0 ||
	    (r = write_all(a->fd, wire_ptr(frame), wire_len(frame))) != 0)
		goto out;
	/* The reply's length, then the reply. */
	wire_reset(frame);
	if ((r = wire_reserve(frame, 4, &dst)) != 0 ||
	    (r = read_all(a->fd, dst, 4)) != 0 ||
	    (r = wire_get_u32(frame, &len)) != 0)
		goto out;
	if (len == 0 || len > AGENT_MAX_REPLY) {
		r = ERR_AGENT;
		goto out;
	}
	if ((rep = wire_new(len)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = wire_reserve(rep, len, &dst)) != 0 ||
	    (r = read_all(a->fd, dst, len)) != 0)
		goto out;
	*reply = rep;
	rep = NULL;
	r = 0;
out:
	wire_free(frame);
	wire_free(rep);
	return r;
}

/* A reply that must be a bare SUCCESS; FAILURE gives fail_code. */
static int
simple_reply(struct wire *rep, int fail_code)
{
	uint8_t t;

	if (wire_get_u8(rep, &t) != 0)
		return ERR_AGENT;
	if (t == AGENT_SUCCESS)
		return wire_len(rep) == 0 ? 0 : ERR_AGENT;
	/* 30 and 102 are the legacy failure numbers OpenSSH also accepts. */
	if (t == AGENT_FAILURE || t == AGENT_EXTENSION_FAILURE || t == 30 ||
	    t == 102)
		return fail_code;
	return ERR_AGENT;
}

void
agent_ids_free(struct agent_id *ids, size_t n)
{
	size_t i;

	if (ids == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(ids[i].blob);
		free(ids[i].comment);
	}
	free(ids);
}

int
agent_list(struct agent *a, struct agent_id **ids, size_t *n)
{
	struct wire *req = NULL, *rep = NULL;
	struct agent_id *v = NULL;
	const uint8_t *p;
	size_t len, i;
	uint32_t count = 0;
	uint8_t t;
	int r = ERR_INTERNAL;

	if (a == NULL || ids == NULL || n == NULL)
		return ERR_INVALID_ARG;
	*ids = NULL;
	*n = 0;
	if ((req = wire_new(16)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = wire_put_u8(req, AGENTC_REQUEST_IDENTITIES)) != 0 ||
	    (r = transact(a, req, &rep)) != 0)
		goto out;
	if (wire_get_u8(rep, &t) != 0 || t != AGENT_IDENTITIES_ANSWER ||
	    wire_get_u32(rep, &count) != 0 || count > AGENT_MAX_IDS) {
		r = ERR_AGENT;
		goto out;
	}
	if (count > 0 && (v = calloc(count, sizeof(*v))) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < count; i++) {
		if (wire_get_string_direct(rep, &p, &len) != 0 || len == 0) {
			r = ERR_AGENT;
			goto out;
		}
		if ((v[i].blob = malloc(len)) == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
		memcpy(v[i].blob, p, len);
		v[i].blob_len = len;
		/* Comments are free text; an embedded NUL just ends it. */
		if ((r = wire_get_string(
			 rep, (uint8_t **)&v[i].comment, NULL)) != 0) {
			r = ERR_AGENT;
			goto out;
		}
	}
	if (wire_len(rep) != 0) {
		r = ERR_AGENT;
		goto out;
	}
	*ids = v;
	*n = count;
	v = NULL;
	r = 0;
out:
	agent_ids_free(v, v == NULL ? 0 : count);
	wire_free(req);
	wire_free(rep);
	return r;
}

int
agent_add(struct agent *a, const struct ephkey *key, const struct cert *cert,
    const char *comment, uint32_t lifetime)
{
	struct wire *req = NULL, *rep = NULL;
	int r = ERR_INTERNAL;

	if (a == NULL || key == NULL || comment == NULL)
		return ERR_INVALID_ARG;
	if ((req = wire_new(AGENT_MAX_REQUEST)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = wire_put_u8(req,
		 lifetime > 0 ? AGENTC_ADD_ID_CONSTRAINED
			      : AGENTC_ADD_IDENTITY)) != 0 ||
	    (r = ephkey_put_private(req, key, cert)) != 0 ||
	    (r = wire_put_cstring(req, comment)) != 0)
		goto out;
	if (lifetime > 0) {
		if ((r = wire_put_u8(req, AGENT_CONSTRAIN_LIFETIME)) != 0 ||
		    (r = wire_put_u32(req, lifetime)) != 0)
			goto out;
	}
	if ((r = transact(a, req, &rep)) != 0)
		goto out;
	r = simple_reply(rep, ERR_AGENT);
out:
	wire_free(req);
	wire_free(rep);
	return r;
}

int
agent_remove(struct agent *a, const uint8_t *blob, size_t blob_len)
{
	struct wire *req = NULL, *rep = NULL;
	int r = ERR_INTERNAL;

	if (a == NULL || blob == NULL || blob_len == 0)
		return ERR_INVALID_ARG;
	if ((req = wire_new(AGENT_MAX_REQUEST)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = wire_put_u8(req, AGENTC_REMOVE_IDENTITY)) != 0 ||
	    (r = wire_put_string(req, blob, blob_len)) != 0 ||
	    (r = transact(a, req, &rep)) != 0)
		goto out;
	r = simple_reply(rep, ERR_NOT_FOUND);
out:
	wire_free(req);
	wire_free(rep);
	return r;
}
