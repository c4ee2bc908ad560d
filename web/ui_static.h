/*
 * ui_static.h: the pages' static files (the folder web/static), compiled into
 * the binary by web/embed.cmake at build time, each with its content type and
 * a strong ETag (the quoted hex SHA-256 of its bytes).  web/ui.c serves
 * them under /ui/static/NAME with a year of caching.
 */
#ifndef JITCA_UI_STATIC_H
#define JITCA_UI_STATIC_H

#include <stddef.h>

struct ui_static {
	const char *name; /* "ui.css" */
	const char *type; /* "text/css; charset=utf-8" */
	const unsigned char *data;
	size_t len;
	const char *etag; /* "\"HEX\"" */
};

/* Ends with an entry whose name is NULL. */
extern const struct ui_static ui_static_files[];

#endif /* JITCA_UI_STATIC_H */
