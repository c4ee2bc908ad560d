/*
 * test_krl.c: tests of signer/krl.c against the real ssh-keygen (OpenSSH 9.2+).
 *
 * Byte-identical output to `ssh-keygen -k` where ssh-keygen's output is
 * readable; readable (`ssh-keygen -Q -l`) output where ssh-keygen's own is
 * not (bitmaps over 16384 bits, which OpenSSH 9.2 cannot read); `ssh-keygen -Q`
 * verdicts on real certificates for every serial encoding, key ids and
 * SHA-256 key revocation; krl_check() on ours, on ssh-keygen's and on
 * hand-made bad KRLs, each with its exact code; krl_write_atomic().
 * Every test works in its own temp dir with a fresh ed25519 CA.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <openssl/sha.h>

#include "signer/krl.h"
#include "signer/wire.h"
#include "tests/lib/testutil.h"

static char *dir;
static uint8_t *ca_blob;
static size_t ca_len;

/* Blob of the key in an OpenSSH public key file ("type base64 comment"). */
static uint8_t *
pub_blob(const char *path, size_t *len)
{
	char *text = tu_read_file(path, NULL), *b64, *end;
	uint8_t *blob = NULL;

	cr_assert_not_null(text, "read %s", path);
	cr_assert_not_null(b64 = strchr(text, ' '));
	b64++;
	end = b64 + strcspn(b64, " \n");
	cr_assert_eq(wire_b64_decode(&blob, len, b64, (size_t)(end - b64)), 0);
	free(text);
	return blob;
}

static void
keygen(const char *name)
{
	char *cmd = tu_fmt(
	    "ssh-keygen -q -t ed25519 -N '' -C %s -f '%s/%s'", name, dir, name);

	cr_assert_eq(tu_sh(cmd, NULL, NULL), 0, "%s", cmd);
	free(cmd);
}

static void
setup(void)
{
	char *p;

	dir = tu_tmpdir();
	keygen("ca");
	keygen("user");
	p = tu_fmt("%s/ca.pub", dir);
	ca_blob = pub_blob(p, &ca_len);
	free(p);
}

static void
teardown(void)
{
	tu_rmtree(dir);
	free(dir);
	free(ca_blob);
}

TestSuite(krl, .init = setup, .fini = teardown);

/*
 * A certificate for key `key` (a key made by keygen()) signed by CA `ca`
 * with key id and serial; returns the -cert.pub path.
 */
static char *
cert_make(const char *ca, const char *key, const char *id, uint64_t serial)
{
	char *cmd,
	    *base = tu_fmt(
		"%s/%s-%s-%llu", dir, key, ca, (unsigned long long)serial);
	char *cert = tu_fmt("%s-cert.pub", base);

	cmd = tu_fmt("cp '%s/%s.pub' '%s.pub' && ssh-keygen -q -s '%s/%s' "
		     "-I '%s' -n p -z %llu -V +1h '%s.pub'",
	    dir, key, base, dir, ca, id, (unsigned long long)serial, base);
	cr_assert_eq(tu_sh(cmd, NULL, NULL), 0, "%s", cmd);
	free(cmd);
	free(base);
	return cert;
}

/* Exit status of `ssh-keygen -Q -f krl key`: 0 ok, 1 revoked. */
static int
query(const char *krl, const char *key)
{
	char *argv[] = {"ssh-keygen", "-Q", "-f", (char *)(uintptr_t)krl,
	    (char *)(uintptr_t)key, NULL};

	return tu_run(argv, NULL, NULL, NULL);
}

/* Exit status of `ssh-keygen -Q -l -f krl`; *listing gets the output. */
static int
list(const char *krl, char **listing)
{
	char *argv[] = {
	    "ssh-keygen", "-Q", "-l", "-f", (char *)(uintptr_t)krl, NULL};

	return tu_run(argv, NULL, listing, NULL);
}

/* The "serial: ..." lines of a listing, in order. */
static char *
serial_lines(const char *listing)
{
	size_t n = strlen(listing), o = 0;
	char *out = calloc(1, n + 1);
	const char *p = listing, *e;

	cr_assert_not_null(out);
	while (*p != '\0') {
		e = strchr(p, '\n');
		e = e ? e + 1 : p + strlen(p);
		if (strncmp(p, "serial: ", 8) == 0) {
			memcpy(out + o, p, (size_t)(e - p));
			o += (size_t)(e - p);
		}
		p = e;
	}
	return out;
}

static char *
save(const char *name, const uint8_t *data, size_t len)
{
	char *p = tu_fmt("%s/%s", dir, name);

	tu_write_file(p, data, len, 0644);
	return p;
}

/* ssh-keygen -k -f <dir>/sk.krl -s ca.pub -z version spec. */
static uint8_t *
sk_krl(const char *spec, uint64_t version, size_t *len)
{
	char *sp = tu_fmt("%s/spec", dir), *out = tu_fmt("%s/sk.krl", dir);
	char *cmd, *err = NULL;
	uint8_t *data;

	tu_write_file(sp, spec, strlen(spec), 0600);
	unlink(out);
	cmd = tu_fmt("ssh-keygen -k -f '%s' -s '%s/ca.pub' -z %llu '%s'", out,
	    dir, (unsigned long long)version, sp);
	cr_assert_eq(tu_sh(cmd, NULL, &err), 0, "%s: %s", cmd, err);
	data = (uint8_t *)tu_read_file(out, len);
	cr_assert_not_null(data);
	free(err);
	free(cmd);
	free(sp);
	free(out);
	return data;
}

