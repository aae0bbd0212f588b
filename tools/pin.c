/*
 * pin.c - PIN sources of the litehsm command: file, environment variable,
 * or a no-echo prompt on the terminal (see pin.h).
 *
 * The prompt follows OpenSSH's readpassphrase(3): it talks to /dev/tty,
 * never to stdin (which carries the data of commands such as "secret set"),
 * turns echo off with TCSAFLUSH so that typed-ahead characters are not
 * taken, and restores the terminal before it re-raises a signal that
 * arrived meanwhile, so Ctrl-C never leaves a terminal without echo.  A
 * stop signal (Ctrl-Z) restores the terminal, stops, and asks again once
 * the process continues.
 *
 * Every buffer that held PIN bytes is wiped with OPENSSL_cleanse before it
 * goes out of scope, including the second copy of a confirmed PIN and the
 * read buffer of a PIN file.
 */
#include "tools/pin.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

static const char *const role_opt[] = {
	[LH_PIN_USER] = "pin",
	[LH_PIN_SO] = "so-pin",
	[LH_PIN_NEW] = "new-pin",
};

void
lh_pin_clear (lh_pin *pin)
{
	if (pin)
		OPENSSL_cleanse (pin, sizeof *pin);
}

bool
lh_pin_given (const lh_tool *t, lh_pin_role role)
{
	return t->pin[role].file || t->pin[role].env;
}

/* ---- file and environment ----------------------------------------------- */

