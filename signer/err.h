/*
 * err.h: the one flat list of jitca's error codes, shared by every module.
 *
 * Functions that can fail return 0 on success or one of the negative codes
 * below; err_str() names a code in a short human sentence fragment that a
 * caller prints after its own context ("public key: RSA key is smaller
 * than 2048 bits").  Codes are specific on purpose: tests assert the exact
 * code, and users get a message that says what was wrong.  OpenSSL errors
 * surface as ERR_CRYPTO; err_crypto_detail() drains OpenSSL's error queue
 * into a thread-local string so the reason is not lost.
 *
 * New codes go at the end of their block; numbers are never reused.
 */
#ifndef JITCA_ERR_H
#define JITCA_ERR_H

#include <stddef.h>

#define MUST_CHECK __attribute__((warn_unused_result))

/* Fits the "r = ERR_INTERNAL; ... goto out;" shape of OpenSSH. */
#define ENSURE(cond, err)                                                      \
	do {                                                                   \
		if (!(cond)) {                                                 \
			r = (err);                                             \
			goto out;                                              \
		}                                                              \
	} while (0)
#define TRY(call)                                                              \
	do {                                                                   \
		if ((r = (call)) != 0)                                         \
			goto out;                                              \
	} while (0)

/* General */
#define ERR_OK 0
#define ERR_INTERNAL -1 /* a bug: should not happen */
#define ERR_ALLOC -2 /* out of memory */
#define ERR_INVALID_ARG -3 /* caller passed an impossible argument */
#define ERR_SYSTEM -4 /* a system call failed; see errno */
#define ERR_CRYPTO -5 /* OpenSSL failed; see err_crypto_detail() */
#define ERR_TOO_LARGE -6 /* input is over its size limit */

/* Wire buffer (signer/wire.h) */
#define ERR_BUF_FULL -10 /* would grow the buffer past its cap */
#define ERR_BUF_SHORT -11 /* message ends before the field does */
#define ERR_BUF_READ_ONLY -12 /* write to a read-only view */
#define ERR_STRING_NUL -13 /* string holds an embedded NUL byte */
#define ERR_MPINT_NEGATIVE -14 /* mpint has its sign bit set */
#define ERR_MPINT_TOO_LARGE -15 /* mpint is over 16384 bits */
#define ERR_MPINT_PADDING -16 /* mpint has a redundant leading zero */
#define ERR_TRAILING_DATA -17 /* bytes left after the last field */
#define ERR_BAD_FORMAT -18 /* malformed structure */
#define ERR_BAD_BASE64 -19 /* invalid base64 text */

/* Public keys (signer/pubkey.h) */
#define ERR_KEY_UNKNOWN_TYPE -30 /* key type name not recognised */
#define ERR_KEY_DSA -31 /* ssh-dss keys are not supported */
#define ERR_KEY_SK -32 /* sk-* (FIDO) keys are not supported yet */
#define ERR_KEY_IS_CERT -33 /* a certificate where a key was expected */
#define ERR_KEY_TYPE_MISMATCH -34 /* text type differs from blob type */
#define ERR_RSA_TOO_SMALL -35 /* RSA modulus under 2048 bits */
#define ERR_RSA_TOO_LARGE -36 /* RSA modulus over 16384 bits */
#define ERR_RSA_BAD_EXPONENT -37 /* RSA exponent even, 1 or too large */
#define ERR_EC_CURVE_MISMATCH -38 /* curve name differs from key type */
#define ERR_EC_POINT_INVALID -39 /* point off the curve or at infinity */
#define ERR_ED25519_LENGTH -40 /* ed25519 key is not 32 bytes */
#define ERR_KEY_LINE -41 /* one-line form is not "type base64" */

/* CA keys (signer/cakey.h) and signatures (pubkey_verify(), pubkey.h) */
#define ERR_KEY_FILE_MODE -50 /* key file readable by group or others */
#define ERR_KEY_FILE_OWNER -51 /* key file owned by another user */
#define ERR_KEY_FILE_FORMAT -52 /* key file is not a PKCS#8 PEM key */
#define ERR_KEY_FILE_EXISTS -53 /* refusing to overwrite a key file */
#define ERR_SIG_INVALID -54 /* signature does not verify */
#define ERR_SIG_ALG -55 /* signature algorithm not acceptable */
#define ERR_KEY_UNSUPPORTED_CA -56 /* key type cannot be a jitca CA */

