/*
 * httpjson.h: one HTTP request to a test's jitcad serve with libcurl,
 * the reply's status, headers and body parsed as JSON; and reading a
 * string member of such a reply.  For the integration tests that speak
 * the API directly (the jitca client has its own tests).
 *
 * A transfer that fails fails the running criterion test; the JSON is
 * NULL when the body is not JSON.  Needs libcurl and jansson, which
 * every integration test links.
 */
#ifndef JITCA_TESTS_HTTPJSON_H
#define JITCA_TESTS_HTTPJSON_H

#include <jansson.h>

#include <curl/curl.h>

struct tu_reply;

/* A new easy handle for METHOD URL collecting into r (zeroed here) with
 * tu_curl_body and tu_curl_header, and a timeout of timeout_s seconds;
 * NULL-checked. */
CURL *tu_curl_new(
    struct tu_reply *r, const char *method, const char *url, long timeout_s);
/* Appends "Authorization: Bearer TOKEN" (token not NULL) and
 * "Content-Type: application/json" to h and, with body not NULL, makes
 * it c's POST data; returns the list.  *auth gets the Authorization
 * string (NULL without a token), to free after the transfer. */
struct curl_slist *tu_curl_json(CURL *c, struct curl_slist *h,
    const char *token, const char *body, char **auth);

/* A reply: the HTTP status, its JSON (json_decref it; NULL when the body
 * is not JSON) and the first 4095 bytes of its headers. */
struct tu_res {
	long status;
	json_t *j;
	char hdrs[4096];
};

/* METHOD URL+PATH with "Authorization: Bearer TOKEN" when token is not
 * NULL, Content-Type application/json, body (may be NULL) as the posted
 * data, and a timeout of timeout_s seconds. */
struct tu_res tu_http_json(const char *url, const char *method,
    const char *path, const char *token, const char *body, long timeout_s);

/* The string at j.a (b NULL) or j.a.b, "" when there is none. */
const char *tu_jstr(json_t *j, const char *a, const char *b);

#endif /* JITCA_TESTS_HTTPJSON_H */
