/*
 * test_note.c: C2SP signed notes and checkpoints (signer/note.c): the
 * vector of Go's golang.org/x/mod/sumdb/note (signed byte for byte the
 * same, opened, its verifier key parsed and written back), the
 * c2sp.org/tlog-checkpoint example text, checkpoints we sign opened
 * again, every flipped byte and truncation of a note refused, the rules
 * for unknown, repeated and bad signatures with their exact codes, and
 * the strict checkpoint and verifier key parsers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>

#include "signer/cakey.h"
#include "signer/note.h"
#include "signer/pubkey.h"
#include "signer/wire.h"
#include "tests/lib/testutil.h"

/*
 * The example of the golang.org/x/mod/sumdb/note package documentation
 * (note.go, "Here is a well-formed signed note"): the signer key (0x01
 * and the Ed25519 seed, base64), the verifier key, the text, and the
 * signed note.  Ed25519 is deterministic, so we must sign it to the same
 * bytes.
 */
static const char go_skey64[] = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
static const char go_vkey[] =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
static const char go_text[] =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
static const char go_note[] =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
    "\n"
    "\xe2\x80\x94 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqd"
    "ngotpRZb6KE6RyyBwJnAM=\n";

/* The example checkpoint of c2sp.org/tlog-checkpoint (its key is not
 * published, so only the text and the signature line's shape are used). */
static const char c2sp_checkpoint[] =
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "\xe2\x80\x94 example.com/behind-the-sofa "
    "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGk"
    "u9nTo+zyWE+xeMcTOAYQ8=\n";

#define NAME "jitca.example/ledger"

static int
sign_cb(void *ctx, uint8_t **sig, size_t *siglen, const uint8_t *d, size_t dlen)
{
	return cakey_sign(ctx, sig, siglen, d, dlen);
}

/* Sign with a raw OpenSSL Ed25519 key, as an SSH signature blob. */
static int
evp_cb(void *ctx, uint8_t **sig, size_t *siglen, const uint8_t *d, size_t n)
{
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	uint8_t raw[64];
	size_t rawlen = sizeof(raw);
	struct wire *w = wire_new(256);

	cr_assert(mc != NULL && w != NULL);
	cr_assert_eq(EVP_DigestSignInit(mc, NULL, NULL, NULL, ctx), 1);
	cr_assert_eq(EVP_DigestSign(mc, raw, &rawlen, d, n), 1);
	cr_assert_eq(wire_put_cstring(w, "ssh-ed25519"), 0);
	cr_assert_eq(wire_put_string(w, raw, rawlen), 0);
	cr_assert_eq(wire_dup(w, sig, siglen), 0);
	wire_free(w);
	EVP_MD_CTX_free(mc);
	return 0;
}

static EVP_PKEY *
go_key(void)
{
	uint8_t *sk = NULL;
	size_t sklen = 0;
	EVP_PKEY *p;

	cr_assert_eq(
	    wire_b64_decode(&sk, &sklen, go_skey64, strlen(go_skey64)), 0);
	cr_assert_eq(sklen, 33);
	cr_assert_eq(sk[0], 0x01);
	p = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, sk + 1, 32);
	cr_assert_not_null(p);
	free(sk);
	return p;
}

static struct cakey *
gen(const char *name)
{
	struct cakey *k = NULL;

	cr_assert_eq(cakey_generate(&k, cakey_type_from_name(name)), 0);
	return k;
}

static void
verifier(struct note_verifier *v, const char *name, struct cakey *k)
{
	cr_assert_eq(note_verifier_from_pubkey(v, name, cakey_public(k)), 0);
}

