/*
 * test_merkle.c: signer/merkle.c against the published RFC 6962 vectors
 * and against an independent reference computed by python3's hashlib in
 * a script run from the test: roots, frontiers, inclusion and
 * consistency proofs for every tree size 1..70 and a few larger ones,
 * every flipped byte of a proof refused, the bounds, the frontier's
 * encoding, and proofs at 1M leaves with their timings.
 *
 * The python reference builds its trees bottom-up (pairs, the odd node
 * carried up), a different construction from the RFC recursion merkle.c
 * uses, and derives audit paths from those levels; consistency proofs
 * it computes from the RFC 9162 2.1.4.1 definition.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "signer/err.h"
#include "signer/merkle.h"
#include "signer/wire.h"
#include "tests/lib/testutil.h"

/*
 * The reference.  argv[1] is the number of leaves N; leaf i is
 * "jitca-leaf-<i>".  Commands on stdin, one answer line each on stdout:
 *   R n      -> "R n <root hex>"            root of size n (0..N)
 *   I i n    -> "I i n <hex,hex,...|->"     audit path of leaf i in size n
 *   C m n    -> "C m n <hex,hex,...|->"     consistency proof m -> n
 * Level arrays of the whole tree are kept as bytearrays (64 MB at 1M
 * leaves); for size n < N they are rebuilt for that size when small.
 */
static char ref_py[] =
    "import hashlib, sys\n"
    "def H(b): return hashlib.sha256(b).digest()\n"
    "def node(l, r): return H(b'\\x01' + l + r)\n"
    "N = int(sys.argv[1])\n"
    "def levels_of(leaves):\n"
    "    lv = [leaves]\n"
    "    while len(lv[-1]) > 1:\n"
    "        p = lv[-1]\n"
    "        q = [node(p[i], p[i + 1]) for i in range(0, len(p) - 1, 2)]\n"
    "        if len(p) % 2: q.append(p[-1])\n"
    "        lv.append(q)\n"
    "    return lv\n"
    "class Big:\n"
    "    def __init__(self, n):\n"
    "        cur = bytearray()\n"
    "        for i in range(n):\n"
    "            cur += H(b'\\x00' + b'jitca-leaf-%d' % i)\n"
    "        self.lv = [cur]\n"
    "        while len(cur) > 32:\n"
    "            nxt = bytearray()\n"
    "            for o in range(0, len(cur) - 32, 64):\n"
    "                nxt += node(bytes(cur[o:o + 32]), bytes(cur[o + 32:o + 64]))\n"
    "            if (len(cur) // 32) % 2: nxt += cur[-32:]\n"
    "            self.lv.append(nxt)\n"
    "            cur = nxt\n"
    "    def get(self, l, i): return bytes(self.lv[l][32 * i:32 * i + 32])\n"
    "    def count(self, l): return len(self.lv[l]) // 32\n"
    "big = Big(N)\n"
    "def perfect(a, b):\n"
    "    n = b - a\n"
    "    return n & (n - 1) == 0 and a % n == 0\n"
    "def mth(a, b):\n"
    "    n = b - a\n"
    "    if perfect(a, b):\n"
    "        return big.get(n.bit_length() - 1, a // n)\n"
    "    k = 1\n"
    "    while k * 2 < n: k *= 2\n"
    "    return node(mth(a, a + k), mth(a + k, b))\n"
    "def small(n):\n"
    "    return levels_of([big.get(0, i) for i in range(n)])\n"
    "def root(n):\n"
    "    if n == 0: return H(b'')\n"
    "    if n == N: return big.get(len(big.lv) - 1, 0)\n"
    "    return small(n)[-1][0]\n"
    "def incl(i, n):\n"
    "    if n == N:\n"
    "        get = big.get; cnt = big.count; top = len(big.lv) - 1\n"
    "    else:\n"
    "        lv = small(n)\n"
    "        get = lambda l, j: lv[l][j]; cnt = lambda l: len(lv[l]); top = len(lv) - 1\n"
    "    p = []\n"
    "    for l in range(top):\n"
    "        s = i ^ 1\n"
    "        if s < cnt(l): p.append(get(l, s))\n"
    "        i >>= 1\n"
    "    return p\n"
    "def subproof(m, a, b, complete):\n"
    "    if m == b:\n"
    "        return [] if complete else [mth(a, b)]\n"
    "    n = b - a\n"
    "    k = 1\n"
    "    while k * 2 < n: k *= 2\n"
    "    if m - a <= k:\n"
    "        return subproof(m, a, a + k, complete) + [mth(a + k, b)]\n"
    "    return subproof(m, a + k, b, False) + [mth(a, a + k)]\n"
    "def cons(m, n):\n"
    "    if m == 0 or m == n: return []\n"
    "    return subproof(m, 0, n, True)\n"
    "def fmt(p): return ','.join(h.hex() for h in p) if p else '-'\n"
    "out = []\n"
    "for line in sys.stdin:\n"
    "    f = line.split()\n"
    "    if f[0] == 'R': out.append('R %s %s' % (f[1], root(int(f[1])).hex()))\n"
    "    elif f[0] == 'I': out.append('I %s %s %s' % (f[1], f[2], fmt(incl(int(f[1]), int(f[2])))))\n"
    "    elif f[0] == 'C': out.append('C %s %s %s' % (f[1], f[2], fmt(cons(int(f[1]), int(f[2])))))\n"
    "sys.stdout.write('\\n'.join(out) + '\\n')\n";

