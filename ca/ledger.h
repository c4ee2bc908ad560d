/*
 * ledger.h: the sqlite ledger (DESIGN.md "Ledger"): an append-only,
 * hash-chained events table plus the current-state tables, in one file
 * opened in WAL mode with synchronous=FULL.
 *
 * Only ca/ includes sqlite headers.  Other ca/ modules (users.c,
 * request.c, krl data) run their SQL on ledger_db() inside a transaction
 * opened with ledger_begin(), append the matching event with
 * ledger_append() in that same transaction, and commit with
 * ledger_commit(): a state change and its event are one atomic, durable
 * unit.  Nothing here knows about HTTP.
 *
 * Event hash: hash = hex(SHA-256(prev_hash_hex || "\n" || canonical)),
 * where canonical is the compact JSON array
 *   [seq, time, type, actor, subject, details]
 * with details re-serialised with sorted keys (JSON_SORT_KEYS |
 * JSON_COMPACT | JSON_ENSURE_ASCII).  The first event's prev_hash is 64
 * zeros.  ledger_verify() recomputes every row in seq order; a row whose
 * hash, prev_hash or seq (gaps, reordering) does not fit is named.
 *
 * Schema (created by ledger_open(create=1); LEDGER_SCHEMA_VERSION in meta):
 *   meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)
 *       keys: schema_version, last_serial, krl_version, ca_fingerprint
 *   events(seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, type TEXT NOT
 *       NULL, actor TEXT NOT NULL, subject TEXT NOT NULL, details TEXT NOT
 *       NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)
 *   users(name TEXT PRIMARY KEY, groups TEXT NOT NULL (JSON array),
 *       token_hash BLOB, disabled INTEGER NOT NULL DEFAULT 0,
 *       created INTEGER NOT NULL, token_created INTEGER)
 *   requests(id INTEGER PRIMARY KEY, requester TEXT NOT NULL, role TEXT
 *       NOT NULL, principals TEXT NOT NULL (JSON array), ttl INTEGER NOT
 *       NULL, reason TEXT NOT NULL, public_key TEXT NOT NULL, key_fp TEXT
 *       NOT NULL, state TEXT NOT NULL, created INTEGER NOT NULL, expires
 *       INTEGER NOT NULL, approvals_required INTEGER NOT NULL, serial
 *       INTEGER, updated INTEGER NOT NULL)
 *   approvals(request_id INTEGER NOT NULL, approver TEXT NOT NULL,
 *       decision TEXT NOT NULL ('approve'|'deny'), time INTEGER NOT NULL,
 *       comment TEXT NOT NULL DEFAULT '', PRIMARY KEY(request_id, approver))
 *   certificates(serial INTEGER PRIMARY KEY, request_id INTEGER, user TEXT
 *       NOT NULL, role TEXT NOT NULL, key_id TEXT NOT NULL UNIQUE,
 *       principals TEXT NOT NULL, valid_after INTEGER NOT NULL,
 *       valid_before INTEGER NOT NULL, key_fp TEXT NOT NULL, key_blob BLOB
 *       NOT NULL, cert_sha256 TEXT NOT NULL, certificate TEXT NOT NULL,
 *       issued INTEGER NOT NULL, revoked INTEGER)  -- revoked: time or NULL
 *   revoked_keys(key_sha256 BLOB PRIMARY KEY, key_fp TEXT NOT NULL,
 *       time INTEGER NOT NULL, reason TEXT NOT NULL)
 */
#ifndef JITCA_LEDGER_H
#define JITCA_LEDGER_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <sqlite3.h>

#include "signer/err.h"

#define LEDGER_SCHEMA_VERSION 1
#define LEDGER_HASH_HEX 65 /* 64 hex digits + NUL */
#define LEDGER_ERR_LEN 256

enum ledger_format {
	LEDGER_FORMAT_JSONL = 1,
	LEDGER_FORMAT_CSV = 2,
};

struct ledger;

/*
 * Open (and with create=1 create, with the schema) the ledger at path:
 * WAL, synchronous=FULL, foreign keys on, busy timeout 10 s.  Refuses a
 * file with an unknown schema_version.  *out new; ledger_close() frees.
 */
MUST_CHECK int ledger_open(struct ledger **out, const char *path, int create);
void ledger_close(struct ledger *l);
/* The connection, borrowed, for other ca/ modules' statements. */
sqlite3 *ledger_db(struct ledger *l);

/* BEGIN IMMEDIATE (writer lock now, so conditional updates are safe
 * against other processes), COMMIT, ROLLBACK.  Not nestable. */
MUST_CHECK int ledger_begin(struct ledger *l);
MUST_CHECK int ledger_commit(struct ledger *l);
void ledger_rollback(struct ledger *l);

/*
 * Append one event inside the open transaction: seq = last + 1, time =
 * now (seconds), details a JSON object (borrowed, not stolen; NULL means
 * {}).  *seq_out (may be NULL) receives the new seq.
 */
MUST_CHECK int ledger_append(struct ledger *l, int64_t *seq_out,
    const char *type, const char *actor, const char *subject, json_t *details);

/* Next certificate serial (last_serial + 1, stored) inside the open
 * transaction.  Starts at 1; never reused because it commits with the
 * cert.issued event. */
MUST_CHECK int ledger_serial_next(struct ledger *l, uint64_t *serial);
/* Bump and return krl_version inside the open transaction. */
MUST_CHECK int ledger_krl_version_bump(struct ledger *l, uint64_t *version);
/* Current krl_version (no transaction needed). */
MUST_CHECK int ledger_krl_version(struct ledger *l, uint64_t *version);

/*
 * Recompute the whole chain.  Returns 0 when intact (*count = events);
 * ERR_LEDGER_BROKEN with *bad_seq = the first bad row's seq and a message
 * in errbuf otherwise.
 */
MUST_CHECK int ledger_verify(struct ledger *l, int64_t *count, int64_t *bad_seq,
    char errbuf[LEDGER_ERR_LEN]);

/* Write events with seq > since, one per line (JSONL) or row (CSV with a
 * header; RFC 4180 quoting), all fields. */
MUST_CHECK int ledger_export(
    struct ledger *l, FILE *out, enum ledger_format fmt, int64_t since);

/* Events with seq > since as a JSON array of objects, at most limit. */
MUST_CHECK int ledger_events_json(
    struct ledger *l, int64_t since, int64_t limit, json_t **out);

/* 1 in *changed if another connection committed since the last call
 * (PRAGMA data_version), so a service can refresh caches. */
MUST_CHECK int ledger_changed(struct ledger *l, int *changed);

/* Current time in seconds (one clock for the whole CA). */
uint64_t ledger_now(void);

#endif /* JITCA_LEDGER_H */
