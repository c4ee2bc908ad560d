/*
 * krl.c: the KRL builder, checker and installer of krl.h.
 *
 * Building: revocations are appended to flat arrays (serial ranges and key
 * ids per CA, hashes for the whole KRL); krl_serialize() sorts them (a
 * pre-sorted array, the usual case when serials come from the ledger in
 * order, is detected and not re-sorted), merges overlapping and adjacent
 * ranges in one pass, and walks them once with ssh-keygen's cost model
 * (PROTOCOL.krl, choose_next_state() in OpenSSH's krl.c, read
 * but not copied).  Bitmaps are built directly as bytes in a fixed
 * KRL_BITMAP_BITS-bit array: no big-number library, no per-serial
 * allocation.  The output goes into one struct wire (signer/wire.h)
 * capped at KRL_SIZE_MAX, whose item lengths are back-patched with
 * wire_poke_u32() once an item is complete.
 *
 * Checking: krl_check() parses with signer/wire.h views and refuses what
 * OpenSSH's ssh_krl_from_blob() refuses (see krl.h for the list).
 *
 * Installing: krl_write_atomic(), temp file + fsync + rename + directory
 * fsync (signer/fileio.h), the way sshd's RevokedKeys file must be
 * replaced.
 *
 * Not here: which revocations are current (the ledger), serving the KRL
 * over HTTP (web/), the CLI (jitcad krl).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "signer/base/fileio.h"
#include "signer/krl.h"
#include "signer/wire.h"

struct krl_range {
	uint64_t lo, hi;
};

struct krl_hash {
	uint8_t h[32];
};

/* Revocations under one CA key. */
struct krl_ca {
	uint8_t *blob;
	size_t blob_len;
	struct krl_range *ranges;
	size_t nranges, ranges_cap;
	char **ids;
	size_t nids, ids_cap;
};

struct krl {
	uint64_t version;
	uint64_t date;
	char *comment;
	struct krl_ca *cas;
	size_t ncas;
	size_t last_ca; /* index of the CA used last: a cheap lookup cache */
	struct krl_hash *hashes;
	size_t nhashes, hashes_cap;
};

/* Output items ---------------------------------------------------------- */

/*
 * Open a "byte type, string body" item: write the type and a length
 * placeholder, and remember where the body starts.
 */
static int
krl_item_open(struct wire *b, uint8_t type, size_t *start)
{
	int r;

	if ((r = wire_put_u8(b, type)) != 0 || (r = wire_put_u32(b, 0)) != 0)
		return r;
	*start = wire_len(b);
	return 0;
}

/* Back-patch the length of the body opened at start. */
static int
krl_item_close(struct wire *b, size_t start)
{
	return wire_poke_u32(b, start - 4, (uint32_t)(wire_len(b) - start));
}

/* Key blobs -------------------------------------------------------------- */

static int
krl_str_is(const uint8_t *p, size_t len, const char *s)
{
	return len == strlen(s) && memcmp(p, s, len) == 0;
}

/*
 * Check that blob has the shape of a plain ed25519, ECDSA or RSA public key
 * blob (RFC 4253 section 6.6, RFC 5656 section 3.1, RFC 8709 section 4).  The
 * key itself is not validated (that is signer/pubkey.c's job); this only keeps
 * garbage out of KRLs.
 */
