/*
 * test.h - a tiny TAP test framework for litehsm's C tests.
 *
 * A test program registers test functions with lh_test_add() and calls
 * lh_test_run(), which runs each one and prints one TAP line per test:
 * "ok N - /group/name" or "not ok N - /group/name".  A test fails when any
 * assertion fails; the failing assertion is printed as a TAP comment with
 * file and line, and the rest of that test is skipped (longjmp).
 *
 *   static void test_login (void *fx) { assert_rv (CKR_OK, f->C_Login (...)); }
 *   int main (void) { lh_test_add ("/session/login", test_login, NULL);
 *                     return lh_test_run (); }
 *
 * Optional per-program fixtures: lh_test_fixture (setup, teardown) runs
 * setup before and teardown after every test; setup returns the pointer
 * handed to the test.
 */
#ifndef LH_TEST_H
#define LH_TEST_H

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*lh_test_fn) (void *fixture);

struct lh_test_case {
	const char *name;
	lh_test_fn fn;
	void *arg;
};

static struct {
	struct lh_test_case cases[1024];
	int n;
	jmp_buf jump;
	int failed_current;
	void *(*setup) (void *arg);
	void (*teardown) (void *fixture);
} lh_test_g;

static inline void
lh_test_add (const char *name, lh_test_fn fn, void *arg)
{
	if (lh_test_g.n < 1024)
		lh_test_g.cases[lh_test_g.n++] = (struct lh_test_case){ name, fn, arg };
}

static inline void
lh_test_fixture (void *(*setup) (void *), void (*teardown) (void *))
{
	lh_test_g.setup = setup;
	lh_test_g.teardown = teardown;
}

static inline void
lh_test_fail_ (const char *file, int line, const char *msg)
{
	printf ("# %s:%d: %s\n", file, line, msg);
	fflush (stdout);
	lh_test_g.failed_current = 1;
	longjmp (lh_test_g.jump, 1);
}

/* Run every registered test whose name contains LH_TEST_ONLY (if set). */
static inline int
lh_test_run (void)
{
	const char *only = getenv ("LH_TEST_ONLY");
	volatile int i, failures = 0, num = 0;

	setvbuf (stdout, NULL, _IONBF, 0);
	for (i = 0; i < lh_test_g.n; i++)
		if (!only || strstr (lh_test_g.cases[i].name, only))
			num++;
	printf ("1..%d\n", num);
	num = 0;
	for (i = 0; i < lh_test_g.n; i++) {
		struct lh_test_case *c = &lh_test_g.cases[i];
		void *volatile fx = c->arg;

		if (only && !strstr (c->name, only))
			continue;
		lh_test_g.failed_current = 0;
		if (setjmp (lh_test_g.jump) == 0) {
			if (lh_test_g.setup)
				fx = lh_test_g.setup (c->arg);
			c->fn (fx);
		}
		if (lh_test_g.teardown && setjmp (lh_test_g.jump) == 0)
			lh_test_g.teardown (fx);
		num++;
		printf ("%sok %d - %s\n", lh_test_g.failed_current ? "not " : "",
		        num, c->name);
		failures += lh_test_g.failed_current;
	}
	return failures ? 1 : 0;
}

#define assert_true(expr) do { if (!(expr)) \
	lh_test_fail_ (__FILE__, __LINE__, "assertion failed: " #expr); } while (0)
#define assert_false(expr) assert_true (!(expr))

#define assert_num_eq(expected, actual) do { \
	unsigned long long e_ = (unsigned long long)(expected), a_ = (unsigned long long)(actual); \
	if (e_ != a_) { char m_[1024]; \
		snprintf (m_, sizeof m_, "%s == %s: expected %llu (0x%llx), got %llu (0x%llx)", \
		          #expected, #actual, e_, e_, a_, a_); \
		lh_test_fail_ (__FILE__, __LINE__, m_); } } while (0)

/* CK_RV comparison, printed in hex as the spec lists them. */
#define assert_rv(expected, actual) do { \
	unsigned long e_ = (unsigned long)(expected), a_ = (unsigned long)(actual); \
	if (e_ != a_) { char m_[1024]; \
		snprintf (m_, sizeof m_, "%s: expected rv 0x%lx, got 0x%lx", #actual, e_, a_); \
		lh_test_fail_ (__FILE__, __LINE__, m_); } } while (0)

#define assert_str_eq(expected, actual) do { \
	const char *e_ = (expected), *a_ = (actual); \
	if (!e_ || !a_ || strcmp (e_, a_) != 0) { char m_[1024]; \
		snprintf (m_, sizeof m_, "expected \"%s\", got \"%s\"", e_ ? e_ : "(null)", \
		          a_ ? a_ : "(null)"); \
		lh_test_fail_ (__FILE__, __LINE__, m_); } } while (0)

#define assert_mem_eq(expected, elen, actual, alen) do { \
	size_t el_ = (size_t)(elen), al_ = (size_t)(alen); \
	if (el_ != al_ || memcmp ((expected), (actual), el_) != 0) { char m_[1024]; \
		snprintf (m_, sizeof m_, "memory differs: %s (len %zu) vs %s (len %zu)", \
		          #expected, el_, #actual, al_); \
		lh_test_fail_ (__FILE__, __LINE__, m_); } } while (0)

#endif /* LH_TEST_H */
