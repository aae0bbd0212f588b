/*
 * cmd_secret.c - "litehsm secret": the dispatcher of the secret
 * subcommands, and what they share (cmd.h): the logged-in session, finding
 * a secret by name, reading stdin and writing stdout.
 *
 * A secret is a CKO_SECRET_KEY token object whose CKA_LABEL is its name.
 * Values come from stdin only (never argv), are held in malloc'd buffers
 * that are wiped (OPENSSL_cleanse) before they are freed, and are never
 * printed.
 */
#include "tools/cmd.h"
#include "tools/json.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

static const lh_subcmd secret_cmds[] = {
	{ "set", "store a secret read from stdin", lh_secret_set },
	{ "generate", "make a secret or key inside the token",
	  lh_secret_generate },
	{ "list", "list the secrets (never their values)", lh_secret_list },
	{ "show", "show one secret's attributes", lh_secret_show },
	{ "rm", "delete a secret", lh_secret_rm },
	{ "wrap", "write a secret wrapped under a key to stdout",
	  lh_secret_wrap },
	{ "unwrap", "store a wrapped secret read from stdin",
	  lh_secret_unwrap },
	{ "encrypt", "seal data from stdin under a key-derived data key",
	  lh_secret_encrypt },
	{ "decrypt", "open data sealed by 'secret encrypt'",
	  lh_secret_decrypt },
	{ NULL, NULL, NULL },
};

int
lh_cmd_secret (lh_tool *t, int argc, char **argv)
{
	return lh_dispatch (t, "secret", "Store, generate, list, wrap and use "
	                    "secrets (secret-key objects) in a token.",
	                    secret_cmds, argc, argv);
}

/* ---- session ------------------------------------------------------------- */

int
lh_secret_open (lh_tool *t, lh_secret_ctx *c)
{
	int rc;

	memset (c, 0, sizeof *c);
	c->h = CK_INVALID_HANDLE;
	if ((rc = lh_p11_open (t, &c->p)) != LH_EXIT_OK)
		return rc;
	c->f = c->p.f;
	if ((rc = lh_p11_find_token (t, &c->p, &c->s)) != LH_EXIT_OK ||
	    (rc = lh_p11_session (t, &c->p, &c->s, true, &c->h)) != LH_EXIT_OK ||
	    (rc = lh_p11_login (t, &c->p, c->h, &c->s, CKU_USER,
	                        LH_PIN_USER)) != LH_EXIT_OK)
		return rc;
	return LH_EXIT_OK;
}

void
lh_secret_close (lh_secret_ctx *c)
{
	if (c->f && c->h != CK_INVALID_HANDLE) {
		c->f->C_Logout (c->h);
		c->f->C_CloseSession (c->h);
	}
	c->h = CK_INVALID_HANDLE;
	lh_p11_close (&c->p);
	c->f = NULL;
}

/* ---- names --------------------------------------------------------------- */

int
lh_secret_check_name (lh_tool *t, const char *name)
{
	size_t n = strlen (name);

	if (n == 0 || n > 64)
		return lh_error (t, LH_EXIT_USAGE, "choose a name of 1 to 64 bytes",
		                 "the name \"%s\" is %s", name,
		                 n ? "longer than 64 bytes" : "empty");
	if (!lh_utf8_printable (name, n))
		return lh_error (t, LH_EXIT_USAGE, "use printable UTF-8 text",
		                 "the name \"%s\" is not valid UTF-8 or holds "
		                 "control characters", name);
	return LH_EXIT_OK;
}

int
lh_secret_lookup (lh_tool *t, lh_secret_ctx *c, const char *name,
                  CK_OBJECT_HANDLE *out, bool *found)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_BBOOL tok = CK_TRUE;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_TOKEN, &tok, sizeof tok },
		{ CKA_LABEL, (void *)name, strlen (name) },
	};
	CK_OBJECT_HANDLE h[2];
	CK_ULONG n = 0;
	CK_RV rv;

	*found = false;
	*out = CK_INVALID_HANDLE;
	rv = c->f->C_FindObjectsInit (c->h, tmpl, 3);
	if (rv == CKR_OK) {
		rv = c->f->C_FindObjects (c->h, h, 2, &n);
		c->f->C_FindObjectsFinal (c->h);
	}
	if (rv != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot search token \"%s\"",
		                    c->s.label);
	if (n > 1)
		return lh_error (t, LH_EXIT_FAIL, "remove the extra ones with a "
		                 "PKCS#11 tool, or rename them", "token \"%s\" holds "
		                 "several secrets named \"%s\"", c->s.label, name);
	if (n == 1) {
		*found = true;
		*out = h[0];
	}
	return LH_EXIT_OK;
}

int
lh_secret_find (lh_tool *t, lh_secret_ctx *c, const char *name,
                CK_OBJECT_HANDLE *out)
{
	bool found;
	int rc;

	if ((rc = lh_secret_lookup (t, c, name, out, &found)) != LH_EXIT_OK)
		return rc;
	if (!found)
		return lh_error (t, LH_EXIT_NOTFOUND, "see 'litehsm secret list'",
		                 "no secret named \"%s\" in token \"%s\"", name,
		                 c->s.label);
	return LH_EXIT_OK;
}

int
lh_secret_check_new (lh_tool *t, lh_secret_ctx *c, const char *name,
                     bool force, CK_OBJECT_HANDLE *old)
{
	bool found;
	int rc;

	if ((rc = lh_secret_lookup (t, c, name, old, &found)) != LH_EXIT_OK)
		return rc;
	if (found && !force)
		return lh_error (t, LH_EXIT_FAIL, "use --force to replace it",
		                 "secret \"%s\" in token \"%s\" already "
		                 "exists", name, c->s.label);
	if (!found)
		*old = CK_INVALID_HANDLE;
	return LH_EXIT_OK;
}