/* Certificates (signer/cert.h) and the signer's policy */
#define ERR_CERT_NOT_USER -70 /* certificate type is not "user" */
#define ERR_CERT_NO_PRINCIPALS -71 /* principal list is empty */
#define ERR_CERT_BAD_PRINCIPAL -72 /* principal outside the safe alphabet */
#define ERR_CERT_TOO_MANY_PRINCIPALS -73
#define ERR_CERT_TOO_LONG -74 /* validity longer than the maximum */
#define ERR_CERT_BACKDATE -75 /* starts too far in the past */
#define ERR_CERT_VALIDITY -76 /* valid_before <= valid_after, forever */
#define ERR_CERT_UNKNOWN_OPTION -77 /* unknown critical option */
#define ERR_CERT_UNKNOWN_EXTENSION -78
#define ERR_CERT_BAD_OPTION_VALUE -79 /* e.g. flag with data, bad CIDR */
#define ERR_CERT_DUPLICATE_OPTION -80
#define ERR_CERT_SERIAL_ZERO -81
#define ERR_CERT_BAD_KEY_ID -82 /* key id outside the safe alphabet */
#define ERR_CERT_WRONG_CA -83 /* signature key is not this CA */
#define ERR_CERT_CA_IS_CERT -84 /* signature key is a certificate */
#define ERR_BAD_CIDR -85 /* malformed address/prefix */
#define ERR_CERT_NONCE -86 /* nonce shorter than 16 bytes */
#define ERR_CERT_POSTDATED -87 /* starts in the future */
#define ERR_CERT_WRONG_KEY -88 /* certified key is not the one we sent */
#define ERR_CERT_UNEXPECTED -89 /* principals or validity not as asked */

/* Signer process (signer/signer.h) */
#define ERR_SIGNER_PROTOCOL -100 /* malformed message on the socketpair */
#define ERR_SIGNER_DEAD -101 /* the signer process is gone */
/* -102 (a generic refusal, never returned) is retired, not reused. */

/* CA domain (ca/) */
#define ERR_CONFIG -120 /* invalid configuration (message says) */
#define ERR_BAD_DURATION -121 /* not a duration like 90s, 30m, 12h, 7d */
#define ERR_BAD_NAME -122 /* user or group name outside the alphabet */
#define ERR_NOT_FOUND -123 /* no such user/request/role/serial */
#define ERR_EXISTS -124 /* already exists */
#define ERR_FORBIDDEN -125 /* caller may not do this */
#define ERR_WRONG_STATE -126 /* request is not in a state that allows it */
#define ERR_POLICY -127 /* refused by the role's policy */
#define ERR_SELF_APPROVAL -128 /* nobody approves their own request */
#define ERR_ALREADY_APPROVED -129
#define ERR_EXPIRED -130 /* request past its request_ttl */
#define ERR_DB -131 /* sqlite failed */
#define ERR_LEDGER_BROKEN -132 /* hash chain does not verify */
#define ERR_BAD_TOKEN -133 /* unknown, malformed or disabled token */
#define ERR_USER_DISABLED -134
#define ERR_TTL_TOO_LONG -135 /* ttl over the role's max_ttl */
#define ERR_PRINCIPAL_NOT_ALLOWED -136
#define ERR_BUSY -137 /* database locked for too long */

/* Client (client/) */
#define ERR_UNREACHABLE -150 /* server not reachable (DNS, connect, TLS) */
#define ERR_BAD_RESPONSE -151 /* server reply is not what the API says */
#define ERR_NO_AGENT -152 /* no ssh-agent at $SSH_AUTH_SOCK */
#define ERR_AGENT -153 /* ssh-agent refused or spoke nonsense */

/* Service edges (web/ throttling and parsing, ca/store/ storage) */
#define ERR_LEDGER_FULL -160 /* no space left where the ledger is */
#define ERR_LEDGER_UNWRITABLE -161 /* ledger I/O error or read-only */
#define ERR_KEY_IS_CA -162 /* subject key is the CA's own key */

/* Signer role checks (signer/signer.h, ca/signpolicy.h) */
#define ERR_SIGNER_NO_ROLE -103 /* role unknown to the signer's config */
#define ERR_SIGNER_OPTIONS -104 /* options/extensions not the role's */
#define ERR_SIGNER_KEY_ID -105 /* key id does not name the user and role */

/* SSHSIG, Merkle tree and signed notes (signer/sshsig.h, signer/merkle.h,
 * signer/note.h) */