static uint64_t
get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

struct rng {
	uint64_t lo, hi;
};

/* Spec text and our KRL from the same ranges and ids (ours in the given
 * order; ssh-keygen's too).  Serials are under ca; date and version as
 * given. */
static char *
spec_of(const struct rng *r, size_t n, const char *const *ids, size_t nids)
{
	size_t i, cap = 64 + n * 48, o = 0;
	char *s;

	for (i = 0; i < nids; i++)
		cap += strlen(ids[i]) + 8;
	s = malloc(cap);
	cr_assert_not_null(s);
	s[0] = '\0';
	for (i = 0; i < n; i++) {
		if (r[i].lo == r[i].hi)
			o += (size_t)snprintf(s + o, cap - o, "serial: %llu\n",
			    (unsigned long long)r[i].lo);
		else
			o += (size_t)snprintf(s + o, cap - o,
			    "serial: %llu-%llu\n", (unsigned long long)r[i].lo,
			    (unsigned long long)r[i].hi);
	}
	for (i = 0; i < nids; i++) {
		char *line = tu_fmt("id: %s\n", ids[i]);

		cr_assert_lt(o + strlen(line), cap);
		memcpy(s + o, line, strlen(line) + 1);
		o += strlen(line);
		free(line);
	}
	return s;
}

static uint8_t *
our_krl(const struct rng *r, size_t n, const char *const *ids, size_t nids,
    uint64_t version, uint64_t date, size_t *len)
{
	struct krl *k = NULL;
	uint8_t *out = NULL;
	size_t i;

	cr_assert_eq(krl_new(&k, version, date, NULL), 0);
	for (i = 0; i < n; i++)
		cr_assert_eq(
		    krl_revoke_serials(k, ca_blob, ca_len, r[i].lo, r[i].hi),
		    0);
	for (i = 0; i < nids; i++)
		cr_assert_eq(krl_revoke_key_id(k, ca_blob, ca_len, ids[i]), 0);
	cr_assert_eq(krl_serialize(k, &out, len), 0);
	krl_free(k);
	cr_assert_eq(
	    krl_check(out, *len), 0, "krl_check %d", krl_check(out, *len));
	return out;
}

/* Ours == ssh-keygen's, byte for byte (same date). */
static void
assert_identical(const struct rng *r, size_t n, const char *const *ids,
    size_t nids, uint64_t version)
{
	char *spec = spec_of(r, n, ids, nids);
	size_t sl, ol;
	uint8_t *sk = sk_krl(spec, version, &sl), *ours;

	cr_assert_gt(sl, 28);
	ours = our_krl(r, n, ids, nids, version, get_u64(sk + 20), &ol);
	cr_assert_eq(ol, sl, "length: ours %zu, ssh-keygen %zu", ol, sl);
	cr_assert_eq(memcmp(ours, sk, sl), 0, "bytes differ");
	cr_assert_eq(krl_check(sk, sl), 0);
	free(spec);
	free(sk);
	free(ours);
}

static struct rng *
every(uint64_t from, uint64_t to, uint64_t step, size_t *n)
{
	struct rng *r = calloc((size_t)((to - from) / step + 1), sizeof(*r));
	uint64_t s;

	cr_assert_not_null(r);
	*n = 0;
	for (s = from; s <= to; s += step) {
		r[*n].lo = r[*n].hi = s;
		(*n)++;
	}
	return r;
}

/* Interop: byte-identical output ---------------------------------------- */

Test(krl, example_of_section_2_4)
{
	static const struct rng r[] = {{5, 5}, {10, 20}, {100, 100}, {102, 102},
	    {103, 103}, {105, 105}, {0x200, 0x200}};
	static const char *const ids[] = {"alice@corp", "bob"};
	static const uint8_t tail[] = {0x22, 0, 0, 0, 0x0f, 0, 0, 0, 0, 0, 0, 0,
	    5, 0, 0, 0, 3, 0x00, 0xff, 0xe1, 0x22, 0, 0, 0, 0x0d, 0, 0, 0, 0, 0,
	    0, 0, 0x64, 0, 0, 0, 1, 0x2d, 0x20, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0,
	    0x02, 0x00, 0x23, 0, 0, 0, 0x15, 0, 0, 0, 0x0a, 'a', 'l', 'i', 'c',
	    'e', '@', 'c', 'o', 'r', 'p', 0, 0, 0, 3, 'b', 'o', 'b'};
	uint8_t *ours;
	size_t len;

	assert_identical(r, 7, ids, 2, 7);
	/* And the layout that section 2.4 documents. */
	ours = our_krl(r, 7, ids, 2, 7, 1, &len);
	cr_assert_eq(len, 44 + 5 + 0x88);
	cr_assert_eq(ours[44], KRL_SECTION_CERTIFICATES);
	cr_assert_eq(memcmp(ours + len - sizeof(tail), tail, sizeof(tail)), 0);
	free(ours);
}