static int
krl_key_blob_check(const uint8_t *blob, size_t len)
{
	static const char *const curves[] = {
	    "nistp256", "nistp384", "nistp521"};
	static const size_t qlens[] = {65, 97, 133};
	struct wire *w = NULL;
	const uint8_t *name, *p, *mag;
	size_t nlen, plen, mlen, i;
	int r = ERR_INTERNAL;

	if (len == 0)
		return ERR_BAD_FORMAT;
	if (len > KRL_CA_BLOB_MAX)
		return ERR_TOO_LARGE;
	if ((w = wire_from(blob, len)) == NULL)
		return ERR_ALLOC;
	if (wire_get_string_direct(w, &name, &nlen) != 0) {
		r = ERR_BAD_FORMAT;
		goto out;
	}
	if (krl_str_is(name, nlen, "ssh-ed25519")) {
		ENSURE(wire_get_string_direct(w, &p, &plen) == 0 && plen == 32,
		    ERR_BAD_FORMAT);
	} else if (krl_str_is(name, nlen, "ssh-rsa")) {
		ENSURE(wire_get_mpint_direct(w, &mag, &mlen) == 0 && mlen > 0,
		    ERR_BAD_FORMAT);
		ENSURE(wire_get_mpint_direct(w, &mag, &mlen) == 0 && mlen > 0,
		    ERR_BAD_FORMAT);
	} else if (nlen == 19 && memcmp(name, "ecdsa-sha2-", 11) == 0) {
		for (i = 0; i < 3; i++) {
			if (memcmp(name + 11, curves[i], 8) == 0)
				break;
		}
		ENSURE(i < 3, ERR_KEY_UNKNOWN_TYPE);
		ENSURE(wire_get_string_direct(w, &p, &plen) == 0 &&
			krl_str_is(p, plen, curves[i]),
		    ERR_BAD_FORMAT);
		ENSURE(wire_get_string_direct(w, &p, &plen) == 0 &&
			plen == qlens[i] && p[0] == 0x04,
		    ERR_BAD_FORMAT);
	} else if (nlen > 21 &&
	    memcmp(name + nlen - 21, "-cert-v01@openssh.com", 21) == 0) {
		r = ERR_KEY_IS_CERT;
		goto out;
	} else {
		r = ERR_KEY_UNKNOWN_TYPE;
		goto out;
	}
	ENSURE(wire_len(w) == 0, ERR_TRAILING_DATA);
	r = 0;
out:
	wire_free(w);
	return r;
}

/* Building --------------------------------------------------------------- */

int
krl_new(struct krl **out, uint64_t krl_version, uint64_t generated_date,
    const char *comment)
{
	struct krl *k = NULL;
	int r = ERR_INTERNAL;

	if (out == NULL)
		return ERR_INVALID_ARG;
	*out = NULL;
	if (comment == NULL)
		comment = "";
	ENSURE(strlen(comment) <= KRL_COMMENT_MAX, ERR_TOO_LARGE);
	ENSURE((k = calloc(1, sizeof(*k))) != NULL, ERR_ALLOC);
	ENSURE((k->comment = strdup(comment)) != NULL, ERR_ALLOC);
	k->version = krl_version;
	k->date = generated_date;
	*out = k;
	k = NULL;
	r = 0;
out:
	krl_free(k);
	return r;
}

void
krl_free(struct krl *krl)
{
	size_t i, j;

	if (krl == NULL)
		return;
	for (i = 0; i < krl->ncas; i++) {
		free(krl->cas[i].blob);
		free(krl->cas[i].ranges);
		for (j = 0; j < krl->cas[i].nids; j++)
			free(krl->cas[i].ids[j]);
		free(krl->cas[i].ids);
	}
	free(krl->cas);
	free(krl->hashes);
	free(krl->comment);
	free(krl);
}

/* Grow *arr (of *cap elements of size sz) to hold one more than n. */
static int
krl_grow(void **arr, size_t *cap, size_t n, size_t sz, size_t max)
{
	size_t ncap;
	void *na;

	if (n >= max)
		return ERR_TOO_LARGE;
	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	if (ncap > max)
		ncap = max;
	if ((na = realloc(*arr, ncap * sz)) == NULL)
		return ERR_ALLOC;
	*arr = na;
	*cap = ncap;
	return 0;
}

/*
 * Make krl->last_ca the section of the CA with this blob, created on first
 * use.  The section used last is compared first (callers revoke many
 * serials of one CA in a row).  Returns the index in krl->cas rather than
 * a pointer through an out-parameter, so that krl_revoke_serials(), called
 * once per serial, has no address-taken local (and no stack-protector
 * prologue) on its path.
 */