/* Leaves, the perfect subtrees appending reported, and call counters:
 * the store of a test. */
struct mem {
	uint64_t n;
	uint8_t (*lv[MERKLE_MAX_PATH])[MERKLE_HASH_LEN];
	uint64_t cnt[MERKLE_MAX_PATH];
	struct merkle_tree tree;
	unsigned long leaf_calls, subtree_calls;
};

static int
mem_leaf(void *ctx, uint8_t out[MERKLE_HASH_LEN], uint64_t index)
{
	struct mem *m = ctx;

	m->leaf_calls++;
	if (index >= m->cnt[0])
		return ERR_NOT_FOUND;
	memcpy(out, m->lv[0][index], MERKLE_HASH_LEN);
	return 0;
}

static int
mem_subtree(
    void *ctx, uint8_t out[MERKLE_HASH_LEN], unsigned level, uint64_t index)
{
	struct mem *m = ctx;

	m->subtree_calls++;
	if (level >= MERKLE_MAX_PATH || index >= m->cnt[level])
		return ERR_NOT_FOUND;
	memcpy(out, m->lv[level][index], MERKLE_HASH_LEN);
	return 0;
}

static void
leaf_of(uint8_t out[MERKLE_HASH_LEN], uint64_t i)
{
	char buf[64];
	int n = snprintf(buf, sizeof(buf), "jitca-leaf-%" PRIu64, i);

	cr_assert_eq(merkle_leaf_hash(out, (const uint8_t *)buf, (size_t)n), 0);
}

/* A store of n leaves built by merkle_tree_append(), keeping every
 * perfect subtree it reports. */
static struct mem *
mem_build(uint64_t n)
{
	struct mem *m = calloc(1, sizeof(*m));
	uint8_t made[MERKLE_MAX_PATH][MERKLE_HASH_LEN], leaf[MERKLE_HASH_LEN];
	uint64_t i;
	size_t nmade, l;

	cr_assert_not_null(m);
	m->n = n;
	for (l = 0; l < MERKLE_MAX_PATH && (n >> l) > 0; l++) {
		m->lv[l] = calloc((size_t)(n >> l), MERKLE_HASH_LEN);
		cr_assert_not_null(m->lv[l]);
	}
	merkle_tree_init(&m->tree);
	for (i = 0; i < n; i++) {
		leaf_of(leaf, i);
		cr_assert_eq(
		    merkle_tree_append(&m->tree, leaf, made, &nmade), 0);
		cr_assert_eq(m->tree.size, i + 1);
		cr_assert_geq(nmade, 1);
		cr_assert_eq(memcmp(made[0], leaf, MERKLE_HASH_LEN), 0);
		for (l = 0; l < nmade; l++) {
			cr_assert_eq(i >> l, m->cnt[l], "level %zu", l);
			memcpy(m->lv[l][m->cnt[l]++], made[l], MERKLE_HASH_LEN);
		}
	}
	return m;
}

static void
mem_free(struct mem *m)
{
	size_t l;

	if (m == NULL)
		return;
	for (l = 0; l < MERKLE_MAX_PATH; l++)
		free(m->lv[l]);
	free(m);
}

static int
nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void
unhex(uint8_t *out, const char *hex, size_t len)
{
	size_t i;

	cr_assert_eq(strlen(hex), 2 * len, "%s", hex);
	for (i = 0; i < len; i++) {
		int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);

		cr_assert(hi >= 0 && lo >= 0, "bad hex %s", hex);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
}

/* The next line of *s (NUL-terminated in place), or NULL at the end. */
static char *
next_line(char **s)
{
	char *line = *s, *nl;

	if (line == NULL || *line == '\0')
		return NULL;
	if ((nl = strchr(line, '\n')) != NULL) {
		*nl = '\0';
		*s = nl + 1;
	} else
		*s = line + strlen(line);
	return line;
}

/* Split a reference answer "K a [b] hex" into its fields. */
static void
answer(char *line, uint64_t *a, uint64_t *b, char **hexs)
{
	char *f[4], *end;
	int n = 0;

	f[n++] = line;
	while (n < 4 && (line = strchr(line, ' ')) != NULL) {
		*line++ = '\0';
		f[n++] = line;
	}
	cr_assert(n == (f[0][0] == 'R' ? 3 : 4), "bad answer");
	*a = strtoull(f[1], &end, 10);
	cr_assert(*end == '\0');
	if (f[0][0] == 'R') {
		*b = 0;
		*hexs = f[2];
		return;
	}
	*b = strtoull(f[2], &end, 10);
	cr_assert(*end == '\0');
	*hexs = f[3];
}

/* "h1,h2,..." or "-" into path; returns the count. */
static size_t
parse_path(uint8_t path[MERKLE_MAX_PATH][MERKLE_HASH_LEN], const char *s)
{
	size_t n = 0;

	if (strcmp(s, "-") == 0)
		return 0;
	for (;;) {
		char one[2 * MERKLE_HASH_LEN + 1];

		cr_assert_lt(n, MERKLE_MAX_PATH);
		memcpy(one, s, 2 * MERKLE_HASH_LEN);
		one[2 * MERKLE_HASH_LEN] = '\0';
		unhex(path[n++], one, MERKLE_HASH_LEN);
		s += 2 * MERKLE_HASH_LEN;
		if (*s == '\0')
			return n;
		cr_assert_eq(*s, ',', "bad path %s", s);
		s++;
	}
}

