/*
 * test_ui_form.c: web/ui_form.c and web/ui_session.c: strict form
 * bodies (escapes, duplicates, NUL, limits), the cookie reader, the
 * same-origin rule of a POST, and the page sessions (random ids, only
 * live ones found, sign-out, the CSRF comparison).
 */
#include <string.h>

#include <criterion/criterion.h>

#include "web/ui_form.h"
#include "web/ui_session.h"

static int
parse(const char *body, struct ui_form *f, const char **why)
{
	return ui_form_parse(f, (const uint8_t *)body, strlen(body), why);
}

Test(ui_form, decodes_fields)
{
	struct ui_form f;
	const char *why;

	cr_assert_eq(parse("a=1&b=x+y%26z&c=&d&e=%3Cs%3E", &f, &why), 0);
	cr_assert_str_eq(ui_form_get(&f, "a"), "1");
	cr_assert_str_eq(ui_form_get(&f, "b"), "x y&z");
	cr_assert_str_eq(ui_form_get(&f, "c"), "");
	cr_assert_str_eq(ui_form_get(&f, "d"), "");
	cr_assert_str_eq(ui_form_get(&f, "e"), "<s>");
	cr_assert_null(ui_form_get(&f, "z"));
	ui_form_free(&f);
	cr_assert_eq(parse("", &f, &why), 0);
	cr_assert_eq(f.n, 0);
	ui_form_free(&f);
}

Test(ui_form, refuses_bad_bodies)
{
	static const char *const bad[] = {
	    "a=%zz",
	    "a=%4",
	    "a=%",
	    "a=%00",
	    "a=1&a=2",
	    "csrf=x&csrf=y",
	    "a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9&j=10&k=11&l=12&m=13&n=14&o=15"
	    "&p=16&q=17",
	};
	struct ui_form f;
	const char *why;
	char big[UI_FORM_MAX_VALUE + 8];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(
		    parse(bad[i], &f, &why), ERR_BAD_FORMAT, "%s", bad[i]);
		cr_assert_not_null(why);
		ui_form_free(&f);
	}
	cr_assert_eq(ui_form_parse(&f, (const uint8_t *)"a=1\0b=2", 7, &why),
	    ERR_BAD_FORMAT);
	ui_form_free(&f);
	memset(big, 'x', sizeof(big));
	memcpy(big, "a=", 2);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(parse(big, &f, &why), ERR_BAD_FORMAT);
	cr_assert_str_eq(why, "a form field is too long");
	ui_form_free(&f);
}

Test(ui_form, cookies)
{
	char v[65];

	cr_assert_eq(
	    ui_cookie_get("a=1; jitca_ui=abc; b=2", "jitca_ui", v, sizeof(v)),
	    1);
	cr_assert_str_eq(v, "abc");
	cr_assert_eq(ui_cookie_get("jitca_ui=z", "jitca_ui", v, sizeof(v)), 1);
	cr_assert_str_eq(v, "z");
	cr_assert_eq(
	    ui_cookie_get("xjitca_ui=z; b=1", "jitca_ui", v, sizeof(v)), 0);
	cr_assert_eq(ui_cookie_get("jitca_uix=z", "jitca_ui", v, sizeof(v)), 0);
	cr_assert_eq(ui_cookie_get("", "jitca_ui", v, sizeof(v)), 0);
	cr_assert_eq(ui_cookie_get("jitca_ui=0123456789", "jitca_ui", v, 5), 0);
}

