/*
 * tokenfile.c - from a litehsm slot to its token file (see tokenfile.h).
 *
 * The slot description is "litehsm " + the file's base name, blank-padded
 * to 64 bytes, so a name longer than 56 bytes arrives truncated; it is
 * then matched as a prefix and must be unique.  Whatever is found is
 * checked against the token's serial before any command touches it.
 */
#include "tools/tokenfile.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DESC_PREFIX "litehsm "
#define DESC_MAX 64             /* sizeof CK_SLOT_INFO.slotDescription */

void
lh_token_file_free (lh_token_file *tf)
{
	free (tf->path);
	lh_conf_free (tf->conf);
	memset (tf, 0, sizeof *tf);
}

static const char *
base_name (const char *path)
{
	const char *b = strrchr (path, '/');

	return b ? b + 1 : path;
}

/* Does base (a file name) match name, which may be a truncated prefix? */
static bool
name_matches (const char *base, const char *name, bool truncated)
{
	return truncated ? strncmp (base, name, strlen (name)) == 0 :
	                   strcmp (base, name) == 0;
}

/* Add candidate path (copied) unless it is there already; false on OOM. */
static bool
add_candidate (char **found, size_t *n, const char *path)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp (found[i], path) == 0)
			return true;
	if (*n >= 2)            /* two are enough to call it ambiguous */
		return true;
	return (found[(*n)++] = strdup (path)) != NULL;
}

/* Every configured path and token_dir entry whose name matches. */
static int
candidates (lh_tool *t, const lh_conf *conf, const char *name, bool truncated,
            char **found, size_t *n)
{
	struct dirent *e;
	char *path;
	size_t i;
	DIR *d;

	for (i = 0; i < conf->ntokens; i++)
		if (name_matches (base_name (conf->tokens[i]), name, truncated) &&
		    !add_candidate (found, n, conf->tokens[i]))
			goto oom;
	if (!truncated) {
		if (asprintf (&path, "%s/%s", conf->token_dir, name) < 0)
			goto oom;
		if (*n == 0 && !add_candidate (found, n, path)) {
			free (path);
			goto oom;
		}
		free (path);
		return LH_EXIT_OK;
	}
	if (!(d = opendir (conf->token_dir)))
		return LH_EXIT_OK;
	while ((e = readdir (d))) {
		if (!name_matches (e->d_name, name, true))
			continue;
		if (asprintf (&path, "%s/%s", conf->token_dir, e->d_name) < 0 ||
		    !add_candidate (found, n, path)) {
			closedir (d);
			goto oom;
		}
		free (path);
	}
	closedir (d);
	return LH_EXIT_OK;
oom:
	return lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
}

static int
load_conf (lh_tool *t, lh_token_file *tf)
{
	char *why = NULL;
	CK_RV rv;
	int rc;

	if ((rv = lh_conf_load (&tf->conf, &why)) != CKR_OK) {
		rc = lh_error (t, LH_EXIT_FAIL, "fix the configuration file",
		               "cannot read the litehsm configuration: %s",
		               why ? why : lh_rv_message (rv));
		free (why);
		return rc;
	}
	tf->cfg.kdf = tf->conf->kdf;
	tf->cfg.max_pin_failures = tf->conf->max_pin_failures;
	tf->cfg.mutex = NULL;           /* the tool uses one thread */
	tf->cfg.libctx = NULL;
	return LH_EXIT_OK;
}

int
lh_token_file_find (lh_tool *t, lh_p11 *p, const lh_p11_slot *s,
                    bool must_exist, lh_token_file *tf)
{
	char *found[2] = { NULL, NULL };
	const char *name;
	struct stat sb;
	size_t n = 0;
	bool truncated;
	int rc;

	memset (tf, 0, sizeof *tf);
	if (!lh_p11_is_litehsm (p) ||
	    strncmp (s->description, DESC_PREFIX, strlen (DESC_PREFIX)) != 0)
		return lh_error (t, LH_EXIT_FAIL, "use the litehsm module (drop "
		                 "--module), or the other module's own tools",
		                 "'%s' works only on litehsm token files, and %s "
		                 "is not litehsm", t->cmd, p->path);
	name = s->description + strlen (DESC_PREFIX);
	truncated = strlen (s->description) >= DESC_MAX;
	if ((rc = load_conf (t, tf)) != LH_EXIT_OK ||
	    (rc = candidates (t, tf->conf, name, truncated, found, &n)) !=
	    LH_EXIT_OK)
		goto out;
	if (n != 1) {
		rc = lh_error (t, n ? LH_EXIT_FAIL : LH_EXIT_NOTFOUND, "check "
		               "LITEHSM_CONF and token_dir: the tool must read the "
		               "module's configuration", "%s file for token \"%s\" "
		               "(%s) in %s", n ? "more than one" : "no", s->label,
		               name, tf->conf->token_dir);
		goto out;
	}
	if (must_exist && stat (found[0], &sb) != 0) {
		rc = lh_error (t, errno == ENOENT ? LH_EXIT_NOTFOUND : LH_EXIT_FAIL,
		               "check LITEHSM_CONF and token_dir", "cannot find the "
		               "file of token \"%s\" (%s): %s", s->label, found[0],
		               strerror (errno));
		goto out;
	}
	tf->path = found[0];
	found[0] = NULL;
	rc = LH_EXIT_OK;
out:
	free (found[0]);
	free (found[1]);
	if (rc != LH_EXIT_OK)
		lh_token_file_free (tf);
	return rc;
}

int
lh_token_file_open (lh_tool *t, const lh_token_file *tf, const char *serial,
                    lh_store **out)
{
	lh_store_info info;
	lh_store *st = NULL;
	CK_RV rv;

	*out = NULL;
	if ((rv = lh_store_open (tf->path, &tf->cfg, false, &st)) != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot open the token file %s",
		                    tf->path);
	if ((rv = lh_store_info_get (st, &info)) != CKR_OK) {
		lh_store_close (st);
		return lh_error_rv (t, rv, NULL, "cannot read the token file %s",
		                    tf->path);
	}
	if (serial && strcmp (info.serial, serial) != 0) {
		lh_store_close (st);
		return lh_error (t, LH_EXIT_FAIL, "check LITEHSM_CONF and token_dir",
		                 "the file %s holds another token (serial %s, not "
		                 "%s)", tf->path, info.serial, serial);
	}
	*out = st;
	return LH_EXIT_OK;
}

int
lh_token_file_remove (lh_tool *t, const char *path)
{
	static const char *const side[] = { "-wal", "-shm", "-journal" };
	char buf[4096];
	size_t i;

	/* Companions first: a stale -wal must never meet a new main file. */
	for (i = 0; i < sizeof side / sizeof side[0]; i++) {
		snprintf (buf, sizeof buf, "%s%s", path, side[i]);
		if (unlink (buf) != 0 && errno != ENOENT)
			return lh_error (t, LH_EXIT_FAIL, "check the permissions of "
			                 "the token directory", "cannot delete %s: %s",
			                 buf, strerror (errno));
	}
	if (unlink (path) != 0)
		return lh_error (t, LH_EXIT_FAIL, "check the permissions of the "
		                 "token directory", "cannot delete %s: %s", path,
		                 strerror (errno));
	return LH_EXIT_OK;
}