/* Run the reference for N leaves on commands; its output lines. */
static char *
reference(uint64_t n, const char *commands)
{
	char *nstr = tu_fmt("%" PRIu64, n), *out = NULL, *err = NULL;
	char *const argv[] = {"python3", "-c", ref_py, nstr, NULL};
	int st = tu_run(argv, commands, &out, &err);

	cr_assert_eq(st, 0, "python3 reference failed: %s", err ? err : "");
	free(nstr);
	free(err);
	return out;
}

/* Append printf output to a growing string. */
static void cat(char **s, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void
cat(char **s, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*s + *len, *cap - *len, fmt, ap);
		va_end(ap);
		cr_assert_geq(n, 0);
		if ((size_t)n < *cap - *len)
			break;
		*cap = *cap * 2 + (size_t)n;
		*s = realloc(*s, *cap);
		cr_assert_not_null(*s);
	}
	*len += (size_t)n;
}

/* Root of size n from a store of at least n leaves. */
static void
root_of(
    uint8_t out[MERKLE_HASH_LEN], const struct merkle_source *src, uint64_t n)
{
	if (n == 0)
		cr_assert_eq(merkle_empty_root(out), 0);
	else
		cr_assert_eq(merkle_range_hash(out, src, 0, n), 0);
}

struct proof;
typedef int (*verify_fn)(const struct proof *p, const uint8_t *x,
    const uint8_t *y, const uint8_t path[][MERKLE_HASH_LEN], size_t len);

/* A proof under test: verify it with the two hashes it joins, x and y
 * (the leaf and the root, or the old and the new root), between sizes a
 * (the leaf index, or the old size; named what in messages) and n. */
struct proof {
	verify_fn verify;
	const char *what;
	uint64_t a, n;
	const uint8_t *x, *y;
};

static int
verify_inclusion(const struct proof *p, const uint8_t *x, const uint8_t *y,
    const uint8_t path[][MERKLE_HASH_LEN], size_t len)
{
	return merkle_inclusion_verify(x, p->a, p->n, path, len, y);
}

static int
verify_consistency(const struct proof *p, const uint8_t *x, const uint8_t *y,
    const uint8_t path[][MERKLE_HASH_LEN], size_t len)
{
	return merkle_consistency_verify(p->a, p->n, x, y, path, len);
}

/* Every bit-flip of the path, of x and of y, and the path one hash
 * shorter: ERR_MERKLE_PROOF each time. */
static void
flip_proof(const struct proof *p,
    uint8_t path[MERKLE_MAX_PATH][MERKLE_HASH_LEN], size_t len)
{
	uint8_t x2[MERKLE_HASH_LEN], y2[MERKLE_HASH_LEN];
	size_t j, b;

	for (j = 0; j < len; j++)
		for (b = 0; b < MERKLE_HASH_LEN; b++) {
			path[j][b] ^= 0x01;
			cr_assert_eq(p->verify(p, p->x, p->y, path, len),
			    ERR_MERKLE_PROOF, "%s %" PRIu64 " n %" PRIu64,
			    p->what, p->a, p->n);
			path[j][b] ^= 0x01;
		}
	for (b = 0; b < MERKLE_HASH_LEN; b++) {
		memcpy(x2, p->x, sizeof(x2));
		memcpy(y2, p->y, sizeof(y2));
		x2[b] ^= 0x80;
		y2[b] ^= 0x80;
		cr_assert_eq(
		    p->verify(p, x2, p->y, path, len), ERR_MERKLE_PROOF);
		cr_assert_eq(
		    p->verify(p, p->x, y2, path, len), ERR_MERKLE_PROOF);
	}
	if (len > 0)
		cr_assert_eq(
		    p->verify(p, p->x, p->y, path, len - 1), ERR_MERKLE_PROOF);
}

/* Every byte of every hash of an inclusion proof, the leaf and the root,
 * flipped one at a time: refused each time with ERR_MERKLE_PROOF; and the
 * path one hash shorter or longer. */
static void
flip_inclusion(const uint8_t leaf[MERKLE_HASH_LEN], uint64_t i, uint64_t n,
    uint8_t path[MERKLE_MAX_PATH][MERKLE_HASH_LEN], size_t len,
    const uint8_t root[MERKLE_HASH_LEN])
{
	struct proof p = {verify_inclusion, "i", i, n, leaf, root};
	size_t j;

	flip_proof(&p, path, len);
	if (len < MERKLE_MAX_PATH) {
		memcpy(path[len], root, MERKLE_HASH_LEN);
		cr_assert_eq(
		    merkle_inclusion_verify(leaf, i, n, path, len + 1, root),
		    ERR_MERKLE_PROOF);
	}
	/* Another index with the same path: every other index in range. */
	for (j = 0; j < n && j < 80; j++)
		if (j != i)
			cr_assert_eq(merkle_inclusion_verify(
					 leaf, j, n, path, len, root),
			    ERR_MERKLE_PROOF, "index %zu for %" PRIu64, j, i);
}

