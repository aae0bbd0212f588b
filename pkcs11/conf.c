/*
 * conf.c - reading litehsm.conf.
 *
 * Format: "key = value" lines, "#" comments, blank lines.  Every problem
 * is reported as one line "FILE:LINE: problem" and makes the whole load
 * fail: a half-understood configuration of a key store is worse than none.
 * The parser is a fuzz target, so it trusts nothing about its input.
 */
#include "pkcs11/lh.h"
#include "pkcs11/conf.h"
#include "pkcs11/log.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

lh_conf *
lh_conf_new_defaults (void)
{
	lh_conf *c = calloc (1, sizeof *c);

	if (!c)
		return NULL;
	c->max_pin_failures = 10;
	c->kdf.t_cost = LH_KDF_DEFAULT_T;
	c->kdf.m_kib = LH_KDF_DEFAULT_M_KIB;
	c->kdf.lanes = LH_KDF_DEFAULT_LANES;
	c->log_level = LH_LOG_ERROR;
	c->strict_policy = true;
	return c;
}

void
lh_conf_free (lh_conf *c)
{
	size_t i;

	if (!c)
		return;
	free (c->token_dir);
	for (i = 0; i < c->ntokens; i++)
		free (c->tokens[i]);
	free (c->tokens);
	free (c->disabled);
	free (c->log_file);
	free (c->source);
	free (c);
}

static char *
vformat (const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf (&s, fmt, ap) < 0)
		return NULL;
	return s;
}

static CK_RV
fail (char **why, const char *path, unsigned line, const char *fmt, ...)
{
	char *msg;
	va_list ap;

	va_start (ap, fmt);
	msg = vformat (fmt, ap);
	va_end (ap);
	if (why && msg && asprintf (why, "%s:%u: %s", path, line, msg) < 0)
		*why = NULL;
	free (msg);
	return CKR_GENERAL_ERROR;
}

