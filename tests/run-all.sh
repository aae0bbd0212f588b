#!/bin/bash
# run-all.sh - the one test command: build litehsm twice and run every test.
#
#   bash tests/run-all.sh            (from the top of the tree, or anywhere)
#
# 1. ./autogen.sh if there is no ./configure yet;
# 2. build/       configure --enable-strict, make, make check;
# 3. build-asan/  configure --enable-strict --enable-asan (AddressSanitizer +
#                 UBSan), make, make check - the same tests again;
# 4. reads the TAP results out of every test log of both builds
#    (build*/tests/**/*.log, not test-suite.log), prints a summary per test
#    program with its failures, and ends with exactly one line
#    "N passed, N failed".
#
# A failing step does not stop the run; it counts as one failure (a build
# that does not compile fails the run even if no test could say so).  So
# does a test program that errs (crash, wrong plan, bail out) without a
# "not ok" line of its own.  Skipped tests are reported on their own line
# and counted in neither number.  Exit status: 0 when nothing failed.
#
# Sanitizer settings for the ASan build: leak detection stays on for our
# own test programs, which dlopen the module themselves; the interop
# scripts turn it off only for third-party clients (pkcs11-tool, p11tool,
# p11-kit), whose own leaks at exit are not ours (see tests/interop/lib.sh).
# Override with ASAN_OPTIONS / UBSAN_OPTIONS.
#
# Environment: JOBS (parallel make jobs, default: number of CPUs),
# CONFIGURE_FLAGS (added to both configure runs).

top=$(cd "$(dirname "$0")/.." && pwd) || exit 2
cd "$top" || exit 2
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}

step_failures=0
step_notes=()

# step NAME CMD...: run a build step; a failure is noted and counted.
step () {
	local name=$1 t0=$SECONDS
	shift
	echo "=== $name: $*"
	if "$@"; then
		echo "=== $name: done in $((SECONDS - t0)) s"
		return 0
	fi
	echo "=== $name: FAILED after $((SECONDS - t0)) s"
	step_failures=$((step_failures + 1))
	step_notes+=("$name failed")
	return 1
}

if [ ! -x ./configure ]; then
	step "autogen" ./autogen.sh
fi

# build DIR CONFIGURE-ARGS...: configure, make, make check in DIR.
# Returns after the first failing build step; test failures are read from
# the logs later.
build () {
	local dir=$1 st t0
	shift
	mkdir -p "$dir" || return
	rm -f "$dir"/tests/*/*.log "$dir"/tests/*/*.trs "$dir"/tests/*.log
	step "$dir: configure" sh -c 'cd "$1" && shift && ../configure "$@"' \
		sh "$dir" "$@" $CONFIGURE_FLAGS || return
	step "$dir: make" make -C "$dir" -j"$jobs" || return
	# Build the test programs first, so that a compile error is told
	# apart from a failing test.
	step "$dir: make check programs" make -C "$dir" -j"$jobs" check TESTS= || return
	echo "=== $dir: make check"
	t0=$SECONDS
	make -C "$dir" -j"$jobs" check
	st=$?
	echo "=== $dir: make check exit status $st after $((SECONDS - t0)) s"
	eval "check_status_${dir//[^a-zA-Z0-9]/_}=$st"
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

builds=(build build-asan)
if [ "$step_failures" -eq 0 ]; then
	build build --enable-strict
	build build-asan --enable-strict --enable-asan
fi

# ---- summary -------------------------------------------------------------------

total_pass=0
total_fail=0
total_skip=0
summary=()

# count_log LOG: set p f s (passed, failed, skipped) and the failure lines.
count_log () {
	local log=$1 trs=${1%.log}.trs
	read -r p f s todo <<< "$(awk '
		/^ok([ \t]|$)/ {
			if ($0 ~ /#[ \t]*[Ss][Kk][Ii][Pp]/) s++; else p++; next }
		/^not ok([ \t]|$)/ {
			if ($0 ~ /#[ \t]*[Tt][Oo][Dd][Oo]/) t++; else f++; next }
		/^Bail out!/ { f++; next }
		/^1\.\.0([ \t]|$)/ && $0 ~ /#[ \t]*[Ss][Kk][Ii][Pp]/ { s++ }
		END { printf "%d %d %d %d\n", p, f, s, t }' "$log")"
	fails=$(grep -E '^(not ok([ \t]|$)|Bail out!)' "$log" | grep -viE '#[[:space:]]*todo')
	note=
	if [ ! -f "$trs" ]; then
		note="no result file (test did not finish)"
	elif grep -qE '^:global-test-result: (FAIL|ERROR)' "$trs" && [ "$f" -eq 0 ]; then
		note="$(grep -E '^:test-result: ERROR' "$trs" | head -n 3 | sed 's/^:test-result: //' | tr '\n' ' ' | sed 's/ *$//')"
		note="error without a failing test: ${note:-see $log}"
	fi
	if [ -n "$note" ]; then
		f=$((f + 1))
		fails=$(printf '%s\n%s' "$fails" "$note")
	fi
}

echo
echo "================================ test summary ================================"
for dir in "${builds[@]}"; do
	[ -d "$dir/tests" ] || continue
	echo "--- $dir"
	nlogs=0 dir_fail=0
	while IFS= read -r log; do
		nlogs=$((nlogs + 1))
		count_log "$log"
		name=${log#"$dir"/}
		name=${name%.log}
		status=PASS
		[ "$f" -gt 0 ] && status=FAIL
		[ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$s" -gt 0 ] && status=SKIP
		line=$(printf '  %-4s  %-34s %4d passed, %d failed' "$status" "$name" "$p" "$f")
		[ "$s" -gt 0 ] && line="$line, $s skipped"
		[ "$todo" -gt 0 ] && line="$line, $todo todo"
		echo "$line"
		if [ "$f" -gt 0 ]; then
			printf '%s\n' "$fails" | sed '/^$/d; s/^/          /'
		fi
		total_pass=$((total_pass + p))
		total_fail=$((total_fail + f))
		total_skip=$((total_skip + s))
		dir_fail=$((dir_fail + f))
	done < <(find "$dir/tests" -name '*.log' ! -name 'test-suite.log' | sort)
	var="check_status_${dir//[^a-zA-Z0-9]/_}"
	st=${!var:-}
	if [ "$nlogs" -eq 0 ]; then
		echo "  (no test logs)"
	fi
	# make check failed, yet no log says why: count it.
	if [ -n "$st" ] && [ "$st" -ne 0 ] && [ "$dir_fail" -eq 0 ]; then
		echo "  FAIL  make check exited with status $st but no test log shows a failure"
		total_fail=$((total_fail + 1))
	fi
done
for n in "${step_notes[@]}"; do
	echo "  FAIL  $n"
done
total_fail=$((total_fail + step_failures))
[ "$total_skip" -gt 0 ] && echo "skipped: $total_skip (counted in neither number)"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
