/*
 * store.c: the parts of store.h that do not depend on a backend: the
 * error message of a store and freeing rows.  Works with
 * ca/store/store.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/crypto.h>

#include "ca/store/store.h"

void
store_msg_set(struct store *s, const char *fmt, ...)
{
	va_list ap;

	if (s == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
	va_end(ap);
}

void
store_user_free(struct store_user *u)
{
	if (u == NULL)
		return;
	free(u->name);
	free(u->groups);
	OPENSSL_cleanse(u->token_hash, sizeof(u->token_hash));
	free(u);
}
