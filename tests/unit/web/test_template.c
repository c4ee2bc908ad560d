/*
 * test_template.c: web/template.c, the pages' escaping renderer: every
 * context (text, attr, url, html) with hostile values — quotes, <, &,
 * javascript: and data: links, schemes after whitespace or controls,
 * other origins, control characters, bidi controls, invalid UTF-8 — and
 * templates that name an unknown context or value.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "web/template.h"

/* The output of one placeholder ctx with value s (static). */
static const char *
one(const char *ctx, const char *s)
{
	static char out[1024];
	struct tpl_buf b;
	char tpl[64];
	const struct tpl_var v[] = {{"v", s, NULL}};

	snprintf(tpl, sizeof(tpl), "[{{%s:v}}]", ctx);
	tpl_init(&b);
	cr_assert_eq(tpl_render(&b, tpl, v, 1), 0, "%s", tpl);
	snprintf(out, sizeof(out), "%s", tpl_str(&b));
	tpl_free(&b);
	return out;
}

Test(template, text_escapes_markup)
{
	cr_assert_str_eq(one("text", "<script>alert(1)</script>"),
	    "[&lt;script&gt;alert(1)&lt;/script&gt;]");
	cr_assert_str_eq(one("text", "<img src=x onerror=alert(1)>"),
	    "[&lt;img src=x onerror=alert(1)&gt;]");
	cr_assert_str_eq(one("text", "a & b \"c\" 'd'"),
	    "[a &amp; b &quot;c&quot; &#39;d&#39;]");
	cr_assert_str_eq(one("text", "&amp;"), "[&amp;amp;]");
	cr_assert_str_eq(one("text", ""), "[]");
	cr_assert_str_eq(one("text", NULL), "[]");
	cr_assert_str_eq(one("text", "caf\xc3\xa9 \xe2\x9c\x93"),
	    "[caf\xc3\xa9 \xe2\x9c\x93]");
}

Test(template, attr_cannot_break_out_of_quotes)
{
	cr_assert_str_eq(one("attr", "\" onmouseover=\"alert(1)"),
	    "[&quot; onmouseover=&quot;alert(1)]");
	cr_assert_str_eq(one("attr", "' autofocus onfocus='x"),
	    "[&#39; autofocus onfocus=&#39;x]");
	cr_assert_str_eq(one("attr", "a>b<c"), "[a&gt;b&lt;c]");
}

Test(template, controls_and_bad_utf8_become_replacement)
{
	/* C0 controls (not tab or newline), DEL, C1, bidi override,
	 * zero-width space; a stray continuation byte, a truncated and an
	 * overlong sequence, a surrogate. */
	cr_assert_str_eq(one("text",
			     "a\x01"
			     "b\x1b[31m"),
	    "[a\xef\xbf\xbd"
	    "b\xef\xbf\xbd[31m]");
	cr_assert_str_eq(one("text", "tab\there\nline"), "[tab\there\nline]");
	cr_assert_str_eq(one("text", "\x7f"), "[\xef\xbf\xbd]");
	cr_assert_str_eq(one("text", "\xc2\x85"), "[\xef\xbf\xbd]");
	cr_assert_str_eq(one("text", "x\xe2\x80\xaey"), "[x\xef\xbf\xbdy]");
	cr_assert_str_eq(one("text", "\xe2\x80\x8b"), "[\xef\xbf\xbd]");
	cr_assert_str_eq(one("text", "\x80<"), "[\xef\xbf\xbd&lt;]");
	cr_assert_str_eq(one("text", "\xe2\x82"), "[\xef\xbf\xbd\xef\xbf\xbd]");
	cr_assert_str_eq(one("text", "\xc0\xbc"), "[\xef\xbf\xbd\xef\xbf\xbd]");
	cr_assert_str_eq(one("attr", "\xed\xa0\x80"),
	    "[\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd]");
}

