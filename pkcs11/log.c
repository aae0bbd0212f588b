/*
 * log.c - error and trace lines for administrators.
 *
 * A module lives inside other people's processes, so it never prints.
 * Each line is appended to the log file with one write(2) (O_APPEND keeps
 * lines from several processes whole), or sent to syslog.
 */
#include "pkcs11/lh.h"
#include "pkcs11/log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static char log_path[4096];   /* "" = none configured */
static int log_level = LH_LOG_ERROR;

void
lh_log_setup (const char *path, int level)
{
	snprintf (log_path, sizeof log_path, "%s", path ? path : "");
	log_level = level;
}

void
lh_log (int level, const char *fmt, ...)
{
	char line[1024];
	size_t off;
	va_list ap;
	time_t now;
	struct tm tm;
	int fd;

	if (level > log_level)
		return;
	now = time (NULL);
	gmtime_r (&now, &tm);
	off = strftime (line, sizeof line, "%Y-%m-%dT%H:%M:%SZ ", &tm);
	off += (size_t)snprintf (line + off, sizeof line - off, "litehsm[%ld]: ",
	                         (long)getpid ());
	va_start (ap, fmt);
	if (off < sizeof line)
		vsnprintf (line + off, sizeof line - off, fmt, ap);
	va_end (ap);

	if (log_path[0] == '\0' || strcmp (log_path, "syslog") == 0) {
		if (level == LH_LOG_ERROR || log_path[0] != '\0')
			syslog (level == LH_LOG_ERROR ? LOG_ERR : LOG_DEBUG, "%s", line);
		return;
	}
	off = strlen (line);
	if (off + 1 < sizeof line)
		line[off++] = '\n';
	fd = open (log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (write (fd, line, off) < 0) {
		/* nowhere left to report it */
	}
	close (fd);
}