Test(krl, identical_small_and_dense)
{
	static const struct rng three[] = {{1, 1}, {2, 2}, {3, 3}};
	static const struct rng dense[] = {{1, 10000}};
	static const uint8_t bm3[] = {
	    0x22, 0, 0, 0, 0x0d, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0x07};
	uint8_t *ours;
	size_t len;

	assert_identical(three, 3, NULL, 0, 1);
	ours = our_krl(three, 3, NULL, 0, 1, 1, &len);
	cr_assert_eq(memcmp(ours + len - sizeof(bm3), bm3, sizeof(bm3)), 0);
	free(ours);
	assert_identical(dense, 1, NULL, 0, 2);
}

Test(krl, identical_sparse_random)
{
	struct rng r[300];
	uint64_t x = 0x9e3779b97f4a7c15ULL, s = 1;
	size_t i;

	/* Gaps of 1..600, so lists and bitmaps both occur. */
	for (i = 0; i < 300; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		s += 1 + (x >> 33) % 600;
		r[i].lo = r[i].hi = s;
	}
	assert_identical(r, 300, NULL, 0, 3);
}

/*
 * Many random layouts (singles, short and long runs, gaps around the cost
 * model's break-even points), each compared with ssh-keygen: every
 * tie-break of the cost model is exercised.
 */
Test(krl, identical_random_layouts)
{
	static const uint64_t lens[] = {4, 40, 90};
	struct rng r[60];
	uint64_t x = 12345, s, g;
	size_t i, n, round;

	for (round = 0; round < 80; round++) {
		s = 1 + round;
		n = 1 + round % 60;
		for (i = 0; i < n; i++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			g = x >> 40;
			/* Mostly gaps near 0..230 bits, sometimes far; runs of
			 * up to 90 (ties between range and bitmap are near 60).
			 */
			s += 2 + (g % 8 == 0 ? g % 5000 : g % 230);
			r[i].lo = s;
			s += g % 3 == 0 ? (g >> 4) % lens[round % 3] : 0;
			r[i].hi = s;
		}
		assert_identical(r, n, NULL, 0, round);
	}
}

Test(krl, identical_every_third)
{
	struct rng *r;
	size_t n;

	r = every(1, 3000, 3, &n);
	assert_identical(r, n, NULL, 0, 4);
	free(r);
	/* The widest bitmap OpenSSH reads: top bit 16383, one subsection. */
	r = every(1, 1 + 16383, 3, &n);
	assert_identical(r, n, NULL, 0, 5);
	free(r);
}

Test(krl, identical_key_ids_only)
{
	static const char *const ids[] = {"zed", "alice@corp", "bob",
	    "alice@corp", "user:alice req:12 serial:7", "Bob", "a"};

	assert_identical(NULL, 0, ids, 7, 6);
}

Test(krl, identical_overlapping_unsorted_ranges)
{
	static const struct rng r[] = {{50, 60}, {1000, 1000}, {55, 70},
	    {71, 71}, {10, 10}, {9, 9}, {40, 49}, {1002, 1003}, {200, 300},
	    {250, 251}, {999, 999}, {8000, 9000}, {5000, 6000}, {20000, 30000}};

	assert_identical(r, sizeof(r) / sizeof(r[0]), NULL, 0, 8);
}

Test(krl, identical_hashes_and_two_cas)
{
	static const char *const names[] = {"k1", "k2", "k3"};
	struct krl *k = NULL;
	char *spec, *c2, *line, *p;
	uint8_t *sk, *ours, *blob, *ca2, h[32];
	size_t sl, ol, bl, ca2_len, i;

	keygen("ca2");
	p = tu_fmt("%s/ca2.pub", dir);
	ca2 = pub_blob(p, &ca2_len);
	free(p);
	c2 = cert_make("ca2", "user", "x", 42);
	line = tu_read_file(c2, NULL);
	cr_assert_not_null(line);
	/* A bare certificate line revokes its serial under its own CA. */
	spec = tu_fmt("serial: 5\n%sid: y\nserial: 7\n", line);
	for (i = 0; i < 3; i++) {
		char *fp = NULL, *cmd, *old = spec;

		keygen(names[i]);
		cmd = tu_fmt("ssh-keygen -l -E sha256 -f '%s/%s.pub' | "
			     "cut -d' ' -f2",
		    dir, names[i]);
		cr_assert_eq(tu_sh(cmd, &fp, NULL), 0);
		spec = tu_fmt("%shash: %s", old, fp);
		free(old);
		free(fp);
		free(cmd);
	}
	sk = sk_krl(spec, 9, &sl);

	cr_assert_eq(krl_new(&k, 9, get_u64(sk + 20), ""), 0);
	cr_assert_eq(krl_revoke_serials(k, ca_blob, ca_len, 5, 5), 0);
	cr_assert_eq(krl_revoke_serials(k, ca2, ca2_len, 42, 42), 0);
	cr_assert_eq(krl_revoke_key_id(k, ca_blob, ca_len, "y"), 0);
	cr_assert_eq(krl_revoke_serials(k, ca_blob, ca_len, 7, 7), 0);
	for (i = 3; i-- > 0;) {
		p = tu_fmt("%s/%s.pub", dir, names[i]);
		blob = pub_blob(p, &bl);
		SHA256(blob, bl, h);
		cr_assert_eq(krl_revoke_key_sha256(k, h), 0);
		cr_assert_eq(krl_revoke_key_sha256(k, h), 0); /* duplicate */
		free(blob);
		free(p);
	}
	cr_assert_eq(krl_serialize(k, &ours, &ol), 0);
	cr_assert_eq(ol, sl, "length: ours %zu, ssh-keygen %zu", ol, sl);
	cr_assert_eq(memcmp(ours, sk, sl), 0, "bytes differ");
	cr_assert_eq(krl_check(ours, ol), 0);
	free(ours);
	/* Serializing again gives the same bytes. */
	cr_assert_eq(krl_serialize(k, &ours, &ol), 0);
	cr_assert_eq(ol, sl);
	cr_assert_eq(memcmp(ours, sk, sl), 0);
	free(ours);
	krl_free(k);
	free(sk);
	free(spec);
	free(line);
	free(c2);
	free(ca2);
}