static bool
parse_u32 (const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (!isdigit ((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoull (s, &end, 0);
	if (errno || *end || v < min || v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* Mechanism names accepted in disable_mechanisms; numbers work too. */
static const struct {
	const char *name;
	CK_MECHANISM_TYPE type;
} mech_names[] = {
#define M(x) { #x, x }
	M (CKM_RSA_PKCS_KEY_PAIR_GEN), M (CKM_RSA_PKCS), M (CKM_RSA_X_509),
	M (CKM_RSA_PKCS_OAEP), M (CKM_RSA_PKCS_PSS),
	M (CKM_SHA1_RSA_PKCS), M (CKM_SHA224_RSA_PKCS), M (CKM_SHA256_RSA_PKCS),
	M (CKM_SHA384_RSA_PKCS), M (CKM_SHA512_RSA_PKCS),
	M (CKM_SHA1_RSA_PKCS_PSS), M (CKM_SHA224_RSA_PKCS_PSS),
	M (CKM_SHA256_RSA_PKCS_PSS), M (CKM_SHA384_RSA_PKCS_PSS),
	M (CKM_SHA512_RSA_PKCS_PSS),
	M (CKM_SHA_1), M (CKM_SHA224), M (CKM_SHA256), M (CKM_SHA384), M (CKM_SHA512),
	M (CKM_SHA_1_HMAC), M (CKM_SHA224_HMAC), M (CKM_SHA256_HMAC),
	M (CKM_SHA384_HMAC), M (CKM_SHA512_HMAC),
	M (CKM_SHA_1_HMAC_GENERAL), M (CKM_SHA224_HMAC_GENERAL),
	M (CKM_SHA256_HMAC_GENERAL), M (CKM_SHA384_HMAC_GENERAL),
	M (CKM_SHA512_HMAC_GENERAL),
	M (CKM_GENERIC_SECRET_KEY_GEN),
	M (CKM_EC_KEY_PAIR_GEN), M (CKM_ECDSA), M (CKM_ECDSA_SHA1),
	M (CKM_ECDSA_SHA224), M (CKM_ECDSA_SHA256), M (CKM_ECDSA_SHA384),
	M (CKM_ECDSA_SHA512), M (CKM_ECDH1_DERIVE),
	M (CKM_EC_EDWARDS_KEY_PAIR_GEN), M (CKM_EC_MONTGOMERY_KEY_PAIR_GEN),
	M (CKM_EDDSA),
	M (CKM_AES_KEY_GEN), M (CKM_AES_ECB), M (CKM_AES_CBC), M (CKM_AES_CBC_PAD),
	M (CKM_AES_CTR), M (CKM_AES_GCM), M (CKM_AES_CMAC),
	M (CKM_AES_KEY_WRAP), M (CKM_AES_KEY_WRAP_PAD), M (CKM_HKDF_DERIVE),
#undef M
};

bool
lh_mech_from_name (const char *name, CK_MECHANISM_TYPE *out)
{
	size_t i;
	char *end;

	for (i = 0; i < LH_ARRAY_SIZE (mech_names); i++) {
		if (strcmp (name, mech_names[i].name) == 0) {
			*out = mech_names[i].type;
			return true;
		}
	}
	if (isdigit ((unsigned char)name[0])) {
		errno = 0;
		*out = strtoul (name, &end, 0);
		return errno == 0 && *end == '\0';
	}
	return false;
}

static char *
trim (char *s)
{
	char *e;

	while (isspace ((unsigned char)*s))
		s++;
	e = s + strlen (s);
	while (e > s && isspace ((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static CK_RV
parse_mechs (lh_conf *c, char *value, const char *path, unsigned line, char **why)
{
	char *save = NULL, *tok;
	CK_MECHANISM_TYPE m, *grown;

	for (tok = strtok_r (value, ",", &save); tok; tok = strtok_r (NULL, ",", &save)) {
		tok = trim (tok);
		if (*tok == '\0')
			continue;
		if (!lh_mech_from_name (tok, &m))
			return fail (why, path, line, "unknown mechanism \"%s\" in "
			             "disable_mechanisms; use a CKM_ name or a number", tok);
		grown = realloc (c->disabled, (c->ndisabled + 1) * sizeof *grown);
		if (!grown)
			return CKR_HOST_MEMORY;
		c->disabled = grown;
		c->disabled[c->ndisabled++] = m;
	}
	return CKR_OK;
}

static CK_RV
set_string (char **slot, const char *value)
{
	char *copy = strdup (value);

	if (!copy)
		return CKR_HOST_MEMORY;
	free (*slot);
	*slot = copy;
	return CKR_OK;
}

/* One "key = value" pair. */
static CK_RV
parse_pair (lh_conf *c, const char *key, char *value, const char *path,
            unsigned line, char **why)
{
	char **grown;

	if (strcmp (key, "token_dir") == 0 || strcmp (key, "token") == 0 ||
	    strcmp (key, "log_file") == 0) {
		if (*value == '\0')
			return fail (why, path, line, "%s needs a path", key);
		if (value[0] != '/' && strcmp (value, "syslog") != 0)
			return fail (why, path, line, "%s must be an absolute path, "
			             "got \"%s\"", key, value);
	}
	if (strcmp (key, "token_dir") == 0)
		return set_string (&c->token_dir, value);
	if (strcmp (key, "log_file") == 0)
		return set_string (&c->log_file, value);
	if (strcmp (key, "token") == 0) {
		grown = realloc (c->tokens, (c->ntokens + 1) * sizeof *grown);
		if (!grown)
			return CKR_HOST_MEMORY;
		c->tokens = grown;
		c->tokens[c->ntokens] = strdup (value);
		return c->tokens[c->ntokens++] ? CKR_OK : CKR_HOST_MEMORY;
	}
	if (strcmp (key, "max_pin_failures") == 0)
		return parse_u32 (value, 1, 1000, &c->max_pin_failures) ? CKR_OK :
		       fail (why, path, line, "max_pin_failures must be 1..1000");
	if (strcmp (key, "kdf_time_cost") == 0)
		return parse_u32 (value, 1, 100, &c->kdf.t_cost) ? CKR_OK :
		       fail (why, path, line, "kdf_time_cost must be 1..100");
	if (strcmp (key, "kdf_memory_kib") == 0)
		return parse_u32 (value, 8, 4194304, &c->kdf.m_kib) ? CKR_OK :
		       fail (why, path, line, "kdf_memory_kib must be 8..4194304");
	if (strcmp (key, "kdf_parallelism") == 0)
		return parse_u32 (value, 1, 16, &c->kdf.lanes) ? CKR_OK :
		       fail (why, path, line, "kdf_parallelism must be 1..16");
	if (strcmp (key, "disable_mechanisms") == 0)
		return parse_mechs (c, value, path, line, why);
	if (strcmp (key, "strict_policy") == 0) {
		if (strcmp (value, "yes") == 0)
			c->strict_policy = true;
		else if (strcmp (value, "no") == 0)
			c->strict_policy = false;
		else
			return fail (why, path, line, "strict_policy must be yes or no");
		return CKR_OK;
	}
	if (strcmp (key, "log_level") == 0) {
		if (strcmp (value, "error") == 0)
			c->log_level = LH_LOG_ERROR;
		else if (strcmp (value, "info") == 0)
			c->log_level = LH_LOG_INFO;
		else if (strcmp (value, "debug") == 0)
			c->log_level = LH_LOG_DEBUG;
		else
			return fail (why, path, line, "log_level must be error, info "
			             "or debug");
		return CKR_OK;
	}
	return fail (why, path, line, "unknown key \"%s\" (see litehsm.conf(5))", key);
}

CK_RV
lh_conf_parse (lh_conf *c, const char *path, char **why)
{
	FILE *f;
	char buf[4096], *line, *eq, *key, *value, *hash;
	unsigned lineno = 0;
	CK_RV rv = CKR_OK;

	f = fopen (path, "re");
	if (!f)
		return fail (why, path, 0, "cannot read: %s", strerror (errno));
	while (rv == CKR_OK && fgets (buf, sizeof buf, f)) {
		lineno++;
		if (!strchr (buf, '\n') && !feof (f)) {
			rv = fail (why, path, lineno, "line too long");
			break;
		}
		hash = strchr (buf, '#');
		if (hash)
			*hash = '\0';
		line = trim (buf);
		if (*line == '\0')
			continue;
		eq = strchr (line, '=');
		if (!eq) {
			rv = fail (why, path, lineno, "expected \"key = value\"");
			break;
		}
		*eq = '\0';
		key = trim (line);
		value = trim (eq + 1);
		rv = parse_pair (c, key, value, path, lineno, why);
	}
	if (rv == CKR_OK && ferror (f))
		rv = fail (why, path, lineno, "read error");
	fclose (f);
	if (c->kdf.m_kib < 8 * c->kdf.lanes && rv == CKR_OK)
		rv = fail (why, path, lineno, "kdf_memory_kib must be at least 8 "
		           "times kdf_parallelism");
	return rv;
}

static char *
default_token_dir (void)
{
	const char *xdg = getenv ("XDG_DATA_HOME"), *home = getenv ("HOME");
	char *dir = NULL;

	if (geteuid () == 0)
		return strdup (LH_TOKEN_DIR);
	if (xdg && xdg[0] == '/') {
		if (asprintf (&dir, "%s/litehsm/tokens", xdg) < 0)
			return NULL;
	} else if (home && home[0] == '/') {
		if (asprintf (&dir, "%s/.local/share/litehsm/tokens", home) < 0)
			return NULL;
	} else {
		return strdup (LH_TOKEN_DIR);
	}
	return dir;
}

CK_RV
lh_conf_load (lh_conf **out, char **why)
{
	const char *env = getenv ("LITEHSM_CONF");
	const char *xdg = getenv ("XDG_CONFIG_HOME"), *home = getenv ("HOME");
	char *path = NULL;
	lh_conf *c;
	CK_RV rv = CKR_OK;

	*why = NULL;
	c = lh_conf_new_defaults ();
	if (!c)
		return CKR_HOST_MEMORY;
	if (env && *env) {
		path = strdup (env);    /* named explicitly: must exist */
	} else {
		if (xdg && xdg[0] == '/') {
			if (asprintf (&path, "%s/litehsm/litehsm.conf", xdg) < 0)
				path = NULL;
		} else if (home && home[0] == '/') {
			if (asprintf (&path, "%s/.config/litehsm/litehsm.conf", home) < 0)
				path = NULL;
		}
		if (path && access (path, F_OK) != 0) {
			free (path);
			path = NULL;
		}
		if (!path && access (LH_SYSCONFDIR "/litehsm/litehsm.conf", F_OK) == 0)
			path = strdup (LH_SYSCONFDIR "/litehsm/litehsm.conf");
	}
	if (path) {
		rv = lh_conf_parse (c, path, why);
		c->source = path;
	}
	if (rv == CKR_OK && !c->token_dir && !(c->token_dir = default_token_dir ()))
		rv = CKR_HOST_MEMORY;
	if (rv != CKR_OK) {
		lh_conf_free (c);
		return rv;
	}
	*out = c;
	return CKR_OK;
}
