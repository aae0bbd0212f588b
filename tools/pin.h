/*
 * pin.h - where the litehsm command gets PINs from.
 *
 * Each PIN a command needs has a role (lh_pin_role in common.h): the user
 * PIN, the SO PIN, or a new PIN being set.  Its source is, in order:
 *
 *   --<role>pin-file FILE   the file's bytes; one trailing newline (or
 *                           CR LF) is dropped; empty or longer than
 *                           LH_PIN_MAX is refused
 *   --<role>pin-env NAME    the value of the environment variable NAME
 *   (neither)               a no-echo prompt on the terminal (/dev/tty),
 *                           twice for a PIN being set; without a terminal
 *                           the command fails with exit code 2
 *
 * never from argv.  A PIN lives in an lh_pin on the caller's stack and is
 * wiped with lh_pin_clear (OPENSSL_cleanse) as soon as the call that needs
 * it has returned; the tool never prints one.
 */
#ifndef LH_TOOL_PIN_H
#define LH_TOOL_PIN_H

#include "tools/common.h"

#define LH_PIN_MAX 256

/* A PIN; clear with lh_pin_clear() right after use. */
typedef struct {
	char v[LH_PIN_MAX + 2];     /* + room to notice an over-long PIN */
	size_t len;
} lh_pin;

/* Wipe a PIN (OPENSSL_cleanse); NULL-safe. */
void lh_pin_clear (lh_pin *pin);

/* Has the user given a file or environment source for role? */
bool lh_pin_given (const lh_tool *t, lh_pin_role role);

/*
 * Read the PIN for role from its source.  what names it for prompts and
 * messages ("SO PIN of token \"t\"").  With confirm, a prompt asks twice
 * (for a PIN being set) and the two must match.  Returns LH_EXIT_OK with
 * *pin filled, or an exit code after lh_error (*pin is then wiped):
 *   LH_EXIT_USAGE  no source and no terminal; unreadable, empty or
 *                  over-long file; unset variable; prompts that differ
 */
int lh_pin_read (lh_tool *t, lh_pin_role role, const char *what,
                 bool confirm, lh_pin *pin);

/*
 * Read a PIN from the file path (the same rules as --pin-file); used for a
 * URI's pin-source too.  opt names the option in messages.
 */
int lh_pin_from_file (lh_tool *t, const char *path, const char *opt,
                      lh_pin *pin);

#endif /* LH_TOOL_PIN_H */