/* The same for a consistency proof and its two roots. */
static void
flip_consistency(uint64_t m, uint64_t n, const uint8_t r1[MERKLE_HASH_LEN],
    const uint8_t r2[MERKLE_HASH_LEN],
    uint8_t path[MERKLE_MAX_PATH][MERKLE_HASH_LEN], size_t len)
{
	struct proof p = {verify_consistency, "m", m, n, r1, r2};

	flip_proof(&p, path, len);
}

/* The empty tree, and the CT / transparency-dev vectors: the leaves of
 * transparency-dev/merkle testonly/constants.go (LeafInputs), the root of
 * every size 0..8 (RootHashes), the frontier of every size
 * (CompactTrees), and proofs assembled from its NodeHashes. */
static const char *const ct_leaves[] = {"", "00", "10", "2021", "3031",
    "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"};
static const char *const ct_roots[] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

struct ctx8 {
	uint8_t leaves[8][MERKLE_HASH_LEN];
};

static int
ct_leaf(void *ctx, uint8_t out[MERKLE_HASH_LEN], uint64_t index)
{
	struct ctx8 *c = ctx;

	if (index >= 8)
		return ERR_NOT_FOUND;
	memcpy(out, c->leaves[index], MERKLE_HASH_LEN);
	return 0;
}

Test(merkle, ct_vectors)
{
	struct ctx8 c;
	struct merkle_source src = {ct_leaf, NULL, &c};
	struct merkle_tree t;
	uint8_t root[MERKLE_HASH_LEN], want[MERKLE_HASH_LEN];
	uint8_t path[MERKLE_MAX_PATH][MERKLE_HASH_LEN];
	uint8_t enc[MERKLE_TREE_MAX_ENCODED];
	uint8_t data[16];
	size_t i, len, enclen;
	/* CompactTrees(): the frontier of each size, largest first. */
	static const char *const nh1_2 =
	    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a";
	static const char *const nh0_6 =
	    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f";

	merkle_tree_init(&t);
	cr_assert_eq(merkle_tree_root(&t, root), 0);
	unhex(want, ct_roots[0], 32);
	cr_assert_eq(memcmp(root, want, 32), 0);
	for (i = 0; i < 8; i++) {
		size_t dl = strlen(ct_leaves[i]) / 2;

		unhex(data, ct_leaves[i], dl);
		cr_assert_eq(merkle_leaf_hash(c.leaves[i], data, dl), 0);
		cr_assert_eq(
		    merkle_tree_append(&t, c.leaves[i], NULL, NULL), 0);
		cr_assert_eq(merkle_tree_root(&t, root), 0);
		unhex(want, ct_roots[i + 1], 32);
		cr_assert_eq(memcmp(root, want, 32), 0, "size %zu", i + 1);
		root_of(root, &src, i + 1);
		cr_assert_eq(memcmp(root, want, 32), 0, "size %zu", i + 1);
		if (i + 1 == 7) {
			/* {nh[2][0], nh[1][2], nh[0][6]} */
			cr_assert_eq(
			    merkle_tree_encode(&t, enc, sizeof(enc), &enclen),
			    0);
			cr_assert_eq(enclen, 8 + 3 * 32);
			unhex(want, ct_roots[4], 32);
			cr_assert_eq(memcmp(enc + 8, want, 32), 0);
			unhex(want, nh1_2, 32);
			cr_assert_eq(memcmp(enc + 40, want, 32), 0);
			unhex(want, nh0_6, 32);
			cr_assert_eq(memcmp(enc + 72, want, 32), 0);
		}
	}
	unhex(want, ct_roots[8], 32);
	/* Inclusion of leaf 0 and leaf 5 in size 8. */
	cr_assert_eq(merkle_inclusion_proof(path, &len, &src, 0, 8), 0);
	cr_assert_eq(len, 3);
	{
		uint8_t h[MERKLE_HASH_LEN];

		unhex(h,
		    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		    32);
		cr_assert_eq(memcmp(path[0], h, 32), 0);
		unhex(h,
		    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		    32);
		cr_assert_eq(memcmp(path[1], h, 32), 0);
		unhex(h,
		    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
		    32);
		cr_assert_eq(memcmp(path[2], h, 32), 0);
	}
	cr_assert_eq(
	    merkle_inclusion_verify(c.leaves[0], 0, 8, path, len, want), 0);
	cr_assert_eq(merkle_inclusion_proof(path, &len, &src, 5, 8), 0);
	cr_assert_eq(len, 3);
	{
		uint8_t h[MERKLE_HASH_LEN];

		unhex(h,
		    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
		    32);
		cr_assert_eq(memcmp(path[0], h, 32), 0);
		unhex(h,
		    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		    32);
		cr_assert_eq(memcmp(path[1], h, 32), 0);
		unhex(h, ct_roots[4], 32);
		cr_assert_eq(memcmp(path[2], h, 32), 0);
	}
	cr_assert_eq(
	    merkle_inclusion_verify(c.leaves[5], 5, 8, path, len, want), 0);
	/* Consistency 6 -> 8: {nh[1][2], nh[1][3], nh[2][0]}. */
	cr_assert_eq(merkle_consistency_proof(path, &len, &src, 6, 8), 0);
	cr_assert_eq(len, 3);
	{
		uint8_t h[MERKLE_HASH_LEN], r6[MERKLE_HASH_LEN];

		unhex(h, nh1_2, 32);
		cr_assert_eq(memcmp(path[0], h, 32), 0);
		unhex(h,
		    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		    32);
		cr_assert_eq(memcmp(path[1], h, 32), 0);
		unhex(h, ct_roots[4], 32);
		cr_assert_eq(memcmp(path[2], h, 32), 0);
		unhex(r6, ct_roots[6], 32);
		cr_assert_eq(
		    merkle_consistency_verify(6, 8, r6, want, path, len), 0);
	}
}