int
lh_secret_replace_done (lh_tool *t, lh_secret_ctx *c, const char *name,
                        CK_OBJECT_HANDLE old)
{
	CK_RV rv;

	if (old == CK_INVALID_HANDLE)
		return LH_EXIT_OK;
	rv = c->f->C_DestroyObject (c->h, old);
	if (rv != CKR_OK)
		return lh_error_rv (t, rv, "two secrets now have that name; remove "
		                    "the old one with a PKCS#11 tool",
		                    "the new \"%s\" is stored but the old one cannot "
		                    "be destroyed", name);
	return LH_EXIT_OK;
}

/* ---- stdin and stdout ---------------------------------------------------- */

void
lh_secret_free (unsigned char *buf, size_t len)
{
	if (buf)
		OPENSSL_secure_clear_free (buf, len);
}

/* Decode base64 text in place (whitespace ignored); false if invalid. */
static bool
b64_decode (unsigned char *buf, size_t *len)
{
	size_t i, n = 0, pad = 0;
	unsigned char *tmp;
	int out;

	for (i = 0; i < *len; i++)
		if (buf[i] != ' ' && buf[i] != '\n' && buf[i] != '\r' &&
		    buf[i] != '\t')
			buf[n++] = buf[i];
	if (n == 0 || n % 4 != 0 || n > 0x7fffffff)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char ch = buf[i];
		bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		          (ch >= '0' && ch <= '9') || ch == '+' || ch == '/';
		if (ch == '=' && i >= n - 2) {
			pad++;
			continue;
		}
		if (!ok || pad)
			return false;
	}
	if (!(tmp = malloc (n)))
		return false;
	out = EVP_DecodeBlock (tmp, buf, (int)n);
	if (out < 0 || (size_t)out < pad) {
		OPENSSL_cleanse (tmp, n);
		free (tmp);
		return false;
	}
	*len = (size_t)out - pad;
	memcpy (buf, tmp, *len);
	OPENSSL_cleanse (buf + *len, n - *len);     /* the text's tail */
	OPENSSL_cleanse (tmp, n);
	free (tmp);
	return true;
}

/* Grow *buf (holding n bytes) to cap bytes; the old copy is wiped. */
static bool
grow (unsigned char **buf, size_t n, size_t cap)
{
	unsigned char *nb;

	if (!(nb = OPENSSL_secure_malloc (cap)))
		return false;
	if (*buf)
		memcpy (nb, *buf, n);
	lh_secret_free (*buf, n);
	*buf = nb;
	return true;
}

int
lh_secret_read_stdin (lh_tool *t, size_t max, bool b64, const char *what,
                      unsigned char **out, size_t *len)
{
	size_t limit = b64 ? max / 3 * 4 + 4096 : max + 1, cap = 0, n = 0;
	unsigned char *buf = NULL;
	ssize_t r;

	*out = NULL;
	*len = 0;
	for (;;) {
		if (n == cap) {
			if (cap == limit)
				break;
			if (!grow (&buf, n, cap = cap * 2 + 4096 > limit ? limit :
			           cap * 2 + 4096)) {
				lh_secret_free (buf, n);
				return lh_error (t, LH_EXIT_FAIL, "free some memory",
				                 "out of memory");
			}
		}
		r = read (STDIN_FILENO, buf + n, cap - n);
		if (r < 0) {
			lh_secret_free (buf, cap);
			return lh_error (t, LH_EXIT_USAGE, "pipe the input in",
			                 "cannot read the %s from stdin", what);
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n == limit) {
		lh_secret_free (buf, cap);
		return lh_error (t, LH_EXIT_USAGE, "give a shorter input",
		                 "the %s on stdin is longer than %zu bytes", what,
		                 max);
	}
	if (n == 0) {
		lh_secret_free (buf, cap);
		return lh_error (t, LH_EXIT_USAGE, "pipe it in (the value is "
		                 "never taken from the command line)", "no %s on "
		                 "stdin (it is empty)", what);
	}
	if (b64) {
		if (!b64_decode (buf, &n)) {
			lh_secret_free (buf, cap);
			return lh_error (t, LH_EXIT_USAGE, "give base64 text (RFC 4648), "
			                 "or leave out --base64 for raw bytes",
			                 "the %s on stdin is not valid base64", what);
		}
		if (n == 0 || n > max) {
			lh_secret_free (buf, cap);
			return lh_error (t, LH_EXIT_USAGE, "give a shorter input",
			                 "the %s on stdin decodes to %zu bytes (at most "
			                 "%zu)", what, n, max);
		}
	}
	*out = buf;
	*len = n;
	return LH_EXIT_OK;
}

int
lh_secret_write (lh_tool *t, const unsigned char *buf, size_t len, bool b64)
{
	unsigned char *txt = NULL;
	bool ok;

	if (b64) {
		if (!(txt = malloc (len / 3 * 4 + 5)))
			return lh_error (t, LH_EXIT_FAIL, "free some memory",
			                 "out of memory");
		EVP_EncodeBlock (txt, buf, (int)len);
		ok = printf ("%s\n", (char *)txt) >= 0;
		OPENSSL_cleanse (txt, len / 3 * 4 + 5);
		free (txt);
	} else {
		ok = fwrite (buf, 1, len, stdout) == len;
	}
	if (!ok || fflush (stdout) != 0 || ferror (stdout))
		return lh_error (t, LH_EXIT_FAIL, "check where stdout goes",
		                 "cannot write to stdout");
	return LH_EXIT_OK;
}
