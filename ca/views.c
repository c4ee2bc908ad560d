/*
 * views.c: freeing the views of views.h, and the string-list copy their
 * fillers share.  Filling them is the domain's
 * (request.c, users.c, revoke.c); encoding them is web/encode.c's.
 */
#include <stdlib.h>
#include <string.h>

#include "ca/config.h"
#include "ca/views.h"
#include "signer/err.h"

int
view_strv_dup(char *const *src, size_t n, char ***out)
{
	char **v = NULL;
	size_t i;

	*out = NULL;
	if (n == 0)
		return 0;
	if ((v = calloc(n, sizeof(*v))) == NULL)
		return ERR_ALLOC;
	for (i = 0; i < n; i++) {
		if ((v[i] = strdup(src[i])) == NULL) {
			config_strv_free(v, i);
			return ERR_ALLOC;
		}
	}
	*out = v;
	return 0;
}

static void
options_free(struct option_view *o, size_t n)
{
	size_t i;

	if (o == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(o[i].name);
		free(o[i].value);
	}
	free(o);
}

void
cert_view_free(struct cert_view *c)
{
	if (c == NULL)
		return;
	free(c->certificate);
	free(c->key_id);
	free(c);
}

void
request_view_clear(struct request_view *v)
{
	size_t i;

	if (v == NULL)
		return;
	free(v->state);
	free(v->role);
	free(v->requester);
	config_strv_free(v->principals, v->nprincipals);
	free(v->reason);
	free(v->key_fp);
	free(v->key_type);
	free(v->public_key);
	config_strv_free(v->approver_groups, v->napprover_groups);
	options_free(v->critical, v->ncritical);
	config_strv_free(v->extensions, v->nextensions);
	for (i = 0; v->decisions != NULL && i < v->ndecisions; i++) {
		free(v->decisions[i].approver);
		free(v->decisions[i].decision);
		free(v->decisions[i].comment);
	}
	free(v->decisions);
	cert_view_free(v->cert);
	memset(v, 0, sizeof(*v));
}

void
request_view_free(struct request_view *v)
{
	request_view_clear(v);
	free(v);
}

void
request_views_free(struct request_views *v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v->v != NULL && i < v->n; i++)
		request_view_clear(&v->v[i]);
	free(v->v);
	free(v);
}

void
role_view_clear(struct role_view *v)
{
	if (v == NULL)
		return;
	free(v->name);
	config_strv_free(v->principals, v->nprincipals);
	options_free(v->critical, v->ncritical);
	config_strv_free(v->extensions, v->nextensions);
	config_strv_free(v->requesters, v->nrequesters);
	config_strv_free(v->approvers, v->napprovers);
	memset(v, 0, sizeof(*v));
}

void
role_views_free(struct role_views *v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v->v != NULL && i < v->n; i++)
		role_view_clear(&v->v[i]);
	free(v->v);
	free(v);
}

void
user_view_clear(struct user_view *v)
{
	if (v == NULL)
		return;
	free(v->name);
	config_strv_free(v->groups, v->ngroups);
	memset(v, 0, sizeof(*v));
}

void
user_views_free(struct user_views *v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v->v != NULL && i < v->n; i++)
		user_view_clear(&v->v[i]);
	free(v->v);
	free(v);
}

void
revocation_view_free(struct revocation_view *v)
{
	if (v == NULL)
		return;
	free(v->revoked);
	free(v->already_revoked);
	free(v->key_fp);
	free(v);
}