Test(ui_form, same_origin)
{
	const char *h = "127.0.0.1:8443";

	cr_assert_eq(ui_same_origin("http://127.0.0.1:8443", NULL, h, 0), 1);
	cr_assert_eq(ui_same_origin("https://127.0.0.1:8443", NULL, h, 1), 1);
	cr_assert_eq(ui_same_origin("https://127.0.0.1:8443", NULL, h, 0), 0);
	cr_assert_eq(ui_same_origin("http://127.0.0.1:8443", NULL, h, 1), 0);
	cr_assert_eq(ui_same_origin("http://evil.example", NULL, h, 0), 0);
	cr_assert_eq(ui_same_origin("null", NULL, h, 0), 0);
	cr_assert_eq(ui_same_origin("http://127.0.0.1:84430", NULL, h, 0), 0);
	/* Origin wins over Referer. */
	cr_assert_eq(ui_same_origin("http://evil.example",
			 "http://127.0.0.1:8443/ui/", h, 0),
	    0);
	cr_assert_eq(
	    ui_same_origin(NULL, "http://127.0.0.1:8443/ui/requests/1", h, 0),
	    1);
	cr_assert_eq(
	    ui_same_origin(NULL, "http://127.0.0.1:8443.evil.example/", h, 0),
	    0);
	cr_assert_eq(ui_same_origin(NULL, "http://127.0.0.1:84/", h, 0), 0);
	cr_assert_eq(ui_same_origin(NULL, NULL, h, 0), 0);
	cr_assert_eq(ui_same_origin("http://127.0.0.1:8443", NULL, NULL, 0), 0);
	cr_assert_eq(ui_same_origin("http://a@b", NULL, "a@b", 0), 0);
}

Test(ui_session, open_find_close)
{
	struct ui_sessions *s;
	struct ui_session se, se2;
	char id[UI_SESSION_ID_LEN + 1], id2[UI_SESSION_ID_LEN + 1];
	char wrong[UI_SESSION_ID_LEN + 1];

	cr_assert_eq(ui_sessions_new(&s), 0);
	cr_assert_eq(ui_session_open(s, "bob", 0, 0, 1000 + 60, 1000, id), 0);
	cr_assert_eq(ui_session_open(s, "ann", 1, 990, 5000, 1000, id2), 0);
	cr_assert_eq(strlen(id), UI_SESSION_ID_LEN);
	cr_assert_eq(strspn(id, "0123456789abcdef"), UI_SESSION_ID_LEN);
	cr_assert_str_neq(id, id2);
	cr_assert_eq(ui_session_find(s, id, 1001, &se), 0);
	cr_assert_str_eq(se.user, "bob");
	cr_assert_eq(ui_session_find(s, id2, 1001, &se2), 0);
	cr_assert_str_eq(se2.user, "ann");
	cr_assert_eq(se2.oidc, 1);
	cr_assert_eq(se2.auth_time, 990);
	cr_assert_str_neq(se.csrf, se2.csrf);
	cr_assert_eq(ui_csrf_ok(&se, se.csrf), 1);
	cr_assert_eq(ui_csrf_ok(&se, se2.csrf), 0);
	cr_assert_eq(ui_csrf_ok(&se, NULL), 0);
	cr_assert_eq(ui_csrf_ok(&se, ""), 0);
	/* Past its expiry, past the idle limit, a wrong or short id. */
	cr_assert_eq(ui_session_find(s, id, 1060, &se), ERR_UI_SESSION);
	cr_assert_eq(ui_session_find(s, id2, 1001 + UI_SESSION_IDLE, &se2),
	    ERR_UI_SESSION);
	memcpy(wrong, id2, sizeof(wrong));
	wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
	cr_assert_eq(ui_session_find(s, wrong, 1002, &se2), ERR_UI_SESSION);
	cr_assert_eq(ui_session_find(s, "abc", 1002, &se2), ERR_UI_SESSION);
	cr_assert_eq(ui_session_find(s, NULL, 1002, &se2), ERR_UI_SESSION);
	cr_assert_eq(ui_session_find(s, id2, 1002, &se2), 0);
	ui_session_close(s, id2);
	cr_assert_eq(ui_session_find(s, id2, 1003, &se2), ERR_UI_SESSION);
	/* Capped at UI_SESSION_MAX_TTL; bad arguments. */
	cr_assert_eq(ui_session_open(s, "cy", 0, 0, UINT64_MAX, 1000, id), 0);
	cr_assert_eq(ui_session_find(s, id, 1000 + 3600, &se), 0);
	cr_assert_eq(se.expires, 1000 + UI_SESSION_MAX_TTL);
	cr_assert_eq(
	    ui_session_open(s, "dee", 0, 0, 1000, 1000, id), ERR_INVALID_ARG);
	cr_assert_eq(
	    ui_session_open(s, NULL, 0, 0, 2000, 1000, id), ERR_INVALID_ARG);
	ui_sessions_free(s);
}