static int
krl_ca_find(struct krl *krl, const uint8_t *blob, size_t len)
{
	struct krl_ca *ca, *ncas;
	size_t i;
	int r;

	if (krl->ncas > 0) {
		ca = &krl->cas[krl->last_ca];
		if (ca->blob_len == len && memcmp(ca->blob, blob, len) == 0)
			return 0;
	}
	for (i = 0; i < krl->ncas; i++) {
		ca = &krl->cas[i];
		if (ca->blob_len == len && memcmp(ca->blob, blob, len) == 0) {
			krl->last_ca = i;
			return 0;
		}
	}
	if (krl->ncas >= KRL_CA_MAX)
		return ERR_TOO_LARGE;
	if ((r = krl_key_blob_check(blob, len)) != 0)
		return r;
	ncas = realloc(krl->cas, (krl->ncas + 1) * sizeof(*ncas));
	if (ncas == NULL)
		return ERR_ALLOC;
	krl->cas = ncas;
	ca = &krl->cas[krl->ncas];
	memset(ca, 0, sizeof(*ca));
	if ((ca->blob = malloc(len)) == NULL)
		return ERR_ALLOC;
	memcpy(ca->blob, blob, len);
	ca->blob_len = len;
	krl->last_ca = krl->ncas++;
	return 0;
}

int
krl_revoke_serials(struct krl *krl, const uint8_t *ca_blob, size_t ca_len,
    uint64_t lo, uint64_t hi)
{
	struct krl_ca *ca = NULL;
	int r = ERR_INTERNAL;

	ENSURE(krl != NULL && ca_blob != NULL && ca_len > 0, ERR_INVALID_ARG);
	ENSURE(lo != 0 && hi != 0, ERR_CERT_SERIAL_ZERO);
	ENSURE(lo <= hi, ERR_INVALID_ARG);
	/* The CA used last, inline: one call per serial revoked. */
	ca = krl->ncas > 0 ? &krl->cas[krl->last_ca] : NULL;
	if (ca == NULL || ca->blob_len != ca_len ||
	    memcmp(ca->blob, ca_blob, ca_len) != 0) {
		TRY(krl_ca_find(krl, ca_blob, ca_len));
		ca = &krl->cas[krl->last_ca];
	}
	/*
	 * Serials from the ledger arrive in order: a range that starts
	 * inside or right after the last one extends it in place (what
	 * krl_ranges_normalise() would merge anyway), so a dense run stays
	 * one range instead of one array element per serial.  The array
	 * stays sorted whenever the input was.
	 */
	if (ca->nranges > 0) {
		struct krl_range *last = &ca->ranges[ca->nranges - 1];

		if (lo >= last->lo &&
		    (last->hi == UINT64_MAX || lo <= last->hi + 1)) {
			if (hi > last->hi)
				last->hi = hi;
			r = 0;
			goto out;
		}
	}
	TRY(krl_grow((void **)&ca->ranges, &ca->ranges_cap, ca->nranges,
	    sizeof(*ca->ranges), KRL_RANGES_MAX));
	ca->ranges[ca->nranges].lo = lo;
	ca->ranges[ca->nranges].hi = hi;
	ca->nranges++;
	r = 0;
out:
	return r;
}

int
krl_revoke_key_id(
    struct krl *krl, const uint8_t *ca_blob, size_t ca_len, const char *id)
{
	struct krl_ca *ca = NULL;
	char *cp = NULL;
	size_t len;
	int r = ERR_INTERNAL;

