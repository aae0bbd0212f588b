/*
 * test-conf.c - litehsm.conf parsing: every key, every kind of mistake,
 * and the order in which the file is looked for.
 */
#include "pkcs11/lh.h"
#include "pkcs11/conf.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/lh-conf-XXXXXX";

static const char *
write_conf (const char *text)
{
	static char path[256];
	FILE *f;

	snprintf (path, sizeof path, "%s/litehsm.conf", dir);
	f = fopen (path, "w");
	fputs (text, f);
	fclose (f);
	return path;
}

static CK_RV
parse (const char *text, lh_conf **out, char **why)
{
	lh_conf *c = lh_conf_new_defaults ();
	CK_RV rv;

	*why = NULL;
	rv = lh_conf_parse (c, write_conf (text), why);
	*out = c;
	return rv;
}

static void
test_all_keys (void *unused)
{
	lh_conf *c;
	char *why;

	assert_rv (CKR_OK, parse ("# comment\n\n token_dir = /srv/tok \n"
	                          "token = /a/b.db\ntoken=/c/d.db # trailing\n"
	                          "max_pin_failures = 3\nkdf_time_cost = 2\n"
	                          "kdf_memory_kib = 1024\nkdf_parallelism = 2\n"
	                          "disable_mechanisms = CKM_AES_ECB, 0x1\n"
	                          "log_file = /tmp/x.log\nlog_level = debug\n", &c, &why));
	assert_str_eq ("/srv/tok", c->token_dir);
	assert_num_eq (2, c->ntokens);
	assert_str_eq ("/c/d.db", c->tokens[1]);
	assert_num_eq (3, c->max_pin_failures);
	assert_num_eq (2, c->kdf.t_cost);
	assert_num_eq (1024, c->kdf.m_kib);
	assert_num_eq (2, c->kdf.lanes);
	assert_num_eq (2, c->ndisabled);
	assert_num_eq (CKM_AES_ECB, c->disabled[0]);
	assert_num_eq (CKM_RSA_PKCS, c->disabled[1]);
	assert_str_eq ("/tmp/x.log", c->log_file);
	lh_conf_free (c);
}

static void
test_defaults (void *unused)
{
	lh_conf *c;
	char *why;

	assert_rv (CKR_OK, parse ("", &c, &why));
	assert_num_eq (10, c->max_pin_failures);
	assert_num_eq (LH_KDF_DEFAULT_M_KIB, c->kdf.m_kib);
	assert_num_eq (LH_KDF_DEFAULT_T, c->kdf.t_cost);
	lh_conf_free (c);
}

/* Each bad line: CKR_GENERAL_ERROR and a message naming the line. */
static void
test_bad (void *arg)
{
	const char *text = arg;
	lh_conf *c;
	char *why;

	assert_rv (CKR_GENERAL_ERROR, parse (text, &c, &why));
	assert_true (why != NULL);
	assert_true (strstr (why, "litehsm.conf:") != NULL);
	free (why);
	lh_conf_free (c);
}

static void
test_load_order (void *unused)
{
	lh_conf *c;
	char *why, xdg[64], path[512];
	FILE *f;

	/* LITEHSM_CONF wins and must exist */
	setenv ("LITEHSM_CONF", write_conf ("token_dir = /from/env\n"), 1);
	assert_rv (CKR_OK, lh_conf_load (&c, &why));
	assert_str_eq ("/from/env", c->token_dir);
	lh_conf_free (c);
	setenv ("LITEHSM_CONF", "/nonexistent/litehsm.conf", 1);
	assert_rv (CKR_GENERAL_ERROR, lh_conf_load (&c, &why));
	assert_true (why && strstr (why, "/nonexistent/litehsm.conf"));
	free (why);

	/* then $XDG_CONFIG_HOME/litehsm/litehsm.conf */
	unsetenv ("LITEHSM_CONF");
	snprintf (xdg, sizeof xdg, "%s/xdg", dir);
	snprintf (path, sizeof path, "%s/litehsm", xdg);
	assert_true (mkdir (xdg, 0700) == 0 && mkdir (path, 0700) == 0);
	snprintf (path, sizeof path, "%s/litehsm/litehsm.conf", xdg);
	f = fopen (path, "w");
	fputs ("token_dir = /from/xdg\n", f);
	fclose (f);
	setenv ("XDG_CONFIG_HOME", xdg, 1);
	assert_rv (CKR_OK, lh_conf_load (&c, &why));
	assert_str_eq ("/from/xdg", c->token_dir);
	lh_conf_free (c);

	/* no file at all: defaults, token dir under XDG_DATA_HOME */
	setenv ("XDG_CONFIG_HOME", "/nonexistent", 1);
	setenv ("XDG_DATA_HOME", "/data/home", 1);
	assert_rv (CKR_OK, lh_conf_load (&c, &why));
	if (geteuid () != 0)
		assert_str_eq ("/data/home/litehsm/tokens", c->token_dir);
	else
		assert_str_eq (LH_TOKEN_DIR, c->token_dir);
	lh_conf_free (c);
	unsetenv ("XDG_CONFIG_HOME");
	unsetenv ("XDG_DATA_HOME");
}

static void
test_mech_names (void *unused)
{
	CK_MECHANISM_TYPE m;

	assert_true (lh_mech_from_name ("CKM_SHA256", &m));
	assert_num_eq (CKM_SHA256, m);
	assert_true (lh_mech_from_name ("CKM_HKDF_DERIVE", &m));
	assert_num_eq (0x402a, m);
	assert_true (lh_mech_from_name ("4224", &m));
	assert_num_eq (4224, m);
	assert_false (lh_mech_from_name ("CKM_NOPE", &m));
	assert_false (lh_mech_from_name ("12x", &m));
}

int
main (void)
{
	if (!mkdtemp (dir))
		return 1;
	lh_test_add ("/conf/all-keys", test_all_keys, NULL);
	lh_test_add ("/conf/defaults", test_defaults, NULL);
	lh_test_add ("/conf/bad/unknown-key", test_bad, "colour = blue\n");
	lh_test_add ("/conf/bad/no-equals", test_bad, "token_dir /x\n");
	lh_test_add ("/conf/bad/relative-path", test_bad, "token_dir = tokens\n");
	lh_test_add ("/conf/bad/empty-path", test_bad, "token = \n");
	lh_test_add ("/conf/bad/pin-failures-zero", test_bad, "max_pin_failures = 0\n");
	lh_test_add ("/conf/bad/pin-failures-text", test_bad, "max_pin_failures = ten\n");
	lh_test_add ("/conf/bad/pin-failures-negative", test_bad, "max_pin_failures = -1\n");
	lh_test_add ("/conf/bad/kdf-memory-small", test_bad, "kdf_memory_kib = 4\n");
	lh_test_add ("/conf/bad/kdf-memory-lanes", test_bad,
	             "kdf_parallelism = 4\nkdf_memory_kib = 16\n");
	lh_test_add ("/conf/bad/mechanism", test_bad, "disable_mechanisms = CKM_FOO\n");
	lh_test_add ("/conf/bad/log-level", test_bad, "log_level = loud\n");
	lh_test_add ("/conf/load-order", test_load_order, NULL);
	lh_test_add ("/conf/mech-names", test_mech_names, NULL);
	return lh_test_run ();
}
