/*
 * slot.c - the slot table: discovery of token files and stable slot ids.
 *
 * Nothing here reads tokens at start-up: a scan lists file names only,
 * and a token's store is opened the first time a call needs it.
 */
#include "pkcs11/lh.h"
#include "pkcs11/slot.h"
#include "pkcs11/log.h"
#include "pkcs11/lock.h"

#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* FNV-1a of the path, 31 bits, never 0: small enough for every client. */
static CK_SLOT_ID
path_hash (const char *path)
{
	uint32_t h = 2166136261u;

	for (; *path; path++) {
		h ^= (unsigned char)*path;
		h *= 16777619u;
	}
	h &= 0x7fffffffu;
	return h ? h : 1;
}

static lh_slot *
find_path_locked (const char *path)
{
	unsigned i;

	for (i = 0; i < lh_g.nslots; i++)
		if (strcmp (lh_g.slots[i]->path, path) == 0)
			return lh_g.slots[i];
	return NULL;
}

static lh_slot *
find_id_locked (CK_SLOT_ID id)
{
	unsigned i;

	for (i = 0; i < lh_g.nslots; i++)
		if (lh_g.slots[i]->id == id)
			return lh_g.slots[i];
	return NULL;
}

/* Handles carry the slot index in 16 bits; see object.c. */
#define LH_MAX_SLOTS 0x7ffe

static CK_RV
add_slot_locked (const char *path, bool configured)
{
	lh_slot *s, **grown;
	CK_SLOT_ID id;

	if ((s = find_path_locked (path))) {
		s->configured = s->configured || configured;
		return CKR_OK;
	}
	if (lh_g.nslots >= LH_MAX_SLOTS)
		return CKR_OK;
	grown = realloc (lh_g.slots, (lh_g.nslots + 1) * sizeof *grown);
	if (!grown)
		return CKR_HOST_MEMORY;
	lh_g.slots = grown;
	s = calloc (1, sizeof *s);
	if (!s || !(s->path = strdup (path))) {
		free (s);
		return CKR_HOST_MEMORY;
	}
	/* Collisions of 31-bit hashes are rare; probe so ids stay unique. */
	for (id = path_hash (path); find_id_locked (id); id = (id + 1) & 0x7fffffff)
		;
	s->id = id ? id : 1;
	s->index = lh_g.nslots;
	s->user = LH_NOBODY;
	s->configured = configured;
	lh_g.slots[lh_g.nslots++] = s;
	return CKR_OK;
}

bool
lh_slot_has_file (const lh_slot *slot)
{
	return access (slot->path, F_OK) == 0;
}