	ENSURE(krl != NULL && ca_blob != NULL && ca_len > 0 && id != NULL,
	    ERR_INVALID_ARG);
	len = strlen(id);
	ENSURE(len > 0, ERR_INVALID_ARG);
	ENSURE(len <= KRL_KEY_ID_MAX, ERR_TOO_LARGE);
	TRY(krl_ca_find(krl, ca_blob, ca_len));
	ca = &krl->cas[krl->last_ca];
	TRY(krl_grow((void **)&ca->ids, &ca->ids_cap, ca->nids,
	    sizeof(*ca->ids), KRL_KEY_IDS_MAX));
	ENSURE((cp = strdup(id)) != NULL, ERR_ALLOC);
	ca->ids[ca->nids++] = cp;
	r = 0;
out:
	return r;
}

int
krl_revoke_key_sha256(struct krl *krl, const uint8_t hash[32])
{
	int r = ERR_INTERNAL;

	ENSURE(krl != NULL && hash != NULL, ERR_INVALID_ARG);
	TRY(krl_grow((void **)&krl->hashes, &krl->hashes_cap, krl->nhashes,
	    sizeof(*krl->hashes), KRL_HASHES_MAX));
	memcpy(krl->hashes[krl->nhashes++].h, hash, 32);
	r = 0;
out:
	return r;
}

/* Normalising ------------------------------------------------------------ */

static int
krl_range_cmp(const void *a, const void *b)
{
	const struct krl_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return 0;
}

/* Sort and merge overlapping and adjacent ranges, in place. */
static void
krl_ranges_normalise(struct krl_ca *ca)
{
	struct krl_range *rs = ca->ranges;
	size_t i, n = 0;

	for (i = 1; i < ca->nranges; i++) {
		if (rs[i].lo < rs[i - 1].lo)
			break;
	}
	if (i < ca->nranges)
		qsort(rs, ca->nranges, sizeof(*rs), krl_range_cmp);
	for (i = 0; i < ca->nranges; i++) {
		/* rs[i].lo >= rs[n - 1].lo, by the sort. */
		if (n > 0 &&
		    (rs[n - 1].hi == UINT64_MAX ||
			rs[i].lo <= rs[n - 1].hi + 1)) {
			if (rs[i].hi > rs[n - 1].hi)
				rs[n - 1].hi = rs[i].hi;
			continue;
		}
		rs[n++] = rs[i];
	}
	ca->nranges = n;
}

static int
krl_id_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
krl_ids_normalise(struct krl_ca *ca)
{
	size_t i, n = 0;

	if (ca->nids > 1)
		qsort(ca->ids, ca->nids, sizeof(*ca->ids), krl_id_cmp);
	for (i = 0; i < ca->nids; i++) {
		if (n > 0 && strcmp(ca->ids[n - 1], ca->ids[i]) == 0) {
			free(ca->ids[i]);
			continue;
		}
		ca->ids[n++] = ca->ids[i];
	}
	ca->nids = n;
}

static int
krl_hash_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct krl_hash));
}

static void
krl_hashes_normalise(struct krl *krl)
{
	size_t i, n = 0;

	if (krl->nhashes > 1)
		qsort(krl->hashes, krl->nhashes, sizeof(*krl->hashes),
		    krl_hash_cmp);
	for (i = 0; i < krl->nhashes; i++) {
		if (n > 0 &&
		    memcmp(krl->hashes[n - 1].h, krl->hashes[i].h, 32) == 0)
			continue;
		krl->hashes[n++] = krl->hashes[i];
	}
	krl->nhashes = n;
}

/* Serial encoding -------------------------------------------------------- */

static uint64_t
krl_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/*
 * ssh-keygen's cost model (PROTOCOL.krl): the cheapest
 * subsection type, in bytes, for the next run of contig serials, given the
 * current state, the gap back to the previous run (bitmap continuation)
 * and the gap to the next one.  Sets *restart when a new bitmap is the
 * choice.  Ties go to bitmap, then range, then list, then a new bitmap.
 */