int
lh_pin_from_file (lh_tool *t, const char *path, const char *opt,
                  lh_pin *pin)
{
	ssize_t r;
	size_t n = 0;
	int fd, err;

	lh_pin_clear (pin);
	fd = open (path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		return lh_error (t, LH_EXIT_USAGE, "check the file name and its "
		                 "permissions", "cannot read the PIN file %s (%s): "
		                 "%s", path, opt, strerror (err));
	}
	/* One byte more than allowed tells an over-long file apart. */
	while (n < sizeof pin->v - 1) {
		r = read (fd, pin->v + n, sizeof pin->v - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = errno;
			close (fd);
			lh_pin_clear (pin);
			return lh_error (t, LH_EXIT_USAGE, "check the file",
			                 "cannot read the PIN file %s (%s): %s",
			                 path, opt, strerror (err));
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close (fd);
	if (n > 0 && pin->v[n - 1] == '\n') {
		n--;
		if (n > 0 && pin->v[n - 1] == '\r')
			n--;
	}
	if (n == 0 || n > LH_PIN_MAX) {
		lh_pin_clear (pin);
		return lh_error (t, LH_EXIT_USAGE, "write the PIN (1 to 256 bytes) "
		                 "into the file", "the PIN file %s (%s) is %s", path,
		                 opt, n == 0 ? "empty" : "longer than 256 bytes");
	}
	pin->len = n;
	pin->v[n] = '\0';
	return LH_EXIT_OK;
}

static int
from_env (lh_tool *t, const char *name, const char *opt, lh_pin *pin)
{
	const char *v = getenv (name);
	size_t n;

	lh_pin_clear (pin);
	if (!v || !*v)
		return lh_error (t, LH_EXIT_USAGE, "export the PIN in it or use "
		                 "another PIN source", "the environment variable %s "
		                 "(%s) is %s", name, opt, v ? "empty" : "not set");
	n = strlen (v);
	if (n > LH_PIN_MAX)
		return lh_error (t, LH_EXIT_USAGE, "use a PIN of 1 to 256 bytes",
		                 "the PIN in the environment variable %s (%s) is "
		                 "longer than 256 bytes", name, opt);
	memcpy (pin->v, v, n);
	pin->v[n] = '\0';
	pin->len = n;
	return LH_EXIT_OK;
}

/* ---- terminal prompt ----------------------------------------------------------- */

enum { TTY_OK, TTY_NONE, TTY_EOF, TTY_LONG, TTY_ERROR };

static volatile sig_atomic_t got_signal;

static void
on_signal (int sig)
{
	got_signal = sig;
}

static const int watched[] = {
	SIGINT, SIGHUP, SIGQUIT, SIGTERM, SIGTSTP, SIGTTIN, SIGTTOU,
};
#define NWATCHED (sizeof watched / sizeof watched[0])

/* Read one line from the terminal fd into pin, without echo. */
static int
tty_read_line (int fd, const char *prompt, lh_pin *pin)
{
	struct sigaction sa, old[NWATCHED];
	struct termios saved, quiet;
	bool restore = false, too_long = false;
	int rc = TTY_OK, sig;
	size_t i, n;
	ssize_t r;
	char ch;

again:
	lh_pin_clear (pin);
	n = 0;
	got_signal = 0;
	memset (&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;      /* no SA_RESTART: read() returns EINTR */
	sigemptyset (&sa.sa_mask);
	for (i = 0; i < NWATCHED; i++)
		sigaction (watched[i], &sa, &old[i]);
	if (tcgetattr (fd, &saved) == 0) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		restore = tcsetattr (fd, TCSAFLUSH, &quiet) == 0;
	}
	if (write (fd, prompt, strlen (prompt)) < 0)
		rc = TTY_ERROR;
	while (rc == TTY_OK && !got_signal) {
		r = read (fd, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = TTY_ERROR;
			break;
		}
		if (r == 0) {
			rc = TTY_EOF;
			break;
		}
		if (ch == '\n')
			break;
		if (n < LH_PIN_MAX)
			pin->v[n++] = ch;
		else
			too_long = true;
	}
	ch = 0;
	if (restore)
		(void)tcsetattr (fd, TCSAFLUSH, &saved);
	(void)!write (fd, "\n", 1);
	for (i = 0; i < NWATCHED; i++)
		sigaction (watched[i], &old[i], NULL);
	if (got_signal) {
		/* Terminal restored: now let the signal have its usual effect. */
		sig = got_signal;
		kill (getpid (), sig);
		if (sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
			goto again;     /* continued after a stop: ask again */
		rc = TTY_ERROR;         /* a caught signal the caller handles */
	}
	if (rc == TTY_OK && too_long)
		rc = TTY_LONG;
	if (rc != TTY_OK) {
		lh_pin_clear (pin);
		return rc;
	}
	pin->len = n;
	pin->v[n] = '\0';
	return TTY_OK;
}

static int
prompt_error (lh_tool *t, int rc, const char *what, lh_pin_role role)
{
	char hint[64];

	switch (rc) {
	case TTY_NONE:
		snprintf (hint, sizeof hint, "use --%s-file FILE or --%s-env NAME",
		          role_opt[role], role_opt[role]);
		return lh_error (t, LH_EXIT_USAGE, hint, "no %s given and no "
		                 "terminal to ask for it", what);
	case TTY_LONG:
		return lh_error (t, LH_EXIT_USAGE, "use a PIN of 1 to 256 bytes",
		                 "the %s entered is longer than 256 bytes", what);
	case TTY_EOF:
		return lh_error (t, LH_EXIT_USAGE, "type the PIN and press Enter",
		                 "no %s entered (end of input)", what);
	default:
		return lh_error (t, LH_EXIT_FAIL, "try again",
		                 "cannot read the %s from the terminal", what);
	}
}

static int
from_tty (lh_tool *t, lh_pin_role role, const char *what, bool confirm,
          lh_pin *pin)
{
	char prompt[256];
	lh_pin again;
	int fd, rc;

	fd = open ("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return prompt_error (t, TTY_NONE, what, role);
	snprintf (prompt, sizeof prompt, "Enter the %s: ", what);
	rc = tty_read_line (fd, prompt, pin);
	if (rc == TTY_OK && pin->len == 0) {
		close (fd);
		return lh_error (t, LH_EXIT_USAGE, "type the PIN and press Enter",
		                 "no %s entered (an empty line)", what);
	}
	if (rc == TTY_OK && confirm) {
		snprintf (prompt, sizeof prompt, "Repeat the %s: ", what);
		rc = tty_read_line (fd, prompt, &again);
		if (rc == TTY_OK && (again.len != pin->len ||
		                     CRYPTO_memcmp (again.v, pin->v, pin->len) != 0)) {
			lh_pin_clear (&again);
			lh_pin_clear (pin);
			close (fd);
			return lh_error (t, LH_EXIT_USAGE, "run the command again and "
			                 "type the same PIN twice", "the two entries of "
			                 "the %s differ", what);
		}
		lh_pin_clear (&again);
	}
	close (fd);
	if (rc != TTY_OK) {
		lh_pin_clear (pin);
		return prompt_error (t, rc, what, role);
	}
	return LH_EXIT_OK;
}

int
lh_pin_read (lh_tool *t, lh_pin_role role, const char *what, bool confirm,
             lh_pin *pin)
{
	char opt[32];

	lh_pin_clear (pin);
	if (t->pin[role].file) {
		snprintf (opt, sizeof opt, "--%s-file", role_opt[role]);
		return lh_pin_from_file (t, t->pin[role].file, opt, pin);
	}
	if (t->pin[role].env) {
		snprintf (opt, sizeof opt, "--%s-env", role_opt[role]);
		return from_env (t, t->pin[role].env, opt, pin);
	}
	return from_tty (t, role, what, confirm, pin);
}
