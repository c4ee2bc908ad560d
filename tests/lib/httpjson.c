/*
 * httpjson.c: a JSON request to jitcad serve with libcurl, and reading
 * its string members (httpjson.h).
 */
#include "tests/lib/httpjson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <curl/curl.h>

#include "tests/lib/testutil.h"

struct tu_res
tu_http_json(const char *url, const char *method, const char *path,
    const char *token, const char *body, long timeout_s)
{
	struct tu_reply rep;
	struct tu_res out;
	struct curl_slist *h = NULL;
	char *u = tu_fmt("%s%s", url, path), *auth = NULL;
	CURL *c = curl_easy_init();

	memset(&rep, 0, sizeof(rep));
	cr_assert_not_null(c);
	curl_easy_setopt(c, CURLOPT_URL, u);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, tu_curl_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &rep);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, tu_curl_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &rep);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (token != NULL) {
		auth = tu_fmt("Authorization: Bearer %s", token);
		h = curl_slist_append(h, auth);
	}
	h = curl_slist_append(h, "Content-Type: application/json");
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
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