/* Roots, frontiers and every inclusion and consistency proof of every
 * size 1..70 against the python reference, with every byte flipped. */
Test(merkle, reference_sizes_1_to_70)
{
	const uint64_t N = 70;
	struct mem *m = mem_build(N);
	struct merkle_source leaves_only = {mem_leaf, NULL, m};
	struct merkle_source with_sub = {mem_leaf, mem_subtree, m};
	char *cmds = NULL, *out, *line, *save = NULL;
	size_t clen = 0, ccap = 0;
	uint64_t n, i, lines = 0;
	static uint8_t roots[71][MERKLE_HASH_LEN];
	struct merkle_tree t;

	for (n = 0; n <= N; n++)
		cat(&cmds, &clen, &ccap, "R %" PRIu64 "\n", n);
	for (n = 1; n <= N; n++)
		for (i = 0; i < n; i++)
			cat(&cmds, &clen, &ccap, "I %" PRIu64 " %" PRIu64 "\n",
			    i, n);
	for (n = 1; n <= N; n++)
		for (i = 0; i <= n; i++)
			cat(&cmds, &clen, &ccap, "C %" PRIu64 " %" PRIu64 "\n",
			    i, n);
	out = reference(N, cmds);

	/* The frontier after each size gives the reference root. */
	merkle_tree_init(&t);
	save = out;
	while ((line = next_line(&save)) != NULL) {
		char kind, *hexs;
		uint64_t a, b;
		uint8_t want[MERKLE_MAX_PATH][MERKLE_HASH_LEN];
		uint8_t got[MERKLE_MAX_PATH][MERKLE_HASH_LEN];
		uint8_t leaf[MERKLE_HASH_LEN];
		size_t wl, gl;

		lines++;
		kind = line[0];
		if (kind == 'R') {
			uint8_t r[MERKLE_HASH_LEN];

			answer(line, &a, &b, &hexs);
			unhex(roots[a], hexs, 32);
			if (a > 0) {
				leaf_of(leaf, a - 1);
				cr_assert_eq(
				    merkle_tree_append(&t, leaf, NULL, NULL),
				    0);
			}
			cr_assert_eq(t.size, a);
			cr_assert_eq(merkle_tree_root(&t, r), 0);
			cr_assert_eq(
			    memcmp(r, roots[a], 32), 0, "root %" PRIu64, a);
			root_of(r, &leaves_only, a);
			cr_assert_eq(memcmp(r, roots[a], 32), 0);
			continue;
		}
		answer(line, &a, &b, &hexs);
		wl = parse_path(want, hexs);
		if (kind == 'I') {
			cr_assert_eq(merkle_inclusion_proof(
					 got, &gl, &leaves_only, a, b),
			    0);
			cr_assert_eq(gl, wl, "I %" PRIu64 " %" PRIu64, a, b);
			cr_assert_eq(memcmp(got, want, wl * 32), 0,
			    "I %" PRIu64 " %" PRIu64, a, b);
			cr_assert_eq(
			    merkle_inclusion_proof(got, &gl, &with_sub, a, b),
			    0);
			cr_assert_eq(gl, wl);
			cr_assert_eq(memcmp(got, want, wl * 32), 0);
			memcpy(leaf, m->lv[0][a], 32);
			cr_assert_eq(merkle_inclusion_verify(
					 leaf, a, b, want, wl, roots[b]),
			    0, "I %" PRIu64 " %" PRIu64, a, b);
			if (b <= 40)
				flip_inclusion(leaf, a, b, want, wl, roots[b]);
		} else {
			cr_assert_eq(kind, 'C');
			cr_assert_eq(merkle_consistency_proof(
					 got, &gl, &leaves_only, a, b),
			    0);
			cr_assert_eq(gl, wl, "C %" PRIu64 " %" PRIu64, a, b);
			cr_assert_eq(memcmp(got, want, wl * 32), 0,
			    "C %" PRIu64 " %" PRIu64, a, b);
			cr_assert_eq(
			    merkle_consistency_proof(got, &gl, &with_sub, a, b),
			    0);
			cr_assert_eq(gl, wl);
			cr_assert_eq(memcmp(got, want, wl * 32), 0);
			cr_assert_eq(merkle_consistency_verify(
					 a, b, roots[a], roots[b], want, wl),
			    0, "C %" PRIu64 " %" PRIu64, a, b);
			if (a > 0 && a < b && b <= 40)
				flip_consistency(
				    a, b, roots[a], roots[b], want, wl);
			/* A proof from a smaller old tree does not serve. */
			if (a > 1 && a < b)
				cr_assert_eq(
				    merkle_consistency_verify(a - 1, b,
					roots[a - 1], roots[b], want, wl),
				    ERR_MERKLE_PROOF);
		}
	}
	/* 71 roots, 2485 inclusion proofs, 2555 consistency proofs. */
	cr_assert_eq(lines, 71 + 2485 + 2555);
	free(out);
	free(cmds);
	mem_free(m);
}