/* Interop: where ssh-keygen's own KRL is unreadable ---------------------- */

/* ssh-keygen -Q -l reads the KRL at path and lists exactly r[0..n). */
static void
assert_lists(const char *path, const struct rng *r, size_t n)
{
	char *listing = NULL, *got, *want;
	size_t i, o = 0;

	cr_assert_eq(list(path, &listing), 0);
	want = calloc(n, 48);
	cr_assert_not_null(want);
	for (i = 0; i < n; i++) {
		if (r[i].lo == r[i].hi)
			o += (size_t)snprintf(want + o, 48, "serial: %llu\n",
			    (unsigned long long)r[i].lo);
		else
			o += (size_t)snprintf(want + o, 48,
			    "serial: %llu-%llu\n", (unsigned long long)r[i].lo,
			    (unsigned long long)r[i].hi);
	}
	got = serial_lines(listing);
	cr_assert_str_eq(got, want);
	free(got);
	free(want);
	free(listing);
}

static void
assert_wide_bitmap_pitfall(
    uint64_t to, uint64_t step, uint64_t revoked, uint64_t unrevoked)
{
	struct rng *r;
	size_t n, sl, ol;
	char *spec, *skp, *op, *c;
	uint8_t *sk, *ours;

	r = every(1, to, step, &n);
	spec = spec_of(r, n, NULL, 0);
	sk = sk_krl(spec, 1, &sl);
	skp = save("sk-wide.krl", sk, sl);
	/* ssh-keygen cannot read what it wrote (a bitmap over 2048 bytes). */
	cr_assert_eq(list(skp, NULL), 255);
	cr_assert_eq(krl_check(sk, sl), ERR_MPINT_TOO_LARGE);

	ours = our_krl(r, n, NULL, 0, 1, get_u64(sk + 20), &ol);
	op = save("ours-wide.krl", ours, ol);
	/* Readable, and it holds exactly the serials revoked. */
	assert_lists(op, r, n);
	c = cert_make("ca", "user", "u", revoked);
	cr_assert_eq(query(op, c), 1);
	free(c);
	c = cert_make("ca", "user", "u", unrevoked);
	cr_assert_eq(query(op, c), 0);
	free(c);
	free(op);
	free(ours);
	free(skp);
	free(sk);
	free(spec);
	free(r);
}

Test(krl, every_third_to_50000_readable_unlike_ssh_keygen)
{
	assert_wide_bitmap_pitfall(50000, 3, 30001, 30002);
}

Test(krl, every_odd_to_40001_readable_unlike_ssh_keygen)
{
	assert_wide_bitmap_pitfall(40001, 2, 40001, 40000);
}

Test(krl, bitmap_one_past_the_limit_is_split)
{
	static const uint8_t last[] = {
	    0x20, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0x40, 0x03};
	struct rng *r;
	size_t n, sl, ol, pre;
	char *spec, *skp, *op;
	uint8_t *sk, *ours;

	/* Every third 1..16387: ssh-keygen's one bitmap needs bit 16386. */
	r = every(1, 16387, 3, &n);
	spec = spec_of(r, n, NULL, 0);
	sk = sk_krl(spec, 1, &sl);
	skp = save("sk.krl", sk, sl);
	cr_assert_eq(list(skp, NULL), 255);
	ours = our_krl(r, n, NULL, 0, 1, get_u64(sk + 20), &ol);
	/* The same up to the bitmap's mpint (both 2049 bytes long: ours is
	 * 00 + 2048 bytes up to bit 16383, serial 16384); then ours closes
	 * it and lists 16387 alone. */
	cr_assert_eq(memcmp(ours, sk, 45), 0);
	pre = 49 + 4 + ca_len + 4 + 1 + 4 + 8 + 4;
	cr_assert_eq(memcmp(ours + 49, sk + 49, pre - 49), 0);
	cr_assert_eq(ours[pre], 0x00);
	/* Bits 16377, 16380, 16383 vs. ssh-keygen's bit 16386 alone. */
	cr_assert_eq(ours[pre + 1], 0x92);
	cr_assert_eq(sk[pre], 0x04);
	cr_assert_eq(ol, sl + sizeof(last));
	cr_assert_eq(memcmp(ours + ol - sizeof(last), last, sizeof(last)), 0);
	op = save("ours.krl", ours, ol);
	assert_lists(op, r, n);
	free(op);
	free(ours);
	free(skp);
	free(sk);
	free(spec);
	free(r);
}

/* Queries with real certificates ----------------------------------------- */