#define ERR_SSHSIG_ARMOR -170 /* not an armored SSH signature */
#define ERR_SSHSIG_MAGIC -171 /* blob does not start with "SSHSIG" */
#define ERR_SSHSIG_VERSION -172 /* SSHSIG version is not 1 */
#define ERR_SSHSIG_NAMESPACE -173 /* signature is for another namespace */
#define ERR_SSHSIG_HASH_ALG -174 /* hash algorithm not sha256/sha512 */
#define ERR_SSHSIG_WRONG_KEY -175 /* signed by another key */
#define ERR_MERKLE_RANGE -176 /* index or tree size out of range */
#define ERR_MERKLE_PROOF -177 /* Merkle proof does not verify */
#define ERR_NOTE_FORMAT -178 /* malformed signed note */
#define ERR_NOTE_UNKNOWN_KEY -179 /* no signature by a known key */
#define ERR_NOTE_CHECKPOINT -180 /* malformed checkpoint text */
#define ERR_NOTE_VKEY -181 /* malformed note verifier key */

/* Domain policy (ca/text.h, ca/users.h, ca/config.h, web/api.c limits) */
#define ERR_TEXT_CHAR -190 /* text holds a control/bidi/separator char */
#define ERR_TEXT_UTF8 -191 /* text is not valid UTF-8 */
#define ERR_NAME_IS_PRINCIPAL -192 /* user name = a literal principal */
#define ERR_RATE_LIMITED -193 /* too many requests; try again later */

/* CA keys in a PKCS#11 token (signer/p11.h) */
#define ERR_P11_URI_SCHEME -200 /* not a "pkcs11:" URI */
#define ERR_P11_URI_SYNTAX -201 /* attribute without '=' or a bad byte */
#define ERR_P11_URI_ATTR -202 /* unknown attribute */
#define ERR_P11_URI_DUPLICATE -203 /* attribute given twice */
#define ERR_P11_URI_EMPTY -204 /* attribute with an empty value */
#define ERR_P11_URI_PERCENT -205 /* '%' not followed by two hex digits */
#define ERR_P11_URI_VALUE -206 /* value too long, control byte, bad form */
#define ERR_P11_URI_NO_KEY -207 /* URI names no object and no id */
#define ERR_P11_URI_PIN_VALUE -208 /* a PIN in the URI itself */
#define ERR_P11_NO_MODULE -209 /* no module path configured */
#define ERR_P11_MODULE -210 /* module cannot be loaded */
#define ERR_P11_NOT_MODULE -211 /* file is not a PKCS#11 module */
#define ERR_P11_CONFLICT -212 /* URI and configuration disagree */
#define ERR_P11_PIN_FILE -213 /* PIN file missing or unreadable */
#define ERR_P11_PIN_FILE_MODE -214 /* PIN file readable by group/others */
#define ERR_P11_NO_TOKEN -215 /* no token matches the URI */
#define ERR_P11_AMBIGUOUS -216 /* more than one token or key matches */
#define ERR_P11_PIN_INCORRECT -217 /* the token refused the PIN */
#define ERR_P11_PIN_LOCKED -218 /* the token locked the PIN */
#define ERR_P11_NO_OBJECT -219 /* no private key matches the URI */
#define ERR_P11_EXTRACTABLE -220 /* key can be read out of the token */
#define ERR_P11_NO_PUBLIC -221 /* no usable public key object */
#define ERR_P11_KEY_CHANGED -222 /* token came back with another key */
#define ERR_P11_EXISTS -223 /* a key with that label or id exists */
#define ERR_P11_MECHANISM -224 /* token lacks the mechanism */
#define ERR_P11 -225 /* the module failed; see p11_detail() */
#define ERR_TOKEN_UNAVAILABLE -226 /* token or module gone; try later */

/* OIDC ID tokens and their provider (web/oidc.h); one code per check */
#define ERR_OIDC_MALFORMED -240 /* not a compact JWS, or bad JSON */
#define ERR_OIDC_BAD_ALG -241 /* alg not allowed (none, HS*) or key's */
#define ERR_OIDC_UNKNOWN_KID -242 /* kid not in the provider's JWKS */
#define ERR_OIDC_KEY_ROTATED -243 /* kid was rotated out of the JWKS */
#define ERR_OIDC_BAD_SIGNATURE -244 /* signature does not verify */
#define ERR_OIDC_BAD_ISSUER -245 /* iss is not the configured issuer */
#define ERR_OIDC_BAD_AUDIENCE -246 /* aud/azp is not our client id */
#define ERR_OIDC_EXPIRED -247 /* exp has passed */
#define ERR_OIDC_NOT_YET_VALID -248 /* nbf or iat in the future */
#define ERR_OIDC_STALE -249 /* iat too long ago */
#define ERR_OIDC_NONCE -250 /* nonce differs from the expected one */
#define ERR_OIDC_MISSING_CLAIM -251 /* a required claim is absent */
#define ERR_OIDC_BAD_CLAIM -252 /* claim of the wrong type or too long */
#define ERR_OIDC_UNREACHABLE -253 /* discovery or JWKS fetch failed */
#define ERR_OIDC_DISCOVERY -254 /* discovery document wrong (issuer) */
#define ERR_OIDC_BAD_JWKS -255 /* JWKS document malformed */
#define ERR_OIDC_INSECURE -256 /* plain http to a non-loopback host */