/* Larger sizes around powers of two, a few leaves and pairs each. */
Test(merkle, reference_larger_sizes)
{
	static const uint64_t sizes[] = {
	    127, 128, 129, 255, 256, 257, 1000, 1023, 1024, 1025, 4095, 4097};
	const uint64_t N = 4097;
	struct mem *m = mem_build(N);
	struct merkle_source src = {mem_leaf, mem_subtree, m};
	char *cmds = NULL, *out, *line, *save = NULL;
	size_t clen = 0, ccap = 0, s;

	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint64_t n = sizes[s];

		cat(&cmds, &clen, &ccap, "R %" PRIu64 "\n", n);
		cat(&cmds, &clen, &ccap,
		    "I 0 %" PRIu64 "\nI %" PRIu64 " %" PRIu64 "\nI %" PRIu64
		    " %" PRIu64 "\n",
		    n, n / 2, n, n - 1, n);
		cat(&cmds, &clen, &ccap,
		    "C 1 %" PRIu64 "\nC %" PRIu64 " %" PRIu64 "\nC %" PRIu64
		    " %" PRIu64 "\n",
		    n, n / 3 + 1, n, n - 1, n);
	}
	out = reference(N, cmds);
	save = out;
	while ((line = next_line(&save)) != NULL) {
		char *hexs;
		uint64_t a, b;
		uint8_t want[MERKLE_MAX_PATH][MERKLE_HASH_LEN];
		uint8_t got[MERKLE_MAX_PATH][MERKLE_HASH_LEN];
		uint8_t r[MERKLE_HASH_LEN], ra[MERKLE_HASH_LEN],
		    rb[MERKLE_HASH_LEN];
		size_t wl, gl;

		if (line[0] == 'R') {
			answer(line, &a, &b, &hexs);
			unhex(ra, hexs, 32);
			root_of(r, &src, a);
			cr_assert_eq(memcmp(r, ra, 32), 0, "root %" PRIu64, a);
			continue;
		}
		answer(line, &a, &b, &hexs);
		wl = parse_path(want, hexs);
		root_of(rb, &src, b);
		if (line[0] == 'I') {
			cr_assert_eq(
			    merkle_inclusion_proof(got, &gl, &src, a, b), 0);
			cr_assert_eq(gl, wl);
			cr_assert_eq(memcmp(got, want, wl * 32), 0);
			cr_assert_eq(merkle_inclusion_verify(
					 m->lv[0][a], a, b, want, wl, rb),
			    0);
			flip_inclusion(m->lv[0][a], a, b, want, wl, rb);
		} else {
			root_of(ra, &src, a);
			cr_assert_eq(
			    merkle_consistency_proof(got, &gl, &src, a, b), 0);
			cr_assert_eq(gl, wl);
			cr_assert_eq(memcmp(got, want, wl * 32), 0);
			cr_assert_eq(
			    merkle_consistency_verify(a, b, ra, rb, want, wl),
			    0);
			flip_consistency(a, b, ra, rb, want, wl);
		}
	}
	free(out);
	free(cmds);
	mem_free(m);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1M leaves: the root against the reference, proofs for a few leaves
 * with and without the subtree accessor (same bytes as the reference),
 * and how long each takes. */