static int
krl_choose(int state, uint64_t contig, int final, uint64_t last_gap,
    uint64_t next_gap, int *restart)
{
	uint64_t cost, list = 0, range = 8, bitmap = 0, bitmap_new = 0;
	int next;

	contig = krl_min(contig, 1ULL << 31);
	last_gap = krl_min(last_gap, 1ULL << 31);
	next_gap = krl_min(next_gap, 1ULL << 31);

	switch (state) {
	case KRL_CERT_SERIAL_LIST:
		bitmap = bitmap_new = 8 + 64;
		break;
	case KRL_CERT_SERIAL_BITMAP:
		list = 8;
		bitmap_new = 8 + 64;
		break;
	default: /* range, or nothing open */
		bitmap = bitmap_new = 8 + 64;
		list = 8;
		break;
	}
	list += 64 * contig + (final ? 0 : 8 + 64);
	range += 2 * 64 + (final ? 0 : 8 + 64);
	bitmap += last_gap + contig + (final ? 0 : krl_min(next_gap, 8 + 64));
	bitmap_new += contig + (final ? 0 : krl_min(next_gap, 8 + 64));

	list = (list + 7) / 8;
	range = (range + 7) / 8;
	bitmap = (bitmap + 7) / 8;
	bitmap_new = (bitmap_new + 7) / 8;

	*restart = 0;
	next = KRL_CERT_SERIAL_BITMAP;
	cost = bitmap;
	if (range < cost) {
		next = KRL_CERT_SERIAL_RANGE;
		cost = range;
	}
	if (list < cost) {
		next = KRL_CERT_SERIAL_LIST;
		cost = list;
	}
	if (bitmap_new < cost) {
		next = KRL_CERT_SERIAL_BITMAP;
		*restart = 1;
	}
	return next;
}

/* An open bitmap subsection: bit i (LSB first) = serial start + i. */
struct krl_bitmap {
	uint64_t start;
	size_t top; /* highest bit set */
	uint8_t bits[KRL_BITMAP_BITS / 8]; /* bits[i / 8] bit i % 8 */
};

/* Append the bitmap as an mpint (big-endian magnitude). */
static int
krl_bitmap_put(struct wire *b, const struct krl_bitmap *bm)
{
	size_t n = bm->top / 8 + 1, i;
	int pad = (bm->bits[n - 1] & 0x80) != 0;
	uint8_t *dst;
	int r;

	if ((r = wire_put_u32(b, (uint32_t)(n + (size_t)pad))) != 0 ||
	    (r = wire_reserve(b, n + (size_t)pad, &dst)) != 0)
		return r;
	if (pad)
		*dst++ = 0;
	for (i = 0; i < n; i++)
		dst[i] = bm->bits[n - 1 - i];
	return 0;
}

static void
krl_bitmap_set(struct krl_bitmap *bm, uint64_t lo, uint64_t hi)
{
	size_t i = (size_t)(lo - bm->start), end = (size_t)(hi - bm->start);

	bm->top = end;
	/* Bit by bit up to a byte boundary, then whole bytes. */
	for (; i <= end && (i & 7) != 0; i++)
		bm->bits[i >> 3] |= (uint8_t)(1u << (i & 7));
	for (; i + 7 <= end; i += 8)
		bm->bits[i >> 3] = 0xff;
	for (; i <= end; i++)
		bm->bits[i >> 3] |= (uint8_t)(1u << (i & 7));
}