/* The signer's host CA and ledger keys (signer/signer.h) */
#define ERR_CERT_NOT_HOST -270 /* certificate type is not "host" */
#define ERR_CERT_BAD_HOST_NAME -271 /* not a host name or IP address */
#define ERR_SIGNER_NO_KEY -272 /* the signer holds no such key */
#define ERR_SIGNER_SAME_KEY -273 /* two of the signer's keys are one */
#define ERR_LEDGER_KEY_TYPE -274 /* the ledger key is not Ed25519 */
#define ERR_SIGNER_NOT_KRL -275 /* bytes to sign are not a bare KRL */

/* Notification delivery (web/notify.h, ca/outbox.h) */
#define ERR_NOTIFY_REFUSED -300 /* the receiver answered other than 2xx */
#define ERR_NOTIFY_UNREACHABLE -301 /* connect failed or timed out */
#define ERR_NOTIFY_LEASE -302 /* another replica delivers this sink */

/* The request lifecycle (ca/request.h) */
#define ERR_DIGEST_MISMATCH -340 /* the request is not what was approved */
#define ERR_TTL_NOT_SHORTER -341 /* an approver may shorten, never widen */
#define ERR_BREAK_GLASS -342 /* the role allows no break-glass */

/* Signing in with the identity provider: jitca's flows (client/oidc.h)
 * and jitcad's sessions (POST /v1/session) */
#define ERR_OIDC_DENIED -360 /* the person or the provider said no */
#define ERR_OIDC_CODE_EXPIRED -361 /* authorization or device code expired */
#define ERR_OIDC_STATE -362 /* redirect state differs from ours */
#define ERR_OIDC_TIMEOUT -363 /* nobody finished signing in in time */
#define ERR_REAUTH_REQUIRED -364 /* sign-in too old to approve or deny */
#define ERR_OIDC_NOT_CONFIGURED -365 /* the server has no identity provider */
#define ERR_OIDC_BAD_USERNAME -366 /* username claim is not a usable name */
#define ERR_OIDC_PROVIDER -367 /* provider answered with an error */
#define ERR_OIDC_SUBJECT -368 /* the user name is bound to another sub */

/* sshd login lines (ca/logins.h) and their recording (ca/sessions.h) */
#define ERR_LOGIN_IGNORED -320 /* not a certificate login line */
#define ERR_LOGIN_TOO_LONG -321 /* log line longer than LOGIN_LINE_MAX */
#define ERR_LOGIN_CHAR -322 /* byte outside printable ASCII in a line */
#define ERR_LOGIN_FORMAT -323 /* fields not where sshd writes them */
#define ERR_LOGIN_ACCOUNT -324 /* account is not a plain user name */
#define ERR_LOGIN_HOST -325 /* caller may not report for this host */

/* Enrolled hosts and their certificates (ca/hosts.h) */
#define ERR_HOST_KEY_BOUND -400 /* another host key is bound to the host */
#define ERR_HOST_DISABLED -401 /* the host is disabled */

/* The PostgreSQL ledger (ca/store/pg.c) */
#define ERR_LEDGER_UNREACHABLE -380 /* lost the database; retry later */

/* Web pages (web/template.h, web/ui.h) */
#define ERR_TEMPLATE -440 /* template names an unknown context or value */
#define ERR_UI_CSRF -441 /* form without the session's CSRF token */
#define ERR_UI_ORIGIN -442 /* form posted from another origin */
#define ERR_UI_SESSION -443 /* no page session, or it expired */

const char *err_str(int code);

/*
 * OpenSSL's error queue, drained into a thread-local buffer by
 * err_crypto_set() (called where ERR_CRYPTO is returned) and read back by
 * err_crypto_detail(); empty string when there is nothing.
 */
void err_crypto_set(void);
const char *err_crypto_detail(void);

#endif /* JITCA_ERR_H */
