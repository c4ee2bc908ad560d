/*
 * httpjson.c: a JSON request to jitcad serve with libcurl, and reading
 * its string members (httpjson.h).
 */
#include "tests/lib/httpjson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include "tests/lib/testutil.h"

CURL *
tu_curl_new(
    struct tu_reply *r, const char *method, const char *url, long timeout_s)
{
	CURL *c = curl_easy_init();

	memset(r, 0, sizeof(*r));
	cr_assert_not_null(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, tu_curl_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, tu_curl_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
	return c;
}

struct curl_slist *
tu_curl_json(CURL *c, struct curl_slist *h, const char *token, const char *body,
    char **auth)
{
	*auth = NULL;
	if (token != NULL) {
		*auth = tu_fmt("Authorization: Bearer %s", token);
		h = curl_slist_append(h, *auth);
	}
	h = curl_slist_append(h, "Content-Type: application/json");
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	return h;
}

struct tu_res
tu_http_json(const char *url, const char *method, const char *path,
    const char *token, const char *body, long timeout_s)
{
	struct tu_reply rep;
	struct tu_res out;
	char *u = tu_fmt("%s%s", url, path), *auth;
	CURL *c = tu_curl_new(&rep, method, u, timeout_s);
	struct curl_slist *h = tu_curl_json(c, NULL, token, body, &auth);

	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	cr_assert_eq(curl_easy_perform(c), CURLE_OK, "%s %s", method, path);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
	snprintf(out.hdrs, sizeof(out.hdrs), "%s", rep.hdrs);
	out.j = json_loads(rep.body != NULL ? rep.body : "", 0, NULL);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(rep.body);
	free(auth);
	free(u);
	return out;
}

const char *
tu_jstr(json_t *j, const char *a, const char *b)
{
	json_t *v = json_object_get(j, a);

	if (b != NULL)
		v = json_object_get(v, b);
	return json_is_string(v) ? json_string_value(v) : "";
}
