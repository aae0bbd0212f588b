/*
 * store-fixture.h - the fixture shared by the store's unit tests
 * (test-store.c, test-store-admin.c): a fresh temporary directory per
 * test with "token.db" in it, two store handles closed at teardown, and
 * the cheapest KDF (t=1, 64 KiB) with max_pin_failures 3 so the programs
 * run in seconds.  Define LH_FX_PREFIX before including to name the
 * directories.
 */
#ifndef LH_STORE_FIXTURE_H
#define LH_STORE_FIXTURE_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "test.h"

#ifndef LH_FX_PREFIX
#define LH_FX_PREFIX "lh-store"
#endif

#define SO_PIN          "so-pin-1234"
#define USER_PIN        "user-pin-5678"
#define PIN(s)          (const uint8_t *) (s), strlen (s)

typedef struct {
	char dir[256];
	char path[320];
	lh_store *st;
	lh_store *st2;
} fx_t;

static const lh_store_config cfg_fast = { { 1, 64, 1 }, 3, NULL, NULL };

static void *
setup (void *arg)
{
	static fx_t fx;
	const char *tmp = getenv ("TMPDIR");

	(void)arg;
	memset (&fx, 0, sizeof fx);
	snprintf (fx.dir, sizeof fx.dir, "%s/" LH_FX_PREFIX "-XXXXXX",
	          tmp ? tmp : "/tmp");
	if (mkdtemp (fx.dir) == NULL)
		lh_test_fail_ (__FILE__, __LINE__, "mkdtemp failed");
	snprintf (fx.path, sizeof fx.path, "%s/token.db", fx.dir);
	return &fx;
}

/* Close both handles and remove the directory (and one level below). */
static void
teardown (void *arg)
{
	fx_t *f = arg;
	struct dirent *e;
	char p[600];
	DIR *d;

	lh_store_close (f->st);
	lh_store_close (f->st2);
	f->st = f->st2 = NULL;
	d = opendir (f->dir);
	while (d != NULL && (e = readdir (d)) != NULL) {
		if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
			continue;
		snprintf (p, sizeof p, "%s/%s", f->dir, e->d_name);
		if (unlink (p) != 0)
			rmdir (p);
	}
	if (d != NULL)
		closedir (d);
	rmdir (f->dir);
}

#endif