/* Subsection types present in the first certificates section. */
static unsigned
subsection_mask(const uint8_t *k, size_t len, size_t header)
{
	struct wire *w = wire_from(k + header, len - header), *sect = NULL;
	const uint8_t *p;
	size_t n;
	uint8_t t;
	unsigned mask = 0;

	cr_assert_eq(wire_get_u8(w, &t), 0);
	cr_assert_eq(t, KRL_SECTION_CERTIFICATES);
	cr_assert_eq(wire_get_wire(w, &sect), 0);
	cr_assert_eq(wire_get_string_direct(sect, &p, &n), 0);
	cr_assert_eq(wire_get_string_direct(sect, &p, &n), 0);
	while (wire_len(sect) > 0) {
		cr_assert_eq(wire_get_u8(sect, &t), 0);
		cr_assert_eq(wire_get_string_direct(sect, &p, &n), 0);
		mask |= 1u << (t - 0x20);
	}
	if (wire_len(w) > 0) {
		cr_assert_eq(wire_get_u8(w, &t), 0);
		mask |= 1u << (8 + t);
	}
	wire_free(sect);
	wire_free(w);
	return mask;
}

Test(krl, query_certificates_and_keys)
{
	static const struct {
		const char *key, *id;
		uint64_t serial;
		int revoked;
	} cases[] = {
	    {"user", "u", 1000000, 1}, /* list */
	    {"user", "u", 999999, 0}, {"user", "u", 1000001, 0},
	    {"user", "u", 2000, 1}, /* range */
	    {"user", "u", 3500, 1}, {"user", "u", 5000, 1},
	    {"user", "u", 1999, 0}, {"user", "u", 5001, 0},
	    {"user", "u", 10, 1}, /* bitmap */
	    {"user", "u", 12, 1}, {"user", "u", 15, 1}, {"user", "u", 11, 0},
	    {"user", "u", 14, 0}, {"user", "alice@corp", 777, 1}, /* key id */
	    {"user", "bob", 778, 0},
	    {"bad", "u", 9999, 1}, /* SHA256 of the key */
	};
	struct krl *k = NULL;
	uint8_t *out, *blob, h[32];
	size_t len, bl, i;
	char *kp, *c, *p;

	keygen("bad");
	cr_assert_eq(krl_new(&k, 1, 1700000000, "jitca test"), 0);
	cr_assert_eq(
	    krl_revoke_serials(k, ca_blob, ca_len, 1000000, 1000000), 0);
	cr_assert_eq(krl_revoke_serials(k, ca_blob, ca_len, 2000, 5000), 0);
	cr_assert_eq(krl_revoke_serials(k, ca_blob, ca_len, 10, 10), 0);
	cr_assert_eq(krl_revoke_serials(k, ca_blob, ca_len, 12, 13), 0);
	cr_assert_eq(krl_revoke_serials(k, ca_blob, ca_len, 15, 15), 0);
	cr_assert_eq(krl_revoke_key_id(k, ca_blob, ca_len, "alice@corp"), 0);
	p = tu_fmt("%s/bad.pub", dir);
	blob = pub_blob(p, &bl);
	SHA256(blob, bl, h);
	cr_assert_eq(krl_revoke_key_sha256(k, h), 0);
	cr_assert_eq(krl_serialize(k, &out, &len), 0);
	cr_assert_eq(krl_check(out, len), 0);
	/* list, range, bitmap, key id; then a SHA256 section. */
	cr_assert_eq(subsection_mask(out, len, KRL_EMPTY_LEN + 10),
	    0xfu | 1u << (8 + KRL_SECTION_FINGERPRINT_SHA256));
	kp = save("q.krl", out, len);
	cr_assert_eq(list(kp, NULL), 0);

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = cert_make("ca", cases[i].key, cases[i].id, cases[i].serial);
		cr_assert_eq(query(kp, c), cases[i].revoked,
		    "serial %llu id %s", (unsigned long long)cases[i].serial,
		    cases[i].id);
		free(c);
	}
	/* Plain keys: revoked by hash, or not. */
	cr_assert_eq(query(kp, p), 1);
	free(p);
	p = tu_fmt("%s/user.pub", dir);
	cr_assert_eq(query(kp, p), 0);
	free(p);
	free(blob);
	free(kp);
	free(out);
	krl_free(k);
}

Test(krl, empty_krl)
{
	struct krl *k = NULL;
	uint8_t *out, *sk;
	size_t len, sl;
	char *kp, *c, *cmd, *skp = tu_fmt("%s/sk-empty.krl", dir);

	cmd = tu_fmt("ssh-keygen -q -k -f '%s'", skp);
	cr_assert_eq(tu_sh(cmd, NULL, NULL), 0);
	sk = (uint8_t *)tu_read_file(skp, &sl);
	cr_assert_eq(sl, KRL_EMPTY_LEN);

	cr_assert_eq(krl_new(&k, 0, get_u64(sk + 20), NULL), 0);
	cr_assert_eq(krl_serialize(k, &out, &len), 0);
	cr_assert_eq(len, KRL_EMPTY_LEN);
	cr_assert_eq(memcmp(out, sk, len), 0);
	cr_assert_eq(krl_check(out, len), 0);
	kp = save("empty.krl", out, len);
	cr_assert_eq(list(kp, NULL), 0);
	c = cert_make("ca", "user", "u", 1);
	cr_assert_eq(query(kp, c), 0);
	free(c);
	c = tu_fmt("%s/user.pub", dir);
	cr_assert_eq(query(kp, c), 0);
	free(c);
	free(kp);
	free(out);
	free(sk);
	free(skp);
	free(cmd);
	krl_free(k);
}

