/*
 * ratelimit.c: the sliding-window limiter of ratelimit.h: a chained hash
 * table (FNV-1a) of keys, each with its event times oldest first.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "web/ratelimit.h"

#define NBUCKETS 256

struct rl_key {
	struct rl_key *next;
	char *key;
	uint64_t *t; /* event times, oldest first */
	size_t n, cap;
};

struct ratelimit {
	pthread_mutex_t mu;
	struct rl_key *b[NBUCKETS];
};

static size_t
bucket(const char *key)
{
	uint32_t h = 2166136261u;

	for (; *key != '\0'; key++)
		h = (h ^ (unsigned char)*key) * 16777619u;
	return h % NBUCKETS;
}

static void
key_free(struct rl_key *k)
{
	if (k == NULL)
		return;
	free(k->key);
	free(k->t);
	free(k);
}

int
ratelimit_new(struct ratelimit **out)
{
	struct ratelimit *rl;

	*out = NULL;
	if ((rl = calloc(1, sizeof(*rl))) == NULL)
		return ERR_ALLOC;
	if (pthread_mutex_init(&rl->mu, NULL) != 0) {
		free(rl);
		return ERR_SYSTEM;
	}
	*out = rl;
	return 0;
}

void
ratelimit_free(struct ratelimit *rl)
{
	struct rl_key *k, *next;
	size_t i;

	if (rl == NULL)
		return;
	for (i = 0; i < NBUCKETS; i++) {
		for (k = rl->b[i]; k != NULL; k = next) {
			next = k->next;
			key_free(k);
		}
	}
	pthread_mutex_destroy(&rl->mu);
	free(rl);
}

/* Drop the events of k at or before now - window. */
static void
key_expire(struct rl_key *k, uint64_t now)
{
	size_t i = 0;

	while (i < k->n && k->t[i] + RATELIMIT_WINDOW <= now)
		i++;
	if (i > 0) {
		memmove(k->t, k->t + i, (k->n - i) * sizeof(*k->t));
		k->n -= i;
	}
}

int
ratelimit_take(struct ratelimit *rl, const char *key, unsigned limit,
    uint64_t now, uint64_t *retry_after)
{
	struct rl_key *k = NULL, *nk = NULL;
	uint64_t *nt;
	size_t h, klen, drop;
	int r = ERR_INTERNAL;

	*retry_after = 0;
	if (rl == NULL || key == NULL)
		return ERR_INVALID_ARG;
	klen = strnlen(key, RATELIMIT_KEY_MAX + 1);
	if (klen == 0 || klen > RATELIMIT_KEY_MAX)
		return ERR_INVALID_ARG;
	if (limit == 0)
		return 0;
	h = bucket(key);
	pthread_mutex_lock(&rl->mu);
	for (k = rl->b[h]; k != NULL; k = k->next)
		if (strcmp(k->key, key) == 0)
			break;
	if (k == NULL) {
		ENSURE((nk = calloc(1, sizeof(*nk))) != NULL, ERR_ALLOC);
		ENSURE((nk->key = strdup(key)) != NULL, ERR_ALLOC);
		nk->next = rl->b[h];
		rl->b[h] = k = nk;
		nk = NULL;
	}
	key_expire(k, now);
	if (k->n >= limit) {
		/* The (n - limit)th oldest must leave before one more fits;
		 * keep only the newest limit times (the limit may have
		 * shrunk). */
		drop = k->n - limit;
		*retry_after = k->t[drop] + RATELIMIT_WINDOW - now;
		if (*retry_after > RATELIMIT_WINDOW)
			*retry_after = RATELIMIT_WINDOW; /* clock went back */
		memmove(k->t, k->t + drop, limit * sizeof(*k->t));
		k->n = limit;
		r = ERR_RATE_LIMITED;
		goto out;
	}
	if (k->n == k->cap) {
		size_t ncap = k->cap == 0 ? 4 : k->cap * 2;

		if (ncap > limit)
			ncap = limit;
		ENSURE((nt = realloc(k->t, ncap * sizeof(*nt))) != NULL,
		    ERR_ALLOC);
		k->t = nt;
		k->cap = ncap;
	}
	k->t[k->n++] = now;
	r = 0;
out:
	pthread_mutex_unlock(&rl->mu);
	key_free(nk);
	return r;
}

void
ratelimit_prune(struct ratelimit *rl, uint64_t now)
{
	struct rl_key **pp, *k;
	size_t i;

	if (rl == NULL)
		return;
	pthread_mutex_lock(&rl->mu);
	for (i = 0; i < NBUCKETS; i++) {
		for (pp = &rl->b[i]; (k = *pp) != NULL;) {
			key_expire(k, now);
			if (k->n == 0) {
				*pp = k->next;
				key_free(k);
			} else
				pp = &k->next;
		}
	}
	pthread_mutex_unlock(&rl->mu);
}
