/*
 * conf.h - the module's configuration (litehsm.conf(5)).
 */
#ifndef LH_CONF_H
#define LH_CONF_H

#include "pkcs11/lh.h"
#include "store/store.h"

typedef struct {
	char *token_dir;              /* directory of *.db tokens */
	char **tokens;                /* explicit token files */
	size_t ntokens;
	uint32_t max_pin_failures;    /* 1..1000, default 10 */
	lh_kdf_params kdf;            /* Argon2id cost for new PINs */
	CK_MECHANISM_TYPE *disabled;  /* disabled mechanisms */
	size_t ndisabled;
	char *log_file;               /* NULL: syslog for errors */
	int log_level;
	bool strict_policy;           /* strict key-usage policy (default) */
	char *source;                 /* the file read, or NULL for defaults */
} lh_conf;

/*
 * Find and read the configuration (LITEHSM_CONF, then
 * $XDG_CONFIG_HOME/litehsm/litehsm.conf, then the system file).  No file
 * at all gives the defaults.  On a bad file: CKR_GENERAL_ERROR and *why
 * holds one line naming the file, line and problem (caller frees).
 */
CK_RV lh_conf_load (lh_conf **out, char **why);

/* Parse one file; exposed for the unit tests and the fuzzer. */
CK_RV lh_conf_parse (lh_conf *conf, const char *path, char **why);
lh_conf *lh_conf_new_defaults (void);
void lh_conf_free (lh_conf *conf);

/* Mechanism name ("CKM_SHA256") to number; false if unknown. */
bool lh_mech_from_name (const char *name, CK_MECHANISM_TYPE *out);

#endif