Test(merkle, one_million_leaves)
{
	const uint64_t N = 1000003;
	static const uint64_t idx[] = {0, 1, 500000, 999999, 1000002};
	struct mem *m;
	struct merkle_source sub, leaves_only;
	char *cmds = NULL, *out, *line, *save = NULL;
	size_t clen = 0, ccap = 0, k;
	uint8_t root[MERKLE_HASH_LEN], want_root[MERKLE_HASH_LEN];
	double t0, t_build, t_sub = 0, t_leaf = 0, t_verify = 0, t_cons = 0;
	double t_cver = 0;
	unsigned long sub_calls = 0, leaf_calls_sub = 0;
	uint64_t old = 999000;

	t0 = now_s();
	m = mem_build(N);
	t_build = now_s() - t0;
	sub = (struct merkle_source){mem_leaf, mem_subtree, m};
	leaves_only = (struct merkle_source){mem_leaf, NULL, m};
	cr_assert_eq(merkle_tree_root(&m->tree, root), 0);

	cat(&cmds, &clen, &ccap, "R %" PRIu64 "\n", N);
	for (k = 0; k < sizeof(idx) / sizeof(idx[0]); k++)
		cat(&cmds, &clen, &ccap, "I %" PRIu64 " %" PRIu64 "\n", idx[k],
		    N);
	cat(&cmds, &clen, &ccap, "C %" PRIu64 " %" PRIu64 "\n", old, N);
	out = reference(N, cmds);
	save = out;
	while ((line = next_line(&save)) != NULL) {
		char *hexs;
		uint64_t a, b;
		uint8_t want[MERKLE_MAX_PATH][MERKLE_HASH_LEN];
		uint8_t got[MERKLE_MAX_PATH][MERKLE_HASH_LEN];
		uint8_t ra[MERKLE_HASH_LEN];
		size_t wl, gl;
		double t;

		if (line[0] == 'R') {
			answer(line, &a, &b, &hexs);
			unhex(want_root, hexs, 32);
			cr_assert_eq(memcmp(root, want_root, 32), 0);
			continue;
		}
		answer(line, &a, &b, &hexs);
		wl = parse_path(want, hexs);
		if (line[0] == 'I') {
			m->subtree_calls = m->leaf_calls = 0;
			t = now_s();
			cr_assert_eq(
			    merkle_inclusion_proof(got, &gl, &sub, a, b), 0);
			t_sub += now_s() - t;
			sub_calls += m->subtree_calls;
			leaf_calls_sub += m->leaf_calls;
			cr_assert_eq(gl, wl);
			cr_assert_eq(memcmp(got, want, wl * 32), 0);
			t = now_s();
			cr_assert_eq(merkle_inclusion_verify(
					 m->lv[0][a], a, b, got, gl, root),
			    0);
			t_verify += now_s() - t;
			if (a == 500000) {
				/* From leaves alone: O(n) hashes. */
				t = now_s();
				cr_assert_eq(merkle_inclusion_proof(
						 got, &gl, &leaves_only, a, b),
				    0);
				t_leaf = now_s() - t;
				cr_assert_eq(memcmp(got, want, wl * 32), 0);
			}
		} else {
			root_of(ra, &sub, a);
			t = now_s();
			cr_assert_eq(
			    merkle_consistency_proof(got, &gl, &sub, a, b), 0);
			t_cons = now_s() - t;
			cr_assert_eq(gl, wl);
			cr_assert_eq(memcmp(got, want, wl * 32), 0);
			t = now_s();
			cr_assert_eq(
			    merkle_consistency_verify(a, b, ra, root, got, gl),
			    0);
			t_cver = now_s() - t;
			cr_log_info("consistency %" PRIu64 " -> %" PRIu64
				    ": %zu hashes (%zu bytes)",
			    a, b, gl, gl * 32);
		}
	}
	k = sizeof(idx) / sizeof(idx[0]);
	cr_log_info("1M leaves (%" PRIu64 "): build %.2f s (append + leaf "
		    "hashes); inclusion proof 20 hashes (640 bytes)",
	    N, t_build);
	cr_log_info("inclusion proof with subtree accessor: %.1f us each "
		    "(%lu subtree + %lu leaf lookups each); verify %.1f us "
		    "each",
	    t_sub / (double)k * 1e6, sub_calls / k, leaf_calls_sub / k,
	    t_verify / (double)k * 1e6);
	cr_log_info("inclusion proof from leaves only: %.3f s; consistency "
		    "proof %.1f us, verify %.1f us",
	    t_leaf, t_cons * 1e6, t_cver * 1e6);
	free(out);
	free(cmds);
	mem_free(m);
}

/* Bounds: sizes at 2^63, indexes past the size, paths over 64 hashes,
 * appends to a full tree; nothing is hashed or written out of range. */