/* Argument checks ---------------------------------------------------------- */

Test(krl, refuses_bad_arguments)
{
	static const uint8_t cert_blob[] = {0, 0, 0, 32, 's', 's', 'h', '-',
	    'e', 'd', '2', '5', '5', '1', '9', '-', 'c', 'e', 'r', 't', '-',
	    'v', '0', '1', '@', 'o', 'p', 'e', 'n', 's', 's', 'h', '.', 'c',
	    'o', 'm'};
	static const uint8_t dss_blob[] = {
	    0, 0, 0, 7, 's', 's', 'h', '-', 'd', 's', 's'};
	struct krl *k = NULL;
	char *big;
	uint8_t *out;
	size_t len;

	big = calloc(1, KRL_COMMENT_MAX + 2);
	memset(big, 'c', KRL_COMMENT_MAX + 1);
	cr_assert_eq(krl_new(&k, 0, 0, big), ERR_TOO_LARGE);
	cr_assert_null(k);
	free(big);
	cr_assert_eq(krl_new(&k, 0, 0, "c"), 0);
	cr_assert_eq(
	    krl_revoke_serials(k, ca_blob, ca_len, 0, 0), ERR_CERT_SERIAL_ZERO);
	cr_assert_eq(
	    krl_revoke_serials(k, ca_blob, ca_len, 0, 5), ERR_CERT_SERIAL_ZERO);
	cr_assert_eq(
	    krl_revoke_serials(k, ca_blob, ca_len, 5, 4), ERR_INVALID_ARG);
	cr_assert_eq(krl_revoke_serials(k, ca_blob, 0, 5, 5), ERR_INVALID_ARG);
	cr_assert_eq(
	    krl_revoke_serials(k, ca_blob, ca_len - 1, 5, 5), ERR_BAD_FORMAT);
	cr_assert_eq(krl_revoke_serials(k, cert_blob, sizeof(cert_blob), 5, 5),
	    ERR_KEY_IS_CERT);
	cr_assert_eq(krl_revoke_serials(k, dss_blob, sizeof(dss_blob), 5, 5),
	    ERR_KEY_UNKNOWN_TYPE);
	cr_assert_eq(
	    krl_revoke_key_id(k, ca_blob, ca_len, ""), ERR_INVALID_ARG);
	cr_assert_eq(
	    krl_revoke_key_id(k, ca_blob, ca_len, NULL), ERR_INVALID_ARG);
	cr_assert_eq(krl_revoke_key_sha256(k, NULL), ERR_INVALID_ARG);
	/* Nothing was added: still the empty KRL (with a comment). */
	cr_assert_eq(krl_serialize(k, &out, &len), 0);
	cr_assert_eq(len, KRL_EMPTY_LEN + 1);
	free(out);
	/* The largest serial range is fine. */
	cr_assert_eq(krl_revoke_serials(k, ca_blob, ca_len, 1, UINT64_MAX), 0);
	cr_assert_eq(krl_revoke_serials(k, ca_blob, ca_len, 7, 9), 0);
	cr_assert_eq(krl_serialize(k, &out, &len), 0);
	cr_assert_eq(krl_check(out, len), 0);
	free(out);
	krl_free(k);
	krl_free(NULL);
}

/* krl_check on hand-made KRLs -------------------------------------------- */

/* A KRL whose certificates section holds one subsection (type, body);
 * extra bytes may follow the KRL. */
static uint8_t *
handmade(int top_type, uint8_t sub_type, const uint8_t *body, size_t blen,
    size_t *len)
{
	struct wire *w = wire_new(WIRE_SIZE_MAX), *s = wire_new(WIRE_SIZE_MAX);
	uint8_t *out = NULL;

	cr_assert(w && s);
	cr_assert_eq(wire_put(w, KRL_MAGIC, KRL_MAGIC_LEN), 0);
	cr_assert_eq(wire_put_u32(w, 1), 0);
	cr_assert_eq(wire_put_u64(w, 1), 0);
	cr_assert_eq(wire_put_u64(w, 1700000000), 0);
	cr_assert_eq(wire_put_u64(w, 0), 0);
	cr_assert_eq(wire_put_string(w, NULL, 0), 0);
	cr_assert_eq(wire_put_cstring(w, ""), 0);
	cr_assert_eq(wire_put_string(s, ca_blob, ca_len), 0);
	cr_assert_eq(wire_put_string(s, NULL, 0), 0);
	cr_assert_eq(wire_put_u8(s, sub_type), 0);
	cr_assert_eq(wire_put_string(s, body, blen), 0);
	cr_assert_eq(wire_put_u8(w, (uint8_t)top_type), 0);
	cr_assert_eq(wire_put_stringb(w, s), 0);
	cr_assert_eq(wire_dup(w, &out, len), 0);
	wire_free(s);
	wire_free(w);
	return out;
}

