/*
 * testutil.h: small helpers shared by the criterion tests: temporary
 * directories, running commands and capturing their output, reading and
 * writing files, free loopback ports, locating built programs, copying a
 * public key, collecting a libcurl reply.  Child processes and servers
 * are in proc.h.
 *
 * Helpers abort the test (criterion's cr_assert) on setup failures, so
 * tests read straight.  Strings they return are malloc'd; tests free them
 * or let the forked test process end.
 */
#ifndef JITCA_TESTUTIL_H
#define JITCA_TESTUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* A new empty directory under $TMPDIR (or /tmp). */
char *tu_tmpdir(void);
/* rm -rf dir (best effort). */
void tu_rmtree(const char *dir);
/* Run argv (NULL-terminated) with optional stdin data; capture stdout and
 * stderr (each may be NULL to discard).  Returns the exit status, or
 * 128 + signal. */
int tu_run(char *const argv[], const char *input, char **out, char **err);
/* Run a shell command line through /bin/sh -c. */
int tu_sh(const char *cmd, char **out, char **err);
/* printf into a new string. */
char *tu_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Whole file into a new NUL-terminated buffer (len may be NULL); NULL
 * if it cannot be read. */
char *tu_read_file(const char *path, size_t *len);
/* Write len bytes with the given mode (creating or truncating). */
void tu_write_file(const char *path, const void *data, size_t len, int mode);
/* A TCP port on 127.0.0.1 that was free a moment ago. */
int tu_free_port(void);
/* Environment variable set by ctest (JITCAD, JITCA_SOURCE_DIR, ...);
 * fails the test when missing. */
const char *tu_env(const char *name);
/* Path of an executable found in PATH, /usr/sbin or /usr/bin, else NULL. */
char *tu_which(const char *prog);

/* s with what follows every occurrence of key, up to the first
 * character of ends (exclusive), replaced by rep: for pinning JSON byte
 * for byte with its random or clock-dependent values masked.  s is
 * freed; the result is new. */
char *tu_mask(char *s, const char *key, const char *ends, const char *rep);

/*
 * Pin actual to want byte for byte (cr_assert_str_eq), or, with
 * PIN_RECORD set in the environment, print "PIN <line> <actual>" on
 * stderr instead: how the JSON pins were taken from the code before a
 * refactoring.
 */
void tu_pin(const char *actual, const char *want, int line);
#define TU_PIN(actual, want) tu_pin((actual), (want), __LINE__)

/* A malloc that fails once: tu_fail_malloc_arm(n) makes the nth call
 * after it return NULL (0: never); tu_fail_malloc_failed() says whether
 * it did.  For json_set_alloc_funcs() in the out-of-memory tests. */
void tu_fail_malloc_arm(size_t n);
int tu_fail_malloc_failed(void);
void *tu_fail_malloc(size_t n);

/* Keep p (malloc'd; NULL is fine) to be freed by tu_keep_free(), which
 * a test's teardown calls; returns p.  Thread-safe; past 8192 blocks the
 * rest are left to the end of the test process. */
void *tu_keep(void *p);
void tu_keep_free(void);

/*
 * A reply collected by libcurl: give tu_curl_body as CURLOPT_WRITEFUNCTION
 * and tu_curl_header as CURLOPT_HEADERFUNCTION, each with a struct
 * tu_reply * as its data.  body is malloc'd and NUL-terminated (free it);
 * hdrs keeps the first sizeof(hdrs) - 1 bytes of the headers.  They
 * assert nothing (tests call curl from threads): running out of memory
 * fails the transfer.
 */
struct tu_reply {
	long status;
	char *body;
	size_t len;
	char hdrs[4096];
	size_t hlen;
};
size_t tu_curl_body(char *p, size_t size, size_t n, void *reply);
size_t tu_curl_header(char *p, size_t size, size_t n, void *reply);

/* A new copy of k (pubkey_from_blob of its blob); free with
 * pubkey_free(). */
struct pubkey;
struct pubkey *tu_pubkey_copy(const struct pubkey *k);

#endif /* JITCA_TESTUTIL_H */