Test(merkle, bounds)
{
	struct ctx8 c;
	struct merkle_source src = {ct_leaf, NULL, &c};
	uint8_t path[MERKLE_MAX_PATH + 1][MERKLE_HASH_LEN];
	uint8_t h[MERKLE_HASH_LEN], e[MERKLE_HASH_LEN];
	struct merkle_tree t;
	size_t len = 99;

	memset(&c, 0, sizeof(c));
	memset(path, 0, sizeof(path));
	memset(h, 0, sizeof(h));
	cr_assert_eq(
	    merkle_inclusion_proof(path, &len, &src, 8, 8), ERR_MERKLE_RANGE);
	cr_assert_eq(len, 0);
	cr_assert_eq(
	    merkle_inclusion_proof(path, &len, &src, 0, 0), ERR_MERKLE_RANGE);
	cr_assert_eq(
	    merkle_inclusion_proof(path, &len, &src, 0, MERKLE_SIZE_LIMIT),
	    ERR_MERKLE_RANGE);
	/* The store says the leaf is not there: its code comes back. */
	cr_assert_eq(
	    merkle_inclusion_proof(path, &len, &src, 0, 9), ERR_NOT_FOUND);
	cr_assert_eq(
	    merkle_inclusion_verify(h, 3, 3, path, 2, h), ERR_MERKLE_RANGE);
	cr_assert_eq(
	    merkle_inclusion_verify(h, 0, MERKLE_SIZE_LIMIT, path, 2, h),
	    ERR_MERKLE_RANGE);
	cr_assert_eq(
	    merkle_inclusion_verify(h, 0, MERKLE_SIZE_LIMIT - 1, path, 65, h),
	    ERR_TOO_LARGE);
	/* The largest tree: 63 hashes are needed, 62 or 64 do not do. */
	cr_assert_eq(
	    merkle_inclusion_verify(h, 0, MERKLE_SIZE_LIMIT - 1, path, 62, h),
	    ERR_MERKLE_PROOF);
	cr_assert_eq(
	    merkle_inclusion_verify(h, 0, MERKLE_SIZE_LIMIT - 1, path, 64, h),
	    ERR_MERKLE_PROOF);
	cr_assert_eq(merkle_inclusion_verify(h, 0, 1, path, 0, h), 0);
	cr_assert_eq(
	    merkle_inclusion_verify(h, 0, 1, path, 1, h), ERR_MERKLE_PROOF);
	cr_assert_eq(
	    merkle_inclusion_verify(NULL, 0, 1, path, 0, h), ERR_INVALID_ARG);

	cr_assert_eq(
	    merkle_consistency_proof(path, &len, &src, 5, 4), ERR_MERKLE_RANGE);
	cr_assert_eq(merkle_consistency_proof(path, &len, &src, 0, 8), 0);
	cr_assert_eq(len, 0);
	cr_assert_eq(merkle_consistency_proof(path, &len, &src, 8, 8), 0);
	cr_assert_eq(len, 0);
	cr_assert_eq(
	    merkle_consistency_verify(5, 4, h, h, path, 1), ERR_MERKLE_RANGE);
	cr_assert_eq(
	    merkle_consistency_verify(1, 2, h, h, path, 65), ERR_TOO_LARGE);
	cr_assert_eq(
	    merkle_consistency_verify(1, 2, h, h, path, 0), ERR_MERKLE_PROOF);
	cr_assert_eq(merkle_consistency_verify(4, 4, h, h, path, 0), 0);
	cr_assert_eq(
	    merkle_consistency_verify(4, 4, h, h, path, 1), ERR_MERKLE_PROOF);
	e[0] = h[0] ^ 1;
	memcpy(e + 1, h + 1, 31);
	cr_assert_eq(
	    merkle_consistency_verify(4, 4, h, e, path, 0), ERR_MERKLE_PROOF);
	/* From the empty tree: an empty path and the empty root. */
	cr_assert_eq(merkle_empty_root(e), 0);
	cr_assert_eq(merkle_consistency_verify(0, 9, e, h, path, 0), 0);
	cr_assert_eq(
	    merkle_consistency_verify(0, 9, h, h, path, 0), ERR_MERKLE_PROOF);
	cr_assert_eq(
	    merkle_consistency_verify(0, 9, e, h, path, 1), ERR_MERKLE_PROOF);

	/* A tree one leaf short of the limit takes no more leaves. */
	merkle_tree_init(&t);
	t.size = MERKLE_SIZE_LIMIT - 1;
	cr_assert_eq(merkle_tree_append(&t, h, NULL, NULL), ERR_MERKLE_RANGE);
	cr_assert_eq(t.size, MERKLE_SIZE_LIMIT - 1);
	cr_assert_eq(merkle_tree_root(&t, e), 0);
	t.size = MERKLE_SIZE_LIMIT;
	cr_assert_eq(merkle_tree_root(&t, e), ERR_MERKLE_RANGE);
	cr_assert_eq(merkle_range_hash(e, &src, 3, 3), ERR_MERKLE_RANGE);
	cr_assert_eq(merkle_range_hash(e, &src, 0, MERKLE_SIZE_LIMIT + 1),
	    ERR_MERKLE_RANGE);
}

/* The frontier's encoding: round trip at every size 0..70 and the
 * strict decoder. */
Test(merkle, frontier_encoding)
{
	struct merkle_tree t, u;
	uint8_t enc[MERKLE_TREE_MAX_ENCODED + 1], leaf[MERKLE_HASH_LEN];
	uint8_t r1[MERKLE_HASH_LEN], r2[MERKLE_HASH_LEN];
	size_t len, i;

	merkle_tree_init(&t);
	for (i = 0; i <= 70; i++) {
		cr_assert_eq(merkle_tree_encode(&t, enc, sizeof(enc), &len), 0);
		cr_assert_eq(len, 8 + (size_t)__builtin_popcountll(i) * 32);
		cr_assert_eq(merkle_tree_decode(&u, enc, len), 0);
		cr_assert_eq(u.size, i);
		cr_assert_eq(merkle_tree_root(&t, r1), 0);
		cr_assert_eq(merkle_tree_root(&u, r2), 0);
		cr_assert_eq(memcmp(r1, r2, 32), 0);
		cr_assert_eq(
		    merkle_tree_decode(&u, enc, len - 1), ERR_BUF_SHORT);
		enc[len] = 0;
		cr_assert_eq(
		    merkle_tree_decode(&u, enc, len + 1), ERR_TRAILING_DATA);
		if (i > 0)
			cr_assert_eq(merkle_tree_encode(&t, enc, len - 1, &len),
			    ERR_BUF_FULL);
		leaf_of(leaf, i);
		cr_assert_eq(merkle_tree_append(&t, leaf, NULL, NULL), 0);
	}
	/* A size of 2^63 or more. */
	memset(enc, 0, sizeof(enc));
	enc[0] = 0x80;
	cr_assert_eq(merkle_tree_decode(&u, enc, 8), ERR_MERKLE_RANGE);
	/* The largest size: 63 hashes. */
	memset(enc, 0xff, 8);
	enc[0] = 0x7f;
	cr_assert_eq(merkle_tree_decode(&u, enc, 8 + 63 * 32), 0);
	cr_assert_eq(u.size, MERKLE_SIZE_LIMIT - 1);
	cr_assert_eq(merkle_tree_decode(&u, enc, 7), ERR_BUF_SHORT);
}