Test(note, go_sumdb_vector)
{
	struct note_verifier v, w;
	EVP_PKEY *p = go_key();
	struct pubkey *pk = NULL;
	char *note = NULL, *vk = NULL;
	size_t len = 0, tl = 0;

	cr_assert_eq(note_verifier_from_vkey(&v, go_vkey, strlen(go_vkey)), 0);
	cr_assert_str_eq(v.name, "PeterNeumann");
	cr_assert_eq(v.key_id, 0xc74f20a3u);
	cr_assert_eq(note_verifier_vkey(&vk, &v), 0);
	cr_assert_str_eq(vk, go_vkey);
	/* The same verifier from the public half of the signer key. */
	cr_assert_eq(pubkey_from_evp(&pk, p), 0);
	cr_assert_eq(note_verifier_from_pubkey(&w, "PeterNeumann", pk), 0);
	cr_assert_eq(memcmp(&v, &w, sizeof(v)), 0);

	cr_assert_eq(note_open(go_note, strlen(go_note), &v, 1, 0, &tl), 0);
	cr_assert_eq(tl, strlen(go_text));
	cr_assert_eq(note_open(go_note, strlen(go_note), &v, 1,
			 NOTE_OPEN_KNOWN_ONLY, &tl),
	    0);
	cr_assert_eq(
	    note_sign(&note, &len, go_text, strlen(go_text), &v, evp_cb, p), 0);
	cr_assert_str_eq(note, go_note);
	cr_assert_eq(len, strlen(go_note));
	free(note);
	free(vk);
	pubkey_free(pk);
	EVP_PKEY_free(p);
}

Test(note, c2sp_checkpoint_example)
{
	struct note_checkpoint *c = NULL;
	struct cakey *k = gen("ed25519");
	struct note_verifier v;
	char *text = NULL;
	size_t tlen = strlen(c2sp_checkpoint) -
	    strlen(strstr(c2sp_checkpoint, "\n\n")) + 1;

	cr_assert_eq(note_checkpoint_parse(&c, c2sp_checkpoint, tlen), 0);
	cr_assert_str_eq(c->origin, "example.com/behind-the-sofa");
	cr_assert_eq(c->size, 20852163);
	cr_assert_eq(c->next, 0);
	cr_assert_eq(note_checkpoint_text(
			 &text, NULL, c->origin, c->size, c->root, NULL, 0),
	    0);
	cr_assert_eq(strlen(text), tlen);
	cr_assert_eq(memcmp(text, c2sp_checkpoint, tlen), 0);
	/* Signed by a key we do not know: refused either way. */
	verifier(&v, "example.com/behind-the-sofa", k);
	cr_assert_eq(
	    note_open(c2sp_checkpoint, strlen(c2sp_checkpoint), &v, 1, 0, NULL),
	    ERR_NOTE_UNKNOWN_KEY);
	cr_assert_eq(note_open(c2sp_checkpoint, strlen(c2sp_checkpoint), &v, 1,
			 NOTE_OPEN_KNOWN_ONLY, NULL),
	    ERR_NOTE_UNKNOWN_KEY);
	cr_assert_eq(note_open(c2sp_checkpoint, strlen(c2sp_checkpoint), NULL,
			 0, 0, NULL),
	    ERR_NOTE_UNKNOWN_KEY);
	free(text);
	note_checkpoint_free(c);
	cakey_free(k);
}

/* A checkpoint of ours: signed, opened, parsed back. */
static char *
our_checkpoint(struct cakey *k, const struct note_verifier *v, size_t *len)
{
	static const char *const ext[] = {"jitca ledger", "seq 41"};
	uint8_t root[32];
	char *text = NULL, *note = NULL;
	size_t tl = 0, i;

	for (i = 0; i < 32; i++)
		root[i] = (uint8_t)(i * 7 + 1);
	cr_assert_eq(
	    note_checkpoint_text(&text, &tl, NAME, 42, root, ext, 2), 0);
	cr_assert_eq(note_sign(&note, len, text, tl, v, sign_cb, k), 0);
	free(text);
	return note;
}

