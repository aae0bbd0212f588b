/*
 * pki_out.c - the files "litehsm ca" and "litehsm key" write (pki.h):
 * certificates in PEM, private keys in the formats of seed 004 (PEM,
 * PKCS#8 DER and PEM, PKCS#12), and writing a set of them atomically.
 *
 * Writing is all or nothing.  Every check that can be made beforehand
 * (the directory exists and is writable, no file would be overwritten
 * without --force) is made before anything is created; then each file
 * is written to a temporary file in the same directory, created with
 * its final mode (0600 for keys) so a key is never readable by others,
 * not even for a moment; only when every temporary file is complete are
 * they moved to their names: link(2) for a new file, so a file that
 * appeared in the meantime is never replaced, rename(2) with --force.
 * A failure removes the temporary files and the files already moved.
 *
 * Private key bytes live only in OPENSSL_secure memory BIOs and in
 * buffers wiped before they are freed.
 */
#include "tools/pki.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

void
lh_pki_free_buf (unsigned char *buf, size_t len)
{
	if (buf)
		OPENSSL_clear_free (buf, len);
}

/* ---- encodings ----------------------------------------------------------- */

/* Take what b holds into a fresh buffer (wiped when freed). */
static int
take_bio (lh_tool *t, BIO *b, int ok, const char *what, unsigned char **out,
          size_t *len)
{
	char *data;
	long n;

	*out = NULL;
	*len = 0;
	if (!ok || (n = BIO_get_mem_data (b, &data)) <= 0) {
		ERR_clear_error ();
		return lh_error (t, LH_EXIT_FAIL, "check the OpenSSL installation",
		                 "cannot encode the %s", what);
	}
	if (!(*out = OPENSSL_malloc ((size_t)n)))
		return lh_error (t, LH_EXIT_FAIL, "free some memory",
		                 "out of memory");
	memcpy (*out, data, (size_t)n);
	*len = (size_t)n;
	return LH_EXIT_OK;
}

/* A memory BIO that wipes what it held (secure heap when there is one). */
static BIO *
secret_bio (void)
{
	return BIO_new (BIO_s_secmem ());
}

int
lh_pki_cert_pem (lh_tool *t, X509 *x, unsigned char **out, size_t *len)
{
	BIO *b = BIO_new (BIO_s_mem ());
	int rc;

	rc = take_bio (t, b, b && PEM_write_bio_X509 (b, x), "certificate", out,
	               len);
	BIO_free (b);
	return rc;
}

int
lh_pki_key_out (lh_tool *t, EVP_PKEY *key, const char *format,
                unsigned char **out, size_t *len)
{
	BIO *b = secret_bio ();
	int id = EVP_PKEY_get_base_id (key), ok = 0, rc;

	if (!b)
		return lh_error (t, LH_EXIT_FAIL, "free some memory",
		                 "out of memory");
	if (strcmp (format, "pem") == 0) {
		/* what "openssl genrsa/ecparam -genkey" write, which older
		 * servers expect; other kinds have only PKCS#8 */
		if (id == EVP_PKEY_RSA || id == EVP_PKEY_EC)
			ok = PEM_write_bio_PrivateKey_traditional (b, key, NULL, NULL,
			                                           0, NULL, NULL);
		else
			ok = PEM_write_bio_PrivateKey (b, key, NULL, NULL, 0, NULL,
			                               NULL);
	} else if (strcmp (format, "pk8") == 0) {
		ok = i2d_PKCS8PrivateKey_bio (b, key, NULL, NULL, 0, NULL, NULL);
	} else if (strcmp (format, "pk8-pem") == 0) {
		ok = PEM_write_bio_PKCS8PrivateKey (b, key, NULL, NULL, 0, NULL,
		                                    NULL);
	} else {
		BIO_free (b);
		return lh_error (t, LH_EXIT_USAGE, "use pem, pk8 or pk8-pem",
		                 "unknown key format \"%s\"", format);
	}
	rc = take_bio (t, b, ok, "private key", out, len);
	BIO_free (b);
	return rc;
}