/* krl_check gives want; ssh-keygen agrees (0 -> readable, else 255). */
static void
assert_check(const uint8_t *k, size_t len, int want)
{
	char *p = save("hand.krl", k, len);

	cr_assert_eq(krl_check(k, len), want, "krl_check %d, want %d",
	    krl_check(k, len), want);
	cr_assert_eq(list(p, NULL), want == 0 ? 0 : 255);
	free(p);
}

Test(krl, check_rejects_bad_krls)
{
	static const uint8_t list_ok[] = {0, 0, 0, 0, 0, 0, 0, 7};
	static const uint8_t list_zero[] = {
	    0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0};
	static const uint8_t range_bad[] = {
	    0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 8};
	static const uint8_t range_zero[] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8};
	static const uint8_t bitmap_zero[] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x03};
	static const uint8_t id_nul[] = {0, 0, 0, 3, 'a', 0, 'b'};
	uint8_t bitmap[8 + 4 + 2049], *k, *k2;
	size_t len;

	k = handmade(1, KRL_CERT_SERIAL_LIST, list_ok, sizeof(list_ok), &len);
	assert_check(k, len, 0);

	/* Trailing byte after the last section. */
	k2 = malloc(len + 1);
	memcpy(k2, k, len);
	k2[len] = 0;
	assert_check(k2, len + 1, ERR_TRAILING_DATA);
	free(k2);
	/* Bad magic, bad format version. */
	k[3] = 'k';
	assert_check(k, len, ERR_BAD_FORMAT);
	k[3] = 'K';
	k[11] = 2;
	assert_check(k, len, ERR_BAD_FORMAT);
	k[11] = 1;
	/* Truncated. */
	assert_check(k, len - 1, ERR_BUF_SHORT);
	free(k);
	/* A signature section (4), an extension section (255). */
	k = handmade(KRL_SECTION_SIGNATURE, KRL_CERT_SERIAL_LIST, list_ok,
	    sizeof(list_ok), &len);
	assert_check(k, len, ERR_BAD_FORMAT);
	free(k);
	k = handmade(KRL_SECTION_EXTENSION, KRL_CERT_SERIAL_LIST, list_ok,
	    sizeof(list_ok), &len);
	assert_check(k, len, ERR_BAD_FORMAT);
	free(k);

	k = handmade(
	    1, KRL_CERT_SERIAL_LIST, list_zero, sizeof(list_zero), &len);
	assert_check(k, len, ERR_CERT_SERIAL_ZERO);
	free(k);
	k = handmade(1, KRL_CERT_SERIAL_LIST, list_zero, 12, &len);
	assert_check(k, len, ERR_TRAILING_DATA);
	free(k);
	k = handmade(
	    1, KRL_CERT_SERIAL_RANGE, range_bad, sizeof(range_bad), &len);
	assert_check(k, len, ERR_BAD_FORMAT);
	free(k);
	k = handmade(
	    1, KRL_CERT_SERIAL_RANGE, range_zero, sizeof(range_zero), &len);
	assert_check(k, len, ERR_CERT_SERIAL_ZERO);
	free(k);
	k = handmade(
	    1, KRL_CERT_SERIAL_BITMAP, bitmap_zero, sizeof(bitmap_zero), &len);
	assert_check(k, len, ERR_CERT_SERIAL_ZERO);
	free(k);
	k = handmade(1, KRL_CERT_KEY_ID, id_nul, sizeof(id_nul), &len);
	assert_check(k, len, ERR_STRING_NUL);
	free(k);
	k = handmade(1, 0x39, list_ok, sizeof(list_ok), &len);
	assert_check(k, len, ERR_BAD_FORMAT);
	free(k);

	/* Bitmaps at offset 1: 2048 bytes (top bit 16383) are fine, 2049
	 * are not. */
	memset(bitmap, 0, sizeof(bitmap));
	bitmap[7] = 1;
	bitmap[10] = 0x08;
	bitmap[11] = 0x00;
	bitmap[12] = 0x7f;
	k = handmade(1, KRL_CERT_SERIAL_BITMAP, bitmap, 8 + 4 + 2048, &len);
	assert_check(k, len, 0);
	free(k);
	bitmap[10] = 0x08;
	bitmap[11] = 0x01;
	k = handmade(1, KRL_CERT_SERIAL_BITMAP, bitmap, 8 + 4 + 2049, &len);
	assert_check(k, len, ERR_MPINT_TOO_LARGE);
	free(k);
}

/* A KRL with no certificates and one SHA-256 fingerprint section holding
 * one hlen-byte hash. */
static uint8_t *
sha256_krl(const uint8_t *h, size_t hlen, size_t *len)
{
	struct wire *w = wire_new(4096);
	uint8_t *k;

	cr_assert_eq(wire_put(w, KRL_MAGIC, KRL_MAGIC_LEN), 0);
	cr_assert_eq(wire_put_u32(w, 1), 0);
	cr_assert_eq(wire_put_u64(w, 0), 0);
	cr_assert_eq(wire_put_u64(w, 0), 0);
	cr_assert_eq(wire_put_u64(w, 0), 0);
	cr_assert_eq(wire_put_string(w, NULL, 0), 0);
	cr_assert_eq(wire_put_string(w, NULL, 0), 0);
	cr_assert_eq(wire_put_u8(w, KRL_SECTION_FINGERPRINT_SHA256), 0);
	cr_assert_eq(wire_put_u32(w, (uint32_t)(hlen + 4)), 0);
	cr_assert_eq(wire_put_string(w, h, hlen), 0);
	cr_assert_eq(wire_dup(w, &k, len), 0);
	wire_free(w);
	return k;
}