bool
lh_slot_being_created (const lh_slot *slot)
{
	static const char magic[16] = "SQLite format 3";
	unsigned char hdr[72];
	ssize_t n;
	int fd;

	fd = open (slot->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read (fd, hdr, sizeof hdr);
	close (fd);
	if (n == 0)
		return true;
	/* SQLite header: magic at 0, application id (big-endian) at 68 */
	return n == (ssize_t)sizeof hdr && memcmp (hdr, magic, 16) == 0 &&
	       !hdr[68] && !hdr[69] && !hdr[70] && !hdr[71];
}

static int
cmp_str (const void *a, const void *b)
{
	return strcmp (*(char *const *)a, *(char *const *)b);
}

static bool
is_token_name (const char *name)
{
	size_t n = strlen (name);

	return n > 3 && name[0] != '.' && strcmp (name + n - 3, ".db") == 0;
}

/* Every *.db in the token directory, sorted so slot order is stable. */
static CK_RV
scan_dir_locked (const char *dir)
{
	DIR *d = opendir (dir);
	struct dirent *e;
	char **names = NULL, **grown, *path;
	size_t n = 0, i;
	CK_RV rv = CKR_OK;

	if (!d)
		return CKR_OK;      /* no directory yet: no tokens, free slot only */
	while ((e = readdir (d)) != NULL) {
		if (!is_token_name (e->d_name))
			continue;
		grown = realloc (names, (n + 1) * sizeof *grown);
		if (!grown || !(grown[n] = strdup (e->d_name))) {
			names = grown ? grown : names;
			rv = CKR_HOST_MEMORY;
			break;
		}
		names = grown;
		n++;
	}
	closedir (d);
	if (n > 1)
		qsort (names, n, sizeof *names, cmp_str);
	for (i = 0; i < n; i++) {
		if (rv == CKR_OK) {
			if (asprintf (&path, "%s/%s", dir, names[i]) < 0)
				rv = CKR_HOST_MEMORY;
			else {
				rv = add_slot_locked (path, false);
				free (path);
			}
		}
		free (names[i]);
	}
	free (names);
	return rv;
}

/* The free slot's file: token_dir/token-N.db for the smallest unused N. */
static CK_RV
add_free_slot_locked (const char *dir)
{
	char path[4096];
	unsigned n;

	for (n = 1; n < 100000; n++) {
		snprintf (path, sizeof path, "%s/token-%u.db", dir, n);
		if (access (path, F_OK) != 0) {
			CK_RV rv = add_slot_locked (path, false);

			if (rv == CKR_OK)
				lh_g.free_slot = find_path_locked (path);
			return rv;
		}
	}
	return CKR_OK;
}

CK_RV
lh_slots_refresh_locked (void)
{
	lh_conf *c = lh_g.conf;
	size_t i;
	CK_RV rv;

	for (i = 0; i < c->ntokens; i++)
		if ((rv = add_slot_locked (c->tokens[i], true)) != CKR_OK)
			return rv;
	if ((rv = scan_dir_locked (c->token_dir)) != CKR_OK)
		return rv;
	return add_free_slot_locked (c->token_dir);
}

CK_RV
lh_slot_get_locked (CK_SLOT_ID id, lh_slot **out)
{
	lh_slot *s = find_id_locked (id);
	CK_RV rv;

	if (!s) {
		if ((rv = lh_slots_refresh_locked ()) != CKR_OK)
			return rv;
		s = find_id_locked (id);
	}
	if (!s)
		return CKR_SLOT_ID_INVALID;
	*out = s;
	return CKR_OK;
}

CK_RV
lh_slot_get (CK_SLOT_ID id, lh_slot **out)
{
	CK_RV rv;

	lh_state_lock ();
	rv = lh_slot_get_locked (id, out);
	lh_state_unlock ();
	return rv;
}

static CK_RV
make_dir_for (const char *path)
{
	char buf[4096], *p;

	snprintf (buf, sizeof buf, "%s", path);
	p = strrchr (buf, '/');
	if (!p || p == buf)
		return CKR_OK;
	*p = '\0';
	/* mkdir -p, each level 0700: token directories are private */
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir (buf, 0700) != 0 && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir (buf, 0700) != 0 && errno != EEXIST)
		goto fail;
	return CKR_OK;
fail:
	lh_log_error ("cannot create token directory %s: %s", buf, strerror (errno));
	return CKR_DEVICE_ERROR;
}

CK_RV
lh_slot_store (lh_slot *slot, bool create, lh_store **out)
{
	lh_store_config cfg;
	lh_store *st;
	CK_RV rv;

	lh_state_lock ();
	st = slot->store;
	lh_state_unlock ();
	if (st) {
		*out = st;
		return CKR_OK;
	}
	if (create && (rv = make_dir_for (slot->path)) != CKR_OK)
		return rv;
	cfg.kdf = lh_g.conf->kdf;
	cfg.max_pin_failures = lh_g.conf->max_pin_failures;
	cfg.mutex = lh_lock_ops ();
	cfg.libctx = lh_g.libctx;
	rv = lh_store_open (slot->path, &cfg, create, &st);
	if (rv != CKR_OK) {
		if (rv != CKR_TOKEN_NOT_PRESENT &&
		    !(rv == CKR_TOKEN_NOT_RECOGNIZED && lh_slot_being_created (slot)))
			lh_log_error ("cannot open token %s (rv 0x%lx)", slot->path, rv);
		return rv;
	}
	lh_state_lock ();
	if (slot->store) {          /* another thread won the race */
		lh_state_unlock ();
		lh_store_close (st);
		st = slot->store;
	} else {
		slot->store = st;
		lh_state_unlock ();
	}
	*out = st;
	return CKR_OK;
}

void
lh_slots_free (void)
{
	unsigned i;

	for (i = 0; i < lh_g.nslots; i++) {
		lh_store_close (lh_g.slots[i]->store);
		free (lh_g.slots[i]->path);
		free (lh_g.slots[i]);
	}
	free (lh_g.slots);
	lh_g.slots = NULL;
	lh_g.free_slot = NULL;
	lh_g.nslots = 0;
}