Test(note, ours_open_and_parse)
{
	struct cakey *k = gen("ed25519");
	struct note_verifier v;
	struct note_checkpoint *c = NULL;
	char *note, *vk = NULL;
	size_t len = 0, tl = 0, i;
	struct note_verifier back;

	verifier(&v, NAME, k);
	note = our_checkpoint(k, &v, &len);
	cr_assert_eq(strlen(note), len);
	cr_assert_eq(note_open(note, len, &v, 1, 0, &tl), 0);
	cr_assert_eq(note_checkpoint_parse(&c, note, tl), 0);
	cr_assert_str_eq(c->origin, NAME);
	cr_assert_eq(c->size, 42);
	for (i = 0; i < 32; i++)
		cr_assert_eq(c->root[i], (uint8_t)(i * 7 + 1));
	cr_assert_eq(c->next, 2);
	cr_assert_str_eq(c->extensions[0], "jitca ledger");
	cr_assert_str_eq(c->extensions[1], "seq 41");
	cr_assert_eq(
	    strncmp(note,
		NAME "\n42\nAQgPFh0kKzI5QEdOVVxjanF4f4aNlJuiqbC3vsXM09o="
		     "\njitca ledger\nseq 41\n\n\xe2\x80\x94 " NAME " ",
		tl + 4 + strlen(NAME) + 2),
	    0);
	/* The vkey of our key round trips. */
	cr_assert_eq(note_verifier_vkey(&vk, &v), 0);
	cr_assert_eq(note_verifier_from_vkey(&back, vk, strlen(vk)), 0);
	cr_assert_eq(memcmp(&back, &v, sizeof(v)), 0);
	free(vk);
	note_checkpoint_free(c);
	free(note);
	cakey_free(k);
}

Test(note, every_flip_and_truncation_refused)
{
	static const uint8_t masks[] = {0x01, 0x02, 0x20, 0x80};
	struct cakey *k = gen("ed25519");
	struct note_verifier v;
	char *note, *m;
	size_t len = 0, i, b, tried = 0, accepted = 0;

	verifier(&v, NAME, k);
	note = our_checkpoint(k, &v, &len);
	m = malloc(len + 8);
	cr_assert_not_null(m);
	for (i = 0; i < len; i++)
		for (b = 0; b < sizeof(masks); b++) {
			memcpy(m, note, len);
			m[i] ^= (char)masks[b];
			tried++;
			if (note_open(m, len, &v, 1, 0, NULL) == 0)
				accepted++;
		}
	cr_log_info("%zu flipped notes, %zu accepted", tried, accepted);
	cr_assert_eq(accepted, 0);
	for (i = 0; i < len; i++)
		cr_assert_neq(note_open(note, i, &v, 1, 0, NULL), 0, "%zu", i);
	/* Junk after the last line: another byte, a line, a newline. */
	memcpy(m, note, len);
	memcpy(m + len, "x", 1);
	cr_assert_eq(note_open(m, len + 1, &v, 1, 0, NULL), ERR_NOTE_FORMAT);
	memcpy(m + len, "junk\n", 5);
	cr_assert_eq(note_open(m, len + 5, &v, 1, 0, NULL), ERR_NOTE_FORMAT);
	memcpy(m + len, "\n", 1);
	cr_assert_neq(note_open(m, len + 1, &v, 1, 0, NULL), 0);
	cr_assert_eq(note_open(note, len, &v, 1, 0, NULL), 0);
	free(m);
	free(note);
	cakey_free(k);
}

/* Replace the first occurrence of from in s by to (new string). */
static char *
replace(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);

	cr_assert_not_null(p, "%s not in note", from);
	return tu_fmt("%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
}