Test(krl, check_sha256_lengths)
{
	uint8_t h[33] = {1}, *k;
	size_t len;

	k = sha256_krl(h, 32, &len);
	assert_check(k, len, 0);
	free(k);
	/* The same with a 33-byte hash. */
	k = sha256_krl(h, 33, &len);
	assert_check(k, len, ERR_BAD_FORMAT);
	free(k);
}

/* ssh-keygen's other sections (wildcard CA, explicit key, SHA-1, SHA-256)
 * pass krl_check() too: the host-side fetcher may meet them. */
Test(krl, check_accepts_ssh_keygen_sections)
{
	char *cmd, *fp = NULL, *spec, *sp, *kp, *line;
	uint8_t *k;
	size_t len;

	cmd = tu_fmt(
	    "ssh-keygen -l -E sha256 -f '%s/ca.pub' | cut -d' ' -f2", dir);
	cr_assert_eq(tu_sh(cmd, &fp, NULL), 0);
	free(cmd);
	kp = tu_fmt("%s/user.pub", dir);
	line = tu_read_file(kp, NULL);
	cr_assert_not_null(line);
	free(kp);
	/* key:/sha1: take the public key line itself. */
	spec = tu_fmt("id: anyone\nkey: %ssha1: %shash: %s", line, line, fp);
	free(line);
	sp = tu_fmt("%s/wild.spec", dir);
	kp = tu_fmt("%s/wild.krl", dir);
	tu_write_file(sp, spec, strlen(spec), 0600);
	cmd = tu_fmt("ssh-keygen -q -k -f '%s' -s none '%s'", kp, sp);
	cr_assert_eq(tu_sh(cmd, NULL, NULL), 0);
	k = (uint8_t *)tu_read_file(kp, &len);
	cr_assert_not_null(k);
	/* Sections 1 (empty CA key), 2, 3 and 5. */
	cr_assert_eq(k[44], KRL_SECTION_CERTIFICATES);
	cr_assert_eq(memcmp(k + 49, "\0\0\0\0", 4), 0);
	cr_assert_eq(krl_check(k, len), 0);
	free(k);
	free(cmd);
	free(kp);
	free(sp);
	free(spec);
	free(fp);
}

/* krl_write_atomic --------------------------------------------------------- */

static size_t
dir_entries(const char *d)
{
	DIR *dp = opendir(d);
	struct dirent *e;
	size_t n = 0;

	cr_assert_not_null(dp);
	while ((e = readdir(dp)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	}
	closedir(dp);
	return n;
}

Test(krl, write_atomic)
{
	static const struct rng r[] = {{5, 5}, {7, 100}};
	char *sub = tu_fmt("%s/etc", dir),
	     *path = tu_fmt("%s/revoked.krl", sub);
	char *bad = tu_fmt("%s/nodir/revoked.krl", dir), *got;
	uint8_t *a, *b;
	size_t alen, blen, glen;
	struct stat st;
	mode_t old;

	cr_assert_eq(mkdir(sub, 0755), 0);
	a = our_krl(NULL, 0, NULL, 0, 1, 1, &alen);
	b = our_krl(r, 2, NULL, 0, 2, 2, &blen);
	old = umask(077); /* the mode must not depend on the umask */
	cr_assert_eq(krl_write_atomic(path, a, alen), 0);
	got = tu_read_file(path, &glen);
	cr_assert_eq(glen, alen);
	cr_assert_eq(memcmp(got, a, alen), 0);
	free(got);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0644);
	cr_assert_eq(dir_entries(sub), 1);

	/* Replacing an existing file. */
	cr_assert_eq(krl_write_atomic(path, b, blen), 0);
	got = tu_read_file(path, &glen);
	cr_assert_eq(glen, blen);
	cr_assert_eq(memcmp(got, b, blen), 0);
	free(got);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0644);
	cr_assert_eq(dir_entries(sub), 1);

	/* A bad KRL is never installed; the old file stays. */
	b[0] = 'X';
	cr_assert_eq(krl_write_atomic(path, b, blen), ERR_BAD_FORMAT);
	cr_assert_eq(krl_write_atomic(path, b, 0), ERR_BAD_FORMAT);
	b[0] = 'S';
	got = tu_read_file(path, &glen);
	cr_assert_eq(glen, blen);
	cr_assert_eq(memcmp(got, b, blen), 0);
	free(got);
	cr_assert_eq(dir_entries(sub), 1);
	/* No directory: a system error, nothing left behind. */
	cr_assert_eq(krl_write_atomic(bad, a, alen), ERR_SYSTEM);
	cr_assert_eq(krl_write_atomic(sub, a, alen), ERR_SYSTEM);
	cr_assert_eq(dir_entries(sub), 1);
	cr_assert_eq(krl_write_atomic("", a, alen), ERR_INVALID_ARG);
	cr_assert_eq(krl_write_atomic(NULL, a, alen), ERR_INVALID_ARG);
	umask(old);
	free(a);
	free(b);
	free(bad);
	free(path);
	free(sub);
}