Test(template, url_allows_http_https_and_relative)
{
	cr_assert_str_eq(one("url", "https://example.com/a?b=1&c=2"),
	    "[https://example.com/a?b=1&amp;c=2]");
	cr_assert_str_eq(
	    one("url", "HTTP://example.com/"), "[HTTP://example.com/]");
	cr_assert_str_eq(one("url", "/ui/requests/7"), "[/ui/requests/7]");
	cr_assert_str_eq(
	    one("url", "?after=5&type=x"), "[?after=5&amp;type=x]");
	cr_assert_str_eq(one("url", "#main"), "[#main]");
	cr_assert_str_eq(one("url", "a/b:c"), "[a/b:c]");
	/* A relative link cannot leave its quotes either. */
	cr_assert_str_eq(one("url", "\"onmouseover=alert(1)"),
	    "[&quot;onmouseover=alert(1)]");
}

Test(template, url_refuses_other_schemes)
{
	static const char *const bad[] = {
	    "javascript:alert(1)",
	    "JaVaScRiPt:alert(1)",
	    " javascript:alert(1)",
	    "\tjavascript:alert(1)",
	    "\x01javascript:alert(1)",
	    "java\tscript:alert(1)",
	    "java\nscript:alert(1)",
	    "javascript&colon;alert(1)x:",
	    "data:text/html,<script>alert(1)</script>",
	    "vbscript:msgbox(1)",
	    "file:///etc/passwd",
	    "//evil.example/x",
	    "/\\evil.example",
	    "https:\\\\evil.example",
	    "httpx://example.com",
	    "%6aavascript:alert(1)",
	    "https://ex ample.com",
	    "https://caf\xc3\xa9.example",
	    "",
	    NULL,
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_str_eq(one("url", bad[i]), "[#]", "%zu: %s", i,
		    bad[i] != NULL ? bad[i] : "(null)");
		cr_assert_eq(tpl_url_safe(bad[i]), 0, "%zu", i);
	}
}

Test(template, html_fragments_and_many_values)
{
	struct tpl_buf frag, b;

	tpl_init(&frag);
	tpl_init(&b);
	tpl_raw(&frag, "<em>");
	tpl_text(&frag, "<b>");
	tpl_raw(&frag, "</em>");
	{
		const struct tpl_var v[] = {{"f", NULL, &frag},
		    {"t", "x<y", NULL}, {"u", "javascript:1", NULL}};

		cr_assert_eq(
		    tpl_render(&b,
			"<p title=\"{{attr:t}}\">{{html:f}} {{text:t}} "
			"<a href=\"{{url:u}}\">l</a></p>",
			v, 3),
		    0);
	}
	cr_assert_str_eq(tpl_str(&b),
	    "<p title=\"x&lt;y\"><em>&lt;b&gt;</em> x&lt;y <a href=\"#\">l</a></p>");
	tpl_free(&frag);
	tpl_free(&b);
}

Test(template, bad_templates_fail_whole)
{
	const struct tpl_var v[] = {{"s", "x", NULL}};
	static const char *const bad[] = {
	    "{{js:s}}", /* unknown context */
	    "{{text:nope}}", /* unknown value */
	    "{{text}}", /* no context */
	    "{{html:s}}", /* a string as markup */
	    "a {{text:s}", /* unterminated */
	    "{{raw:s}}",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tpl_buf b;

		tpl_init(&b);
		cr_assert_eq(
		    tpl_render(&b, bad[i], v, 1), ERR_TEMPLATE, "%s", bad[i]);
		cr_assert_eq(b.err, ERR_TEMPLATE);
		tpl_free(&b);
	}
}

Test(template, long_output_grows)
{
	struct tpl_buf b;
	size_t i;

	tpl_init(&b);
	for (i = 0; i < 10000; i++)
		tpl_text(&b, "<&>");
	cr_assert_eq(b.len, 10000 * strlen("&lt;&amp;&gt;"));
	cr_assert_eq(b.err, 0);
	tpl_free(&b);
}