Test(note, signature_rules_exact_codes)
{
	struct cakey *k = gen("ed25519"), *o = gen("ed25519");
	struct note_verifier v, ov, vs[2], same_name;
	char *note, *t, *onote, *oline, *line;
	size_t len = 0, olen = 0;

	verifier(&v, NAME, k);
	verifier(&ov, "witness.example/w1", o);
	verifier(&same_name, NAME, o); /* same name, another key and id */
	note = our_checkpoint(k, &v, &len);
	line = strstr(note, "\n\n") + 2;
	/* The witness's signature line over the same text. */
	cr_assert_eq(note_sign(&onote, &olen, note, (size_t)(line - note) - 1,
			 &ov, sign_cb, o),
	    0);
	oline = strstr(onote, "\n\n") + 2;

	/* Known + unknown: the unknown is ignored, unless KNOWN_ONLY. */
	t = tu_fmt("%s%s", note, oline);
	cr_assert_eq(note_open(t, strlen(t), &v, 1, 0, NULL), 0);
	cr_assert_eq(note_open(t, strlen(t), &v, 1, NOTE_OPEN_KNOWN_ONLY, NULL),
	    ERR_NOTE_UNKNOWN_KEY);
	memcpy(vs, &v, sizeof(v));
	memcpy(vs + 1, &ov, sizeof(ov));
	cr_assert_eq(
	    note_open(t, strlen(t), vs, 2, NOTE_OPEN_KNOWN_ONLY, NULL), 0);
	cr_assert_eq(note_open(t, strlen(t), &ov, 1, 0, NULL), 0);
	free(t);
	/* Only an unknown key; a key with our name but another id. */
	cr_assert_eq(
	    note_open(onote, olen, &v, 1, 0, NULL), ERR_NOTE_UNKNOWN_KEY);
	cr_assert_eq(
	    note_open(note, len, &same_name, 1, 0, NULL), ERR_NOTE_UNKNOWN_KEY);
	/* The same known signature twice. */
	t = tu_fmt("%s%s", note, line);
	cr_assert_eq(note_open(t, strlen(t), &v, 1, 0, NULL), ERR_NOTE_FORMAT);
	free(t);
	/* The witness's signature bytes under our name and id: it is ours
	 * by (name, id), so it must verify, and does not. */
	{
		uint8_t *raw = NULL;
		size_t rl = 0;
		char *b64 = NULL, *sp = strrchr(oline, ' ');
		char *osig = tu_fmt("%.*s", (int)strlen(sp + 1) - 1, sp + 1);
		uint8_t id[4];

		cr_assert_eq(wire_b64_decode(&raw, &rl, osig, strlen(osig)), 0);
		id[0] = (uint8_t)(v.key_id >> 24);
		id[1] = (uint8_t)(v.key_id >> 16);
		id[2] = (uint8_t)(v.key_id >> 8);
		id[3] = (uint8_t)v.key_id;
		memcpy(raw, id, 4);
		cr_assert_eq(wire_b64_encode(&b64, raw, rl), 0);
		t = tu_fmt("%.*s\xe2\x80\x94 %s %s\n", (int)(line - note), note,
		    NAME, b64);
		cr_assert_eq(
		    note_open(t, strlen(t), &v, 1, 0, NULL), ERR_SIG_INVALID);
		free(t);
		/* Too short for Ed25519 (4 + 63 bytes), and only an id. */
		free(b64);
		cr_assert_eq(wire_b64_encode(&b64, raw, rl - 1), 0);
		t = tu_fmt("%.*s\xe2\x80\x94 %s %s\n", (int)(line - note), note,
		    NAME, b64);
		cr_assert_eq(
		    note_open(t, strlen(t), &v, 1, 0, NULL), ERR_SIG_INVALID);
		free(t);
		free(b64);
		cr_assert_eq(wire_b64_encode(&b64, raw, 4), 0);
		t = tu_fmt("%.*s\xe2\x80\x94 %s %s\n", (int)(line - note), note,
		    NAME, b64);
		cr_assert_eq(
		    note_open(t, strlen(t), &v, 1, 0, NULL), ERR_NOTE_FORMAT);
		free(t);
		free(b64);
		free(raw);
		free(osig);
	}
	/* Bad base64, no signature after the name, a hyphen for the dash,
	 * two spaces, no blank line, a tab, invalid UTF-8. */
	t = replace(note, NAME " ", NAME " *");
	cr_assert_eq(note_open(t, strlen(t), &v, 1, 0, NULL), ERR_BAD_BASE64);
	free(t);
	t = tu_fmt("%.*s\xe2\x80\x94 %s\n", (int)(line - note), note, NAME);
	cr_assert_eq(note_open(t, strlen(t), &v, 1, 0, NULL), ERR_NOTE_FORMAT);
	free(t);
	t = tu_fmt("%.*s\xe2\x80\x94 %s \n", (int)(line - note), note, NAME);
	cr_assert_eq(note_open(t, strlen(t), &v, 1, 0, NULL), ERR_NOTE_FORMAT);
	free(t);
	t = replace(note, "\xe2\x80\x94 ", "- ");
	cr_assert_eq(note_open(t, strlen(t), &v, 1, 0, NULL), ERR_NOTE_FORMAT);
	free(t);
	t = replace(note, NAME " ", NAME "  ");
	cr_assert_eq(note_open(t, strlen(t), &v, 1, 0, NULL), ERR_BAD_BASE64);
	free(t);
	t = replace(note, "\n\n", "\n");
	cr_assert_eq(note_open(t, strlen(t), &v, 1, 0, NULL), ERR_NOTE_FORMAT);
	free(t);
	t = replace(note, "seq 41", "seq\t41");
	cr_assert_eq(note_open(t, strlen(t), &v, 1, 0, NULL), ERR_NOTE_FORMAT);
	free(t);
	t = replace(note, "seq 41",
	    "seq\xc0\xa0"
	    "41"); /* overlong */
	cr_assert_eq(note_open(t, strlen(t), &v, 1, 0, NULL), ERR_NOTE_FORMAT);
	free(t);
	t = replace(note, "seq 41",
	    "seq\xed\xa0\x80"
	    "41"); /* surrogate */
	cr_assert_eq(note_open(t, strlen(t), &v, 1, 0, NULL), ERR_NOTE_FORMAT);
	free(t);
	cr_assert_eq(note_open("", 0, &v, 1, 0, NULL), ERR_NOTE_FORMAT);
	cr_assert_eq(note_open(note, len, &v, 1, 0x2, NULL), ERR_INVALID_ARG);
	free(onote);
	free(note);
	cakey_free(o);
	cakey_free(k);
}

