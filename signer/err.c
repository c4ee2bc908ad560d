/*
 * err.c: names for the error codes of err.h, and the thread-local store
 * for OpenSSL's drained error queue.  Nothing else lives here.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "signer/err.h"

const char *
err_str(int code)
{
	switch (code) {
	case ERR_OK:
		return "success";
	case ERR_INTERNAL:
		return "internal error";
	case ERR_ALLOC:
		return "out of memory";
	case ERR_INVALID_ARG:
		return "invalid argument";
	case ERR_SYSTEM:
		return "system call failed";
	case ERR_CRYPTO:
		return "cryptographic library error";
	case ERR_TOO_LARGE:
		return "input is too large";
	case ERR_BUF_FULL:
		return "buffer size limit reached";
	case ERR_BUF_SHORT:
		return "data ends early (truncated)";
	case ERR_BUF_READ_ONLY:
		return "buffer is read-only";
	case ERR_STRING_NUL:
		return "string contains a NUL byte";
	case ERR_MPINT_NEGATIVE:
		return "negative integer (mpint)";
	case ERR_MPINT_TOO_LARGE:
		return "integer (mpint) is too large";
	case ERR_MPINT_PADDING:
		return "integer (mpint) is not minimally encoded";
	case ERR_TRAILING_DATA:
		return "unexpected trailing data";
	case ERR_BAD_FORMAT:
		return "invalid format";
	case ERR_BAD_BASE64:
		return "invalid base64";
	case ERR_KEY_UNKNOWN_TYPE:
		return "unknown key type";
	case ERR_KEY_DSA:
		return "DSA (ssh-dss) keys are not supported";
	case ERR_KEY_SK:
		return "security-key (sk-*) keys are not supported";
	case ERR_KEY_IS_CERT:
		return "a certificate was given where a plain public key is expected";
	case ERR_KEY_TYPE_MISMATCH:
		return "key type in the text does not match the key data";
	case ERR_RSA_TOO_SMALL:
		return "RSA key is smaller than 2048 bits";
	case ERR_RSA_TOO_LARGE:
		return "RSA key is larger than 16384 bits";
	case ERR_RSA_BAD_EXPONENT:
		return "RSA public exponent is invalid";
	case ERR_EC_CURVE_MISMATCH:
		return "ECDSA curve does not match the key type";
	case ERR_EC_POINT_INVALID:
		return "ECDSA public point is not on the curve";
	case ERR_ED25519_LENGTH:
		return "Ed25519 public key is not 32 bytes";
	case ERR_KEY_LINE:
		return "not an OpenSSH public key line (\"type base64 [comment]\")";
	case ERR_KEY_FILE_MODE:
		return "key file is readable by group or others (chmod 600 it)";
	case ERR_KEY_FILE_OWNER:
		return "key file is owned by another user";
	case ERR_KEY_FILE_FORMAT:
		return "key file is not a PKCS#8 PEM private key";
	case ERR_KEY_FILE_EXISTS:
		return "key file already exists";
	case ERR_SIG_INVALID:
		return "signature does not verify";
	case ERR_SIG_ALG:
		return "signature algorithm is not acceptable";
	case ERR_KEY_UNSUPPORTED_CA:
		return "key type is not supported for a CA";
	case ERR_CERT_NOT_USER:
		return "certificate is not a user certificate";
	case ERR_CERT_NO_PRINCIPALS:
		return "certificate has no principals";
	case ERR_CERT_BAD_PRINCIPAL:
		return "principal contains characters outside [A-Za-z0-9._@-] or is too long";
	case ERR_CERT_TOO_MANY_PRINCIPALS:
		return "certificate has more than 256 principals";
	case ERR_CERT_TOO_LONG:
		return "certificate validity is longer than the CA's hard maximum";
	case ERR_CERT_BACKDATE:
		return "certificate starts further in the past than the allowed backdate";
	case ERR_CERT_VALIDITY:
		return "certificate validity window is empty or unbounded";
	case ERR_CERT_UNKNOWN_OPTION:
		return "unknown critical option";
	case ERR_CERT_UNKNOWN_EXTENSION:
		return "unknown extension";
	case ERR_CERT_BAD_OPTION_VALUE:
		return "invalid option value";
	case ERR_CERT_DUPLICATE_OPTION:
		return "option appears more than once";
	case ERR_CERT_SERIAL_ZERO:
		return "certificate serial is zero";
	case ERR_CERT_BAD_KEY_ID:
		return "key id contains characters outside [A-Za-z0-9@._:+=/-]";
	case ERR_CERT_WRONG_CA:
		return "certificate names a different CA key";
	case ERR_CERT_CA_IS_CERT:
		return "certificate signature key is itself a certificate";
	case ERR_BAD_CIDR:
		return "invalid address/prefix (CIDR)";
	case ERR_CERT_NONCE:
		return "certificate nonce is too short";
	case ERR_CERT_POSTDATED:
		return "certificate starts in the future";
	case ERR_SIGNER_PROTOCOL:
		return "signer protocol error";
	case ERR_SIGNER_DEAD:
		return "signer process is not running";
	case ERR_CONFIG:
		return "invalid configuration";
	case ERR_BAD_DURATION:
		return "invalid duration (use e.g. 90s, 30m, 12h, 7d)";
	case ERR_BAD_NAME:
		return "name must match ^[A-Za-z0-9_][A-Za-z0-9._@-]{0,63}$";
	case ERR_NOT_FOUND:
		return "not found";
	case ERR_EXISTS:
		return "already exists";
	case ERR_FORBIDDEN:
		return "not allowed";
	case ERR_WRONG_STATE:
		return "request is not in a state that allows this";
	case ERR_POLICY:
		return "refused by policy";
	case ERR_SELF_APPROVAL:
		return "nobody may approve their own request";
	case ERR_ALREADY_APPROVED:
		return "this approver has already approved the request";
	case ERR_EXPIRED:
		return "request has expired";
	case ERR_DB:
		return "database error";
	case ERR_LEDGER_BROKEN:
		return "ledger hash chain does not verify";
	case ERR_BAD_TOKEN:
		return "invalid or unknown token";
	case ERR_USER_DISABLED:
		return "user is disabled";
	case ERR_TTL_TOO_LONG:
		return "requested ttl is longer than the role allows";
	case ERR_PRINCIPAL_NOT_ALLOWED:
		return "principal is not allowed for this role";
	case ERR_BUSY:
		return "database is busy";
	case ERR_CERT_WRONG_KEY:
		return "certificate is for another key";
	case ERR_CERT_UNEXPECTED:
		return "certificate principals or validity differ from the request";
	case ERR_UNREACHABLE:
		return "server unreachable";
	case ERR_BAD_RESPONSE:
		return "unexpected reply from the server";
	case ERR_NO_AGENT:
		return "no ssh-agent running";
	case ERR_AGENT:
		return "ssh-agent refused the request";
	case ERR_LEDGER_FULL:
		return "the ledger cannot be written: no space left on its "
		       "disk";
	case ERR_LEDGER_UNWRITABLE:
		return "the ledger cannot be written: I/O error or read-only "
		       "file";
	case ERR_KEY_IS_CA:
		return "the public key is the CA's own key, not a user key";
	/* Signer role checks */
	case ERR_SIGNER_NO_ROLE:
		return "signer: no such role in its configuration";
	case ERR_SIGNER_OPTIONS:
		return "signer: critical options or extensions are not the "
		       "role's";
	case ERR_SIGNER_KEY_ID:
		return "signer: key id does not name the user and role";
	/* SSHSIG, Merkle tree and signed notes */
	case ERR_SSHSIG_ARMOR:
		return "not an armored SSH signature (-----BEGIN SSH SIGNATURE-----)";
	case ERR_SSHSIG_MAGIC:
		return "SSH signature does not start with SSHSIG";
	case ERR_SSHSIG_VERSION:
		return "unsupported SSH signature version";
	case ERR_SSHSIG_NAMESPACE:
		return "SSH signature is for another namespace";
	case ERR_SSHSIG_HASH_ALG:
		return "SSH signature hash algorithm is not sha256 or sha512";
	case ERR_SSHSIG_WRONG_KEY:
		return "SSH signature was made by another key";
	case ERR_MERKLE_RANGE:
		return "Merkle tree index or size out of range";
	case ERR_MERKLE_PROOF:
		return "Merkle proof does not verify";
	case ERR_NOTE_FORMAT:
		return "malformed signed note";
	case ERR_NOTE_UNKNOWN_KEY:
		return "signed note has no signature by a known key";
	case ERR_NOTE_CHECKPOINT:
		return "malformed checkpoint (origin, tree size, root hash)";
	case ERR_NOTE_VKEY:
		return "malformed note verifier key (NAME+KEYID+BASE64)";
	/* Domain policy */
	case ERR_TEXT_CHAR:
		return "text holds a control, bidi or separator character";
	case ERR_TEXT_UTF8:
		return "text is not valid UTF-8";
	case ERR_NAME_IS_PRINCIPAL:
		return "user name is a literal principal of a role";
	case ERR_RATE_LIMITED:
		return "too many requests; try again later";
	case ERR_P11_URI_SCHEME:
		return "not a PKCS#11 URI (must start with \"pkcs11:\")";
	case ERR_P11_URI_SYNTAX:
		return "PKCS#11 URI: an attribute without \"=\" or a character that must be percent-encoded";
	case ERR_P11_URI_ATTR:
		return "PKCS#11 URI: unknown attribute";
	case ERR_P11_URI_DUPLICATE:
		return "PKCS#11 URI: an attribute is given twice";
	case ERR_P11_URI_EMPTY:
		return "PKCS#11 URI: an attribute has an empty value";
	case ERR_P11_URI_PERCENT:
		return "PKCS#11 URI: bad percent-encoding";
	case ERR_P11_URI_VALUE:
		return "PKCS#11 URI: an attribute value is too long or malformed";
	case ERR_P11_URI_NO_KEY:
		return "PKCS#11 URI names no key (give \"object=\" or \"id=\")";
	case ERR_P11_URI_PIN_VALUE:
		return "PKCS#11 URI holds a PIN (use a PIN file, not \"pin-value=\")";
	case ERR_P11_NO_MODULE:
		return "no PKCS#11 module configured (ca.pkcs11_module)";
	case ERR_P11_MODULE:
		return "PKCS#11 module cannot be loaded";
	case ERR_P11_NOT_MODULE:
		return "file is not a PKCS#11 module (no C_GetFunctionList)";
	case ERR_P11_CONFLICT:
		return "the PKCS#11 URI and the configuration name different modules or PIN files";
	case ERR_P11_PIN_FILE:
		return "PIN file cannot be read (missing, or not a regular file)";
	case ERR_P11_PIN_FILE_MODE:
		return "PIN file is readable by group or others (chmod 600 it)";
	case ERR_P11_NO_TOKEN:
		return "no PKCS#11 token matches the URI";
	case ERR_P11_AMBIGUOUS:
		return "more than one PKCS#11 token or key matches the URI";
	case ERR_P11_PIN_INCORRECT:
		return "the token refused the PIN";
	case ERR_P11_PIN_LOCKED:
		return "the token's PIN is locked";
	case ERR_P11_NO_OBJECT:
		return "no private key on the token matches the URI";
	case ERR_P11_EXTRACTABLE:
		return "the token key is extractable or not sensitive; jitca needs a key that cannot leave the token";
	case ERR_P11_NO_PUBLIC:
		return "the token has no usable public key object for the private key";
	case ERR_P11_KEY_CHANGED:
		return "the token came back with a different key under the same name";
	case ERR_P11_EXISTS:
		return "a key with that label or id is already on the token";
	case ERR_P11_MECHANISM:
		return "the token does not support the mechanism";
	case ERR_P11:
		return "the PKCS#11 module failed";
	case ERR_TOKEN_UNAVAILABLE:
		return "the PKCS#11 token is not available";
	/* OIDC ID tokens (web/oidc.h) */
	case ERR_OIDC_MALFORMED:
		return "ID token is not a well-formed compact JWS";
	case ERR_OIDC_BAD_ALG:
		return "ID token signature algorithm is not allowed";
	case ERR_OIDC_UNKNOWN_KID:
		return "ID token is signed with a key the provider does not publish";
	case ERR_OIDC_KEY_ROTATED:
		return "ID token is signed with a key the provider has rotated out";
	case ERR_OIDC_BAD_SIGNATURE:
		return "ID token signature does not verify";
	case ERR_OIDC_BAD_ISSUER:
		return "ID token is from another issuer";
	case ERR_OIDC_BAD_AUDIENCE:
		return "ID token is for another client (aud/azp)";
	case ERR_OIDC_EXPIRED:
		return "ID token has expired";
	case ERR_OIDC_NOT_YET_VALID:
		return "ID token is not valid yet (nbf/iat in the future)";
	case ERR_OIDC_STALE:
		return "ID token was issued too long ago";
	case ERR_OIDC_NONCE:
		return "ID token nonce does not match";
	case ERR_OIDC_MISSING_CLAIM:
		return "ID token lacks a required claim";
	case ERR_OIDC_BAD_CLAIM:
		return "ID token claim has the wrong type or is too long";
	case ERR_OIDC_UNREACHABLE:
		return "identity provider is unreachable";
	case ERR_OIDC_DISCOVERY:
		return "identity provider discovery document is wrong";
	case ERR_OIDC_BAD_JWKS:
		return "identity provider key set (JWKS) is malformed";
	case ERR_OIDC_INSECURE:
		return "identity provider URL is plain http on a non-loopback host";
	/* The signer's host CA and ledger keys */
	case ERR_CERT_NOT_HOST:
		return "certificate type is not \"host\"";
	case ERR_CERT_BAD_HOST_NAME:
		return "host principal is not a host name or IP address";
	case ERR_SIGNER_NO_KEY:
		return "the signer holds no such key";
	case ERR_SIGNER_SAME_KEY:
		return "the user CA, host CA and ledger keys must differ";
	case ERR_LEDGER_KEY_TYPE:
		return "the ledger key is not an Ed25519 key";
	case ERR_SIGNER_NOT_KRL:
		return "not a well-formed unsigned KRL";
	/* Notification delivery */
	case ERR_NOTIFY_REFUSED:
		return "notification receiver answered with an error status";
	case ERR_NOTIFY_UNREACHABLE:
		return "notification receiver is unreachable or timed out";
	case ERR_NOTIFY_LEASE:
		return "another replica delivers this notification sink";
	case ERR_DIGEST_MISMATCH:
		return "the request changed since it was shown: its digest "
		       "differs from the one approved";
	case ERR_TTL_NOT_SHORTER:
		return "an approver may shorten the ttl, never lengthen it";
	case ERR_BREAK_GLASS:
		return "the role allows no break-glass access";
	/* signing in (client/oidc.h, POST /v1/session) */
	case ERR_OIDC_DENIED:
		return "sign-in was denied at the identity provider";
	case ERR_OIDC_CODE_EXPIRED:
		return "the sign-in code expired before it was used";
	case ERR_OIDC_STATE:
		return "the sign-in redirect does not belong to this sign-in";
	case ERR_OIDC_TIMEOUT:
		return "sign-in was not completed in time";
	case ERR_REAUTH_REQUIRED:
		return "sign-in is too old to approve or deny; sign in again";
	case ERR_OIDC_NOT_CONFIGURED:
		return "the server has no identity provider configured";
	case ERR_OIDC_BAD_USERNAME:
		return "the user name claim is not a usable jitca user name";
	case ERR_OIDC_PROVIDER:
		return "the identity provider answered with an error";
	case ERR_OIDC_SUBJECT:
		return "the user name belongs to another identity at the "
		       "provider";
	case ERR_LOGIN_IGNORED:
		return "not a certificate login line";
	case ERR_LOGIN_TOO_LONG:
		return "log line too long";
	case ERR_LOGIN_CHAR:
		return "log line holds a byte sshd never writes (control or "
		       "non-ASCII)";
	case ERR_LOGIN_FORMAT:
		return "log line fields are not where sshd writes them";
	case ERR_LOGIN_ACCOUNT:
		return "account in the log line is not a plain user name";
	case ERR_LOGIN_HOST:
		return "caller may not report logins for this host";
	/* Enrolled hosts (ca/hosts.h) */
	case ERR_HOST_KEY_BOUND:
		return "another host key is bound to this host (jitcad host "
		       "reset)";
	case ERR_HOST_DISABLED:
		return "host is disabled";
	/* The PostgreSQL ledger */
	case ERR_LEDGER_UNREACHABLE:
		return "the ledger database cannot be reached; retrying";
	case ERR_TEMPLATE:
		return "template names an unknown context or value";
	case ERR_UI_CSRF:
		return "the form lacks this session's CSRF token";
	case ERR_UI_ORIGIN:
		return "the form was posted from another origin";
	case ERR_UI_SESSION:
		return "not signed in, or the page session expired";
	}
	return "unknown error";
}

static _Thread_local char crypto_detail[512];

void
err_crypto_set(void)
{
	unsigned long e;
	size_t used = 0;

	crypto_detail[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		char one[256];

		ERR_error_string_n(e, one, sizeof(one));
		if (used < sizeof(crypto_detail) - 1) {
			int n = snprintf(crypto_detail + used,
			    sizeof(crypto_detail) - used, "%s%s",
			    used ? "; " : "", one);
			if (n > 0)
				used += (size_t)n;
		}
	}
}

const char *
err_crypto_detail(void)
{
	return crypto_detail;
}