/* The serial subsections of one CA's section, from normalised ranges. */
static int
krl_serials_put(struct wire *b, const struct krl_range *rs, size_t n)
{
	struct krl_bitmap *bm = NULL;
	uint64_t lo, hi, last = 0, s;
	size_t i, start = 0;
	int state = 0, next, restart, final, closed, r = ERR_INTERNAL;

	if (n == 0)
		return 0;
	ENSURE((bm = calloc(1, sizeof(*bm))) != NULL, ERR_ALLOC);
	for (i = 0; i < n; i++) {
		lo = rs[i].lo;
		hi = rs[i].hi;
		final = i + 1 == n;
		next = krl_choose(state, hi - lo + 1, final,
		    state == 0 ? 0 : lo - last, final ? 0 : rs[i + 1].lo - hi,
		    &restart);
		/*
		 * jitca's one deviation from ssh-keygen: a bitmap reaching
		 * bit KRL_BITMAP_BITS is unreadable by OpenSSH, so choose
		 * again as if no subsection were open, and start afresh.
		 */
		if (state == KRL_CERT_SERIAL_BITMAP &&
		    next == KRL_CERT_SERIAL_BITMAP && !restart &&
		    hi - bm->start >= KRL_BITMAP_BITS) {
			next = krl_choose(0, hi - lo + 1, final, 0,
			    final ? 0 : rs[i + 1].lo - hi, &restart);
			restart = 1;
		}
		/* Never reached by the cost model (a range is far cheaper),
		 * but a fresh bitmap must fit too. */
		if (next == KRL_CERT_SERIAL_BITMAP &&
		    (restart || state != next) && hi - lo >= KRL_BITMAP_BITS)
			next = KRL_CERT_SERIAL_RANGE;

		/* A range subsection holds one range: always close it. */
		closed = 0;
		if (state != 0 &&
		    (restart || next != state ||
			state == KRL_CERT_SERIAL_RANGE)) {
			if (state == KRL_CERT_SERIAL_BITMAP)
				TRY(krl_bitmap_put(b, bm));
			TRY(krl_item_close(b, start));
			closed = 1;
		}
		if (closed || next != state || restart) {
			state = next;
			TRY(krl_item_open(b, (uint8_t)state, &start));
			if (state == KRL_CERT_SERIAL_BITMAP) {
				/* Bits above top were never set. */
				memset(bm->bits, 0, bm->top / 8 + 1);
				bm->start = lo;
				TRY(wire_put_u64(b, lo));
			}
		}
		switch (state) {
		case KRL_CERT_SERIAL_LIST:
			for (s = lo;; s++) {
				TRY(wire_put_u64(b, s));
				if (s == hi)
					break;
			}
			break;
		case KRL_CERT_SERIAL_RANGE:
			TRY(wire_put_u64(b, lo));
			TRY(wire_put_u64(b, hi));
			break;
		case KRL_CERT_SERIAL_BITMAP:
			krl_bitmap_set(bm, lo, hi);
			break;
		}
		last = hi;
	}
	if (state == KRL_CERT_SERIAL_BITMAP)
		TRY(krl_bitmap_put(b, bm));
	TRY(krl_item_close(b, start));
	r = 0;
out:
	free(bm);
	return r;
}

static int
krl_ca_put(struct wire *b, struct krl_ca *ca)
{
	size_t sect, sub, i;
	int r = ERR_INTERNAL;

	krl_ranges_normalise(ca);
	krl_ids_normalise(ca);
	TRY(krl_item_open(b, KRL_SECTION_CERTIFICATES, &sect));
	TRY(wire_put_string(b, ca->blob, ca->blob_len));
	TRY(wire_put_string(b, NULL, 0)); /* reserved */
	TRY(krl_serials_put(b, ca->ranges, ca->nranges));
	if (ca->nids > 0) {
		TRY(krl_item_open(b, KRL_CERT_KEY_ID, &sub));
		for (i = 0; i < ca->nids; i++)
			TRY(wire_put_string(b, ca->ids[i], strlen(ca->ids[i])));
		TRY(krl_item_close(b, sub));
	}
	TRY(krl_item_close(b, sect));
	r = 0;
out:
	return r;
}