Test(note, limits)
{
	struct cakey *k = gen("ed25519");
	struct note_verifier v;
	char *note, *big, *p;
	size_t len = 0, i, linelen;
	const char *line;

	verifier(&v, NAME, k);
	note = our_checkpoint(k, &v, &len);
	line = strstr(note, "\n\n") + 2;
	linelen = strlen(line);
	/* NOTE_MAX_SIGS lines open (the first is ours, the others are
	 * unknown copies under another name); one more is too many. */
	big = malloc(len + (NOTE_MAX_SIGS + 1) * (linelen + 8));
	cr_assert_not_null(big);
	memcpy(big, note, len);
	p = big + len;
	for (i = 1; i < NOTE_MAX_SIGS; i++) {
		memcpy(p, "\xe2\x80\x94 x", 5);
		memcpy(p + 5, line + 4, linelen - 4);
		p += 5 + linelen - 4;
	}
	cr_assert_eq(note_open(big, (size_t)(p - big), &v, 1, 0, NULL), 0);
	memcpy(p, line, linelen);
	p += linelen;
	cr_assert_eq(
	    note_open(big, (size_t)(p - big), &v, 1, 0, NULL), ERR_TOO_LARGE);
	free(big);
	big = calloc(1, NOTE_MAX_SIZE + 1);
	cr_assert_not_null(big);
	cr_assert_eq(
	    note_open(big, NOTE_MAX_SIZE + 1, &v, 1, 0, NULL), ERR_TOO_LARGE);
	memset(big, 'a', NOTE_MAX_SIZE);
	big[NOTE_MAX_SIZE - 1] = '\n';
	cr_assert_eq(note_sign(&p, NULL, big, NOTE_MAX_SIZE, &v, sign_cb, k),
	    ERR_TOO_LARGE);
	free(big);
	free(note);
	cakey_free(k);
}

static int
fail_cb(void *ctx, uint8_t **sig, size_t *siglen, const uint8_t *d, size_t n)
{
	return ERR_SIGNER_DEAD;
}