int
lh_pki_pfx (lh_tool *t, EVP_PKEY *key, X509 *x, STACK_OF (X509) *chain,
            const char *pass, unsigned char **out, size_t *len)
{
	PKCS12 *p12;
	BIO *b = secret_bio ();
	int rc;

	/* OpenSSL 3's defaults: AES-256-CBC with PBKDF2, HMAC-SHA-256 */
	p12 = PKCS12_create_ex ((char *)pass, NULL, key, x, chain, 0, 0, 0, 0, 0,
	                        NULL, NULL);
	rc = take_bio (t, b, b && p12 && i2d_PKCS12_bio (b, p12), "PKCS#12 file",
	               out, len);
	PKCS12_free (p12);
	BIO_free (b);
	return rc;
}

/* ---- files --------------------------------------------------------------- */

static void
file_free (lh_pki_file *f)
{
	free (f->name);
	lh_pki_free_buf (f->data, f->len);
	memset (f, 0, sizeof *f);
}

void
lh_pki_files_free (lh_pki_files *fs)
{
	size_t i;

	for (i = 0; i < fs->n; i++)
		file_free (&fs->v[i]);
	free (fs->v);
	fs->v = NULL;
	fs->n = 0;
}

int
lh_pki_files_add (lh_tool *t, lh_pki_files *fs, const char *name,
                  const void *data, size_t len, mode_t mode)
{
	lh_pki_file *v, *f;

	if (!*name || strchr (name, '/') || strcmp (name, ".") == 0 ||
	    strcmp (name, "..") == 0)
		return lh_error (t, LH_EXIT_USAGE, "give a plain file name",
		                 "\"%s\" is not a file name", name);
	if (!(v = realloc (fs->v, (fs->n + 1) * sizeof *v)))
		return lh_error (t, LH_EXIT_FAIL, "free some memory",
		                 "out of memory");
	fs->v = v;
	f = &v[fs->n];
	memset (f, 0, sizeof *f);
	if (!(f->name = strdup (name)) ||
	    !(f->data = OPENSSL_malloc (len ? len : 1))) {
		free (f->name);
		return lh_error (t, LH_EXIT_FAIL, "free some memory",
		                 "out of memory");
	}
	memcpy (f->data, data, len);
	f->len = len;
	f->mode = mode;
	fs->n++;
	return LH_EXIT_OK;
}

