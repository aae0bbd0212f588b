/*
 * log.h - the module's log.  The module never writes to stdout/stderr of
 * the host program: lines go to the configured log file, or to syslog.
 * Lines show attribute types and lengths, never values of secrets.
 */
#ifndef LH_LOG_H
#define LH_LOG_H

enum { LH_LOG_ERROR = 0, LH_LOG_INFO = 1, LH_LOG_DEBUG = 2 };

/* Set the destination: path (or "syslog"), level.  NULL path: syslog for
 * errors only.  Called from C_Initialize; not thread-safe against lh_log. */
void lh_log_setup (const char *path, int level);
void lh_log (int level, const char *fmt, ...)
	__attribute__ ((format (printf, 2, 3)));

#define lh_log_error(...) lh_log (LH_LOG_ERROR, __VA_ARGS__)
#define lh_log_debug(...) lh_log (LH_LOG_DEBUG, __VA_ARGS__)

#endif