Test(note, sign_refusals)
{
	struct cakey *k = gen("ed25519"), *o = gen("ed25519");
	struct cakey *e = gen("ecdsa-p256");
	struct note_verifier v, bad;
	char *out = NULL;
	static const char text[] = "jitca.example/ledger\n0\nAAAA\n";

	verifier(&v, NAME, k);
	cr_assert_eq(note_sign(&out, NULL, "no newline", 10, &v, sign_cb, k),
	    ERR_NOTE_FORMAT);
	cr_assert_null(out);
	cr_assert_eq(
	    note_sign(&out, NULL, "", 0, &v, sign_cb, k), ERR_NOTE_FORMAT);
	cr_assert_eq(note_sign(&out, NULL, "a\tb\n", 4, &v, sign_cb, k),
	    ERR_NOTE_FORMAT);
	cr_assert_eq(note_sign(&out, NULL, "a\xff\n", 3, &v, sign_cb, k),
	    ERR_NOTE_FORMAT);
	cr_assert_eq(note_sign(&out, NULL, "a\0b\n", 4, &v, sign_cb, k),
	    ERR_NOTE_FORMAT);
	/* The callback's key is not v's; an ECDSA blob; a failure. */
	cr_assert_eq(note_sign(&out, NULL, text, strlen(text), &v, sign_cb, o),
	    ERR_SIG_INVALID);
	cr_assert_eq(note_sign(&out, NULL, text, strlen(text), &v, sign_cb, e),
	    ERR_SIG_ALG);
	cr_assert_eq(note_sign(&out, NULL, text, strlen(text), &v, fail_cb, k),
	    ERR_SIGNER_DEAD);
	cr_assert_null(out);
	/* A verifier whose id does not match its name and key. */
	bad = v;
	bad.key_id ^= 1;
	cr_assert_eq(
	    note_sign(&out, NULL, text, strlen(text), &bad, sign_cb, k),
	    ERR_INVALID_ARG);
	/* Key names and types. */
	cr_assert_eq(note_verifier_from_pubkey(&bad, "a b", cakey_public(k)),
	    ERR_NOTE_FORMAT);
	cr_assert_eq(note_verifier_from_pubkey(&bad, "a+b", cakey_public(k)),
	    ERR_NOTE_FORMAT);
	cr_assert_eq(note_verifier_from_pubkey(&bad, "", cakey_public(k)),
	    ERR_NOTE_FORMAT);
	cr_assert_eq(note_verifier_from_pubkey(&bad,
			 "a\xc2\xa0"
			 "b",
			 cakey_public(k)),
	    ERR_NOTE_FORMAT); /* U+00A0 */
	cr_assert_eq(note_verifier_from_pubkey(&bad,
			 "a\xe3\x80\x80"
			 "b",
			 cakey_public(k)),
	    ERR_NOTE_FORMAT); /* U+3000 */
	cr_assert_eq(note_verifier_from_pubkey(&bad,
			 "jitca.example/l\xc3\xa9"
			 "dger",
			 cakey_public(k)),
	    0);
	cr_assert_eq(note_verifier_from_pubkey(&bad, NAME, cakey_public(e)),
	    ERR_SIG_ALG);
	cakey_free(e);
	cakey_free(o);
	cakey_free(k);
}

