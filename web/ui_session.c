/*
 * ui_session.c: the in-memory session table of ui_session.h: a fixed
 * array searched by the SHA-256 of the id, in constant time per entry.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "signer/wire.h"
#include "web/ui_session.h"

struct ui_entry {
	int used;
	uint8_t idhash[SHA256_DIGEST_LENGTH];
	uint64_t last_used, opened;
	struct ui_session se;
};

struct ui_pending {
	int used;
	char state[UI_SESSION_ID_LEN + 1];
	uint64_t created;
	struct ui_login l;
};

struct ui_sessions {
	pthread_mutex_t lock;
	struct ui_entry e[UI_SESSION_MAX];
	struct ui_pending p[UI_LOGIN_MAX]; /* sign-ins at the provider */
	size_t pnext;
};

int
ui_sessions_new(struct ui_sessions **out)
{
	struct ui_sessions *s;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return ERR_ALLOC;
	pthread_mutex_init(&s->lock, NULL);
	*out = s;
	return 0;
}

void
ui_sessions_free(struct ui_sessions *s)
{
	if (s == NULL)
		return;
	pthread_mutex_destroy(&s->lock);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

static int
random_hex(char out[UI_SESSION_ID_LEN + 1])
{
	uint8_t b[UI_SESSION_ID_LEN / 2];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return ERR_CRYPTO;
	wire_hex_encode(out, b, sizeof(b));
	OPENSSL_cleanse(b, sizeof(b));
	return 0;
}

static int
live(const struct ui_entry *e, uint64_t now)
{
	return e->used && now < e->se.expires &&
	    now - e->last_used < UI_SESSION_IDLE;
}

/* A free slot, else the one used longest ago. */
static struct ui_entry *
slot(struct ui_sessions *s, uint64_t now)
{
	struct ui_entry *old = &s->e[0];
	size_t i;

	for (i = 0; i < UI_SESSION_MAX; i++) {
		if (!live(&s->e[i], now))
			return &s->e[i];
		if (s->e[i].last_used < old->last_used)
			old = &s->e[i];
	}
	return old;
}

int
ui_session_open(struct ui_sessions *s, const char *user, int oidc,
    uint64_t auth_time, uint64_t expires, uint64_t now,
    char id[UI_SESSION_ID_LEN + 1])
{
	struct ui_entry *e;
	char csrf[UI_SESSION_ID_LEN + 1];
	int r;

	if (user == NULL || strlen(user) > UI_NAME_MAX || expires <= now)
		return ERR_INVALID_ARG;
	if ((r = random_hex(id)) != 0 || (r = random_hex(csrf)) != 0)
		return r;
	if (expires > now + UI_SESSION_MAX_TTL)
		expires = now + UI_SESSION_MAX_TTL;
	pthread_mutex_lock(&s->lock);
	e = slot(s, now);
	memset(e, 0, sizeof(*e));
	e->used = 1;
	SHA256((const uint8_t *)id, strlen(id), e->idhash);
	e->opened = e->last_used = now;
	snprintf(e->se.user, sizeof(e->se.user), "%s", user);
	memcpy(e->se.csrf, csrf, sizeof(csrf));
	e->se.oidc = oidc;
	e->se.auth_time = auth_time;
	e->se.expires = expires;
	pthread_mutex_unlock(&s->lock);
	OPENSSL_cleanse(csrf, sizeof(csrf));
	return 0;
}

/* The entry of id (only a live one unless any), or NULL; call with the
 * lock held. */
static struct ui_entry *
find(struct ui_sessions *s, const char *id, uint64_t now, int any)
{
	uint8_t h[SHA256_DIGEST_LENGTH];
	struct ui_entry *hit = NULL;
	size_t i;

	if (id == NULL || strlen(id) != UI_SESSION_ID_LEN)
		return NULL;
	SHA256((const uint8_t *)id, UI_SESSION_ID_LEN, h);
	for (i = 0; i < UI_SESSION_MAX; i++) {
		if (s->e[i].used &&
		    CRYPTO_memcmp(s->e[i].idhash, h, sizeof(h)) == 0)
			hit = &s->e[i];
	}
	return hit != NULL && (any || live(hit, now)) ? hit : NULL;
}

int
ui_session_find(
    struct ui_sessions *s, const char *id, uint64_t now, struct ui_session *out)
{
	struct ui_entry *e;

	pthread_mutex_lock(&s->lock);
	if ((e = find(s, id, now, 0)) != NULL) {
		e->last_used = now;
		*out = e->se;
	}
	pthread_mutex_unlock(&s->lock);
	return e != NULL ? 0 : ERR_UI_SESSION;
}

void
ui_session_close(struct ui_sessions *s, const char *id)
{
	struct ui_entry *e;

	pthread_mutex_lock(&s->lock);
	if ((e = find(s, id, 0, 1)) != NULL)
		memset(e, 0, sizeof(*e));
	pthread_mutex_unlock(&s->lock);
}

int
ui_csrf_ok(const struct ui_session *se, const char *token)
{
	if (token == NULL || strlen(token) != UI_SESSION_ID_LEN)
		return 0;
	return CRYPTO_memcmp(se->csrf, token, UI_SESSION_ID_LEN) == 0;
}

int
ui_login_begin(struct ui_sessions *s, const char *next, const char *redirect,
    uint64_t now, char state[UI_SESSION_ID_LEN + 1], struct ui_login *out)
{
	struct ui_pending *p;
	int r;

	memset(out, 0, sizeof(*out));
	if (strlen(next) >= sizeof(out->next) ||
	    strlen(redirect) >= sizeof(out->redirect))
		return ERR_INVALID_ARG;
	if ((r = random_hex(state)) != 0 || (r = random_hex(out->nonce)) != 0 ||
	    (r = random_hex(out->verifier)) != 0)
		return r;
	snprintf(out->next, sizeof(out->next), "%s", next);
	snprintf(out->redirect, sizeof(out->redirect), "%s", redirect);
	pthread_mutex_lock(&s->lock);
	p = &s->p[s->pnext];
	s->pnext = (s->pnext + 1) % UI_LOGIN_MAX;
	p->used = 1;
	memcpy(p->state, state, UI_SESSION_ID_LEN + 1);
	p->created = now;
	p->l = *out;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int
ui_login_take(struct ui_sessions *s, const char *state, uint64_t now,
    struct ui_login *out)
{
	size_t i;
	int r = ERR_UI_SESSION;

	if (state == NULL || strlen(state) != UI_SESSION_ID_LEN)
		return r;
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < UI_LOGIN_MAX; i++) {
		struct ui_pending *p = &s->p[i];

		if (!p->used ||
		    CRYPTO_memcmp(p->state, state, UI_SESSION_ID_LEN) != 0)
			continue;
		if (now - p->created < UI_LOGIN_TTL) {
			*out = p->l;
			r = 0;
		}
		OPENSSL_cleanse(p, sizeof(*p)); /* once only */
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}