int
krl_serialize(struct krl *krl, uint8_t **out, size_t *len)
{
	struct wire *b = NULL;
	size_t i, sect;
	int r = ERR_INTERNAL;

	if (out != NULL)
		*out = NULL;
	if (len != NULL)
		*len = 0;
	ENSURE(krl != NULL && out != NULL && len != NULL, ERR_INVALID_ARG);
	ENSURE((b = wire_new(KRL_SIZE_MAX)) != NULL, ERR_ALLOC);
	TRY(wire_put(b, KRL_MAGIC, KRL_MAGIC_LEN));
	TRY(wire_put_u32(b, KRL_FORMAT_VERSION));
	TRY(wire_put_u64(b, krl->version));
	TRY(wire_put_u64(b, krl->date));
	TRY(wire_put_u64(b, 0)); /* flags */
	TRY(wire_put_string(b, NULL, 0)); /* reserved */
	TRY(wire_put_cstring(b, krl->comment));
	for (i = 0; i < krl->ncas; i++)
		TRY(krl_ca_put(b, &krl->cas[i]));
	krl_hashes_normalise(krl);
	if (krl->nhashes > 0) {
		TRY(krl_item_open(b, KRL_SECTION_FINGERPRINT_SHA256, &sect));
		for (i = 0; i < krl->nhashes; i++)
			TRY(wire_put_string(b, krl->hashes[i].h, 32));
		TRY(krl_item_close(b, sect));
	}
	TRY(wire_dup(b, out, len));
	r = 0;
out:
	/* The documented error for a KRL over its cap. */
	if (r == ERR_BUF_FULL)
		r = ERR_TOO_LARGE;
	wire_free(b);
	return r;
}

/* Checking --------------------------------------------------------------- */

/* Split off the next "byte type, string body" item of w. */
static int
krl_item_get(struct wire *w, uint8_t *type, struct wire **body)
{
	int r;

	*type = 0;
	*body = NULL;
	/* Fewer bytes than a type and a length: not an item at all. */
	if (wire_len(w) < 5)
		return ERR_TRAILING_DATA;
	if ((r = wire_get_u8(w, type)) != 0)
		return r;
	return wire_get_wire(w, body);
}

static int
krl_bitmap_check(struct wire *sub)
{
	const uint8_t *mag;
	size_t mlen;
	uint64_t start, nbits;
	unsigned top;
	int r;

	if ((r = wire_get_u64(sub, &start)) != 0 ||
	    (r = wire_get_mpint_direct(sub, &mag, &mlen)) != 0)
		return r;
	if (mlen == 0)
		return 0; /* no bits set; OpenSSH accepts it */
	if (start == 0 && (mag[mlen - 1] & 1) != 0)
		return ERR_CERT_SERIAL_ZERO;
	for (top = 8; top > 0 && (mag[0] & (1u << (top - 1))) == 0; top--)
		;
	nbits = (uint64_t)(mlen - 1) * 8 + top;
	/* The highest serial, start + nbits - 1, must not wrap. */
	if (start > UINT64_MAX - (nbits - 1))
		return ERR_BAD_FORMAT;
	return 0;
}

static int
krl_certs_check(struct wire *sect)
{
	struct wire *sub = NULL;
	const uint8_t *ca;
	size_t ca_len;
	uint64_t lo, hi;
	uint8_t type;
	int r = ERR_INTERNAL;

	TRY(wire_get_string_direct(sect, &ca, &ca_len));
	if (ca_len > 0) /* empty: any CA (wildcard) */
		TRY(krl_key_blob_check(ca, ca_len));
	TRY(wire_get_string_direct(sect, NULL, NULL)); /* reserved */
	while (wire_len(sect) > 0) {
		wire_free(sub);
		sub = NULL;
		TRY(krl_item_get(sect, &type, &sub));
		switch (type) {
		case KRL_CERT_SERIAL_LIST:
			while (wire_len(sub) >= 8) {
				TRY(wire_get_u64(sub, &lo));
				ENSURE(lo != 0, ERR_CERT_SERIAL_ZERO);
			}
			break;
		case KRL_CERT_SERIAL_RANGE:
			TRY(wire_get_u64(sub, &lo));
			TRY(wire_get_u64(sub, &hi));
			ENSURE(lo != 0, ERR_CERT_SERIAL_ZERO);
			ENSURE(lo <= hi, ERR_BAD_FORMAT);
			break;
		case KRL_CERT_SERIAL_BITMAP:
			TRY(krl_bitmap_check(sub));
			break;
		case KRL_CERT_KEY_ID:
			while (wire_len(sub) > 0)
				TRY(wire_get_cstring_direct(sub, NULL, NULL));
			break;
		default: /* includes 0x39, extensions (OpenSSH 9.4+) */
			r = ERR_BAD_FORMAT;
			goto out;
		}
		ENSURE(wire_len(sub) == 0, ERR_TRAILING_DATA);
	}
	r = 0;
out:
	wire_free(sub);
	return r;
}