Test(note, vkey_strict)
{
	struct note_verifier v;
	char *m;
	size_t len = strlen(go_vkey), i, j;

	/* Every proper substring and every byte changed is refused, as Go's
	 * TestNewVerifier does. */
	for (i = 0; i <= len; i++)
		for (j = i + 1; j <= len; j++)
			if (i != 0 || j != len)
				cr_assert_neq(note_verifier_from_vkey(
						  &v, go_vkey + i, j - i),
				    0, "%zu..%zu", i, j);
	m = strdup(go_vkey);
	cr_assert_not_null(m);
	for (i = 0; i < len; i++) {
		m[i]++;
		cr_assert_neq(note_verifier_from_vkey(&v, m, len), 0, "%zu", i);
		m[i]--;
	}
	free(m);
	cr_assert_eq(
	    note_verifier_from_vkey(&v,
		"PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		len),
	    ERR_NOTE_VKEY);
	cr_assert_eq(
	    note_verifier_from_vkey(&v,
		"PeterNeumann+c74f20a3+ApRc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		len),
	    ERR_SIG_ALG);
	cr_assert_eq(
	    note_verifier_from_vkey(&v,
		"PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		len),
	    ERR_NOTE_VKEY);
	cr_assert_eq(
	    note_verifier_from_vkey(&v, "PeterNeumann", 12), ERR_NOTE_VKEY);
	cr_assert_eq(note_verifier_from_vkey(&v, "", 0), ERR_NOTE_VKEY);
	cr_assert_eq(note_verifier_from_vkey(&v, go_vkey, len), 0);
}

/* Base64 roots: 32 zero bytes, 31, 33, bits in the padding, unpadded. */
#define Z32 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define Z31 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="
#define Z33 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define ZPAD "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB="
#define Z43 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

Test(note, checkpoint_strict)
{
	struct note_checkpoint *c = NULL;
	uint8_t root[32];
	char *t = NULL;
	static const char *const badext[] = {"ok", ""};
	static const char *const nlext[] = {"a\nb"};
	static const struct {
		const char *text;
		int code;
	} cases[] = {
	    {"o\n0\n" Z32 "\n", 0},
	    {"o\n9223372036854775807\n" Z32 "\n", 0},
	    {"o\n9223372036854775808\n" Z32 "\n", ERR_NOTE_CHECKPOINT},
	    {"o\n18446744073709551616\n" Z32 "\n", ERR_NOTE_CHECKPOINT},
	    {"o\n007\n" Z32 "\n", ERR_NOTE_CHECKPOINT},
	    {"o\n00\n" Z32 "\n", ERR_NOTE_CHECKPOINT},
	    {"o\n-1\n" Z32 "\n", ERR_NOTE_CHECKPOINT},
	    {"o\n+1\n" Z32 "\n", ERR_NOTE_CHECKPOINT},
	    {"o\n 1\n" Z32 "\n", ERR_NOTE_CHECKPOINT},
	    {"o\n1x\n" Z32 "\n", ERR_NOTE_CHECKPOINT},
	    {"o\n\n" Z32 "\n", ERR_NOTE_CHECKPOINT},
	    {"\n1\n" Z32 "\n", ERR_NOTE_CHECKPOINT},
	    {"o\n1\n" Z31 "\n", ERR_NOTE_CHECKPOINT}, /* 31 bytes */
	    {"o\n1\n" Z33 "\n", ERR_NOTE_CHECKPOINT}, /* 33 bytes */
	    {"o\n1\n" ZPAD "\n", ERR_BAD_BASE64}, /* padding bits */
	    {"o\n1\n" Z43 "\n", ERR_BAD_BASE64},
	    {"o\n1\n", ERR_NOTE_CHECKPOINT},
	    {"o\n1\n" Z32, ERR_NOTE_CHECKPOINT},
	    {"o\n1\n" Z32 "\n\n", ERR_NOTE_CHECKPOINT},
	    {"o\n1\n" Z32 "\next\n", 0},
	    {"o\n1\n" Z32 "\next\n\n", ERR_NOTE_CHECKPOINT},
	    {"o\r\n1\n" Z32 "\n", ERR_NOTE_CHECKPOINT},
	    {"", ERR_NOTE_CHECKPOINT},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = note_checkpoint_parse(
		    &c, cases[i].text, strlen(cases[i].text));

		cr_assert_eq(r, cases[i].code, "case %zu: %d", i, r);
		if (r == 0)
			cr_assert_not_null(c);
		else
			cr_assert_null(c);
		note_checkpoint_free(c);
		c = NULL;
	}
	memset(root, 0, sizeof(root));
	cr_assert_eq(note_checkpoint_text(&t, NULL, "o", 0, root, NULL, 0), 0);
	cr_assert_str_eq(t, cases[0].text);
	free(t);
	cr_assert_eq(note_checkpoint_text(&t, NULL, "o",
			 UINT64_C(9223372036854775807), root, NULL, 0),
	    0);
	cr_assert_str_eq(t, cases[1].text);
	free(t);
	cr_assert_eq(note_checkpoint_text(
			 &t, NULL, "o", UINT64_C(1) << 63, root, NULL, 0),
	    ERR_INVALID_ARG);
	cr_assert_eq(note_checkpoint_text(&t, NULL, "", 1, root, NULL, 0),
	    ERR_INVALID_ARG);
	cr_assert_eq(note_checkpoint_text(&t, NULL, "a\nb", 1, root, NULL, 0),
	    ERR_INVALID_ARG);
	cr_assert_eq(note_checkpoint_text(&t, NULL, "o", 1, root, badext, 2),
	    ERR_INVALID_ARG);
	cr_assert_eq(note_checkpoint_text(&t, NULL, "o", 1, root, nlext, 1),
	    ERR_INVALID_ARG);
	cr_assert_null(t);
}