/* dir/name, malloc'd. */
static char *
join (const char *dir, const char *name)
{
	char *p;

	if (asprintf (&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

int
lh_pki_files_check (lh_tool *t, const char *dir, bool force,
                    const char *const *names, size_t n)
{
	struct stat st;
	char *path;
	size_t i, j;

	if (stat (dir, &st) != 0)
		return lh_error (t, LH_EXIT_USAGE, "create it, or choose another "
		                 "with --path", "the output directory %s does not "
		                 "exist", dir);
	if (!S_ISDIR (st.st_mode))
		return lh_error (t, LH_EXIT_USAGE, "choose a directory with --path",
		                 "the output directory %s is not a directory", dir);
	if (access (dir, W_OK | X_OK) != 0)
		return lh_error (t, LH_EXIT_USAGE, "choose another with --path, or "
		                 "fix its permissions", "the output directory %s is "
		                 "not writable", dir);
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			if (strcmp (names[i], names[j]) == 0)
				return lh_error (t, LH_EXIT_USAGE, "give each output its "
				                 "own name", "%s would be written twice",
				                 names[i]);
		if (!(path = join (dir, names[i])))
			return lh_error (t, LH_EXIT_FAIL, "free some memory",
			                 "out of memory");
		if (lstat (path, &st) == 0 && (!force || S_ISDIR (st.st_mode))) {
			lh_error (t, LH_EXIT_FAIL, S_ISDIR (st.st_mode) ?
			          "remove it or choose another --path" :
			          "use --force to replace it, or choose another --path",
			          "%s already exists", path);
			free (path);
			return LH_EXIT_FAIL;
		}
		free (path);
	}
	return LH_EXIT_OK;
}

/* The checks made before anything is written. */
static int
check_all (lh_tool *t, const lh_pki_files *fs)
{
	const char **names = calloc (fs->n + 1, sizeof *names);
	size_t i;
	int rc;

	if (!names)
		return lh_error (t, LH_EXIT_FAIL, "free some memory",
		                 "out of memory");
	for (i = 0; i < fs->n; i++)
		names[i] = fs->v[i].name;
	rc = lh_pki_files_check (t, fs->dir, fs->force, names, fs->n);
	free (names);
	return rc;
}

/* Write f into a new temporary file in dir; *tmp its path. */
static int
write_temp (lh_tool *t, const char *dir, const lh_pki_file *f, char **tmp)
{
	size_t off = 0;
	ssize_t w;
	mode_t um;
	int fd;

	if (asprintf (tmp, "%s/.%s.XXXXXX", dir, f->name) < 0) {
		*tmp = NULL;
		return lh_error (t, LH_EXIT_FAIL, "free some memory",
		                 "out of memory");
	}
	/* mkstemp creates it 0600: a key is never readable by others */
	if ((fd = mkstemp (*tmp)) < 0) {
		lh_error (t, LH_EXIT_FAIL, "check the directory's permissions and "
		          "free space", "cannot create a file in %s: %s", dir,
		          strerror (errno));
		free (*tmp);
		*tmp = NULL;
		return LH_EXIT_FAIL;
	}
	um = umask (0);
	umask (um);
	while (off < f->len) {
		if ((w = write (fd, f->data + off, f->len - off)) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		off += (size_t)w;
	}
	if (off != f->len || fchmod (fd, f->mode & ~um) != 0 ||
	    fsync (fd) != 0 || close (fd) != 0) {
		if (off != f->len)
			close (fd);
		lh_error (t, LH_EXIT_FAIL, "check the free space there", "cannot "
		          "write %s/%s: %s", dir, f->name, strerror (errno));
		unlink (*tmp);
		free (*tmp);
		*tmp = NULL;
		return LH_EXIT_FAIL;
	}
	return LH_EXIT_OK;
}

/* Move tmp to dir/name: never over an existing file unless force. */
static int
place (lh_tool *t, const lh_pki_files *fs, const char *tmp, const char *path)
{
	struct stat st;
	int r;

	if (fs->force) {
		r = rename (tmp, path);
	} else if ((r = link (tmp, path)) == 0) {
		unlink (tmp);
	} else if (errno != EEXIST && lstat (path, &st) != 0 &&
	           errno == ENOENT) {
		/* a file system without hard links (vfat, some FUSE ones):
		 * rename, having just seen that nothing is in the way */
		r = rename (tmp, path);
	}
	if (r == 0)
		return LH_EXIT_OK;
	return lh_error (t, LH_EXIT_FAIL, errno == EEXIST ? "use --force to "
	                 "replace it" : "check the directory's permissions",
	                 "cannot write %s: %s", path, strerror (errno));
}

int
lh_pki_files_write (lh_tool *t, lh_pki_files *fs)
{
	char **tmp = NULL, **path = NULL;
	size_t i, placed = 0;
	int rc;

	if ((rc = check_all (t, fs)) != LH_EXIT_OK)
		return rc;
	if (!(tmp = calloc (fs->n + 1, sizeof *tmp)) ||
	    !(path = calloc (fs->n + 1, sizeof *path))) {
		rc = lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
		goto out;
	}
	for (i = 0; i < fs->n; i++) {
		if (!(path[i] = join (fs->dir, fs->v[i].name))) {
			rc = lh_error (t, LH_EXIT_FAIL, "free some memory",
			               "out of memory");
			goto out;
		}
		if ((rc = write_temp (t, fs->dir, &fs->v[i], &tmp[i])) != LH_EXIT_OK)
			goto out;
	}
	for (placed = 0; placed < fs->n; placed++) {
		if ((rc = place (t, fs, tmp[placed], path[placed])) != LH_EXIT_OK)
			goto out;
		free (tmp[placed]);
		tmp[placed] = NULL;
	}
	rc = LH_EXIT_OK;
out:
	for (i = 0; tmp && i < fs->n; i++) {
		if (tmp[i])
			unlink (tmp[i]);
		/* undo: the files already in place (a replaced one is lost,
		 * which --force asked for) */
		if (rc != LH_EXIT_OK && i < placed && path[i])
			unlink (path[i]);
		free (tmp[i]);
	}
	for (i = 0; path && i < fs->n; i++)
		free (path[i]);
	free (tmp);
	free (path);
	return rc;
}