/* Sections 2, 3, 5: strings; hashes of hash_len bytes (0: key blobs). */
static int
krl_keys_check(struct wire *sect, size_t hash_len)
{
	const uint8_t *p;
	size_t len;
	int r;

	while (wire_len(sect) > 0) {
		if ((r = wire_get_string_direct(sect, &p, &len)) != 0)
			return r;
		if (hash_len == 0) {
			if ((r = krl_key_blob_check(p, len)) != 0)
				return r;
		} else if (len != hash_len)
			return ERR_BAD_FORMAT;
	}
	return 0;
}

int
krl_check(const uint8_t *data, size_t len)
{
	struct wire *w = NULL, *sect = NULL;
	uint32_t version;
	uint8_t type;
	int r = ERR_INTERNAL;

	ENSURE(data != NULL || len == 0, ERR_INVALID_ARG);
	ENSURE(len <= KRL_SIZE_MAX, ERR_TOO_LARGE);
	ENSURE(
	    len >= KRL_MAGIC_LEN && memcmp(data, KRL_MAGIC, KRL_MAGIC_LEN) == 0,
	    ERR_BAD_FORMAT);
	ENSURE(
	    (w = wire_from(data + KRL_MAGIC_LEN, len - KRL_MAGIC_LEN)) != NULL,
	    ERR_ALLOC);
	TRY(wire_get_u32(w, &version));
	ENSURE(version == KRL_FORMAT_VERSION, ERR_BAD_FORMAT);
	TRY(wire_get_u64(w, NULL)); /* krl_version */
	TRY(wire_get_u64(w, NULL)); /* generated_date */
	TRY(wire_get_u64(w, NULL)); /* flags: none defined, ignored */
	TRY(wire_get_string_direct(w, NULL, NULL)); /* reserved */
	TRY(wire_get_cstring_direct(w, NULL, NULL)); /* comment */
	while (wire_len(w) > 0) {
		wire_free(sect);
		sect = NULL;
		TRY(krl_item_get(w, &type, &sect));
		switch (type) {
		case KRL_SECTION_CERTIFICATES:
			TRY(krl_certs_check(sect));
			break;
		case KRL_SECTION_EXPLICIT_KEY:
			TRY(krl_keys_check(sect, 0));
			break;
		case KRL_SECTION_FINGERPRINT_SHA1:
			TRY(krl_keys_check(sect, 20));
			break;
		case KRL_SECTION_FINGERPRINT_SHA256:
			TRY(krl_keys_check(sect, 32));
			break;
		default: /* signature (4), extension (255), unknown */
			r = ERR_BAD_FORMAT;
			goto out;
		}
	}
	r = 0;
out:
	wire_free(sect);
	wire_free(w);
	return r;
}

/* Installing ------------------------------------------------------------- */

int
krl_write_atomic(const char *path, const uint8_t *data, size_t len)
{
	int r = ERR_INTERNAL;

	ENSURE(path != NULL && data != NULL, ERR_INVALID_ARG);
	TRY(krl_check(data, len));
	TRY(fileio_write_atomic(path, data, len, 0644));
	r = 0;
out:
	return r;
}
