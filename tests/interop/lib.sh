# lib.sh - shared by the interop tests; sourced, never run on its own.
#
# Each test script drives real PKCS#11 clients (pkcs11-tool, p11tool,
# p11-kit, ...) against the module named by $LH_MODULE and prints TAP, which
# automake's tap-driver.sh and tests/run-all.sh count.  This file gives it:
#
#   - a private temp dir $lh_tmp, removed on exit (LH_KEEP_TMP=1 keeps it);
#   - $lh_tmp/litehsm.conf with token_dir = $lh_tmp/tokens and a cheap KDF,
#     exported as LITEHSM_CONF, so no test touches a real token;
#   - TAP helpers: lh_ok, lh_not_ok, lh_skip, lh_diag, lh_finish (the plan is
#     printed at the end, which TAP allows);
#   - lh_check* helpers that run one command, keep its output in $lh_out,
#     and fail on a wrong exit status, on a crash (status >= 128) or on a
#     sanitizer report;
#   - lh_need PROGRAM PACKAGE: a missing client skips the whole script with
#     the Debian package to install, except in CI (CI=true) where it fails;
#   - wrappers (p11, lh_p11tool, lh_client, lh_spawn) that run a client so
#     that it can load the module, also when the module is an ASan build.
#
# Environment: LH_MODULE (required), LH_BUILDDIR, LH_SRCDIR (set by
# tests/Makefile.am), CI.  LH_MODULE may also name SoftHSM2's module, which
# checks the tests themselves against a reference token (SOFTHSM2_CONF is
# then set up the same way).

lh_n=0
lh_failed=0
lh_finished=
lh_pids=
lh_name=$(basename "$0" .sh)

if [ -z "${LH_MODULE:-}" ] || [ ! -f "$LH_MODULE" ]; then
	echo "1..1"
	echo "not ok 1 - /$lh_name/module: LH_MODULE='${LH_MODULE:-}' is not a file (run through make check)"
	exit 1
fi

lh_tmp=$(mktemp -d "${TMPDIR:-/tmp}/lh-$lh_name.XXXXXX") || exit 99
lh_out=$lh_tmp/out

lh_cleanup () {
	local pid i
	for pid in $lh_pids; do
		kill "$pid" 2>/dev/null || continue
		for i in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	if [ -z "$lh_finished" ]; then
		# An unexpected exit: make it count as a failure, not as a pass.
		lh_n=$((lh_n + 1))
		echo "not ok $lh_n - /$lh_name/complete: the script ended before lh_finish"
		echo "1..$lh_n"
	fi
	if [ -n "${LH_KEEP_TMP:-}" ]; then
		echo "# kept $lh_tmp"
	else
		rm -rf "$lh_tmp"
	fi
}
trap lh_cleanup EXIT
trap 'exit 130' INT TERM

# ---- configuration of the module under test --------------------------------

lh_tokens=$lh_tmp/tokens
LITEHSM_CONF=$lh_tmp/litehsm.conf
export LITEHSM_CONF
cat > "$LITEHSM_CONF" <<EOF
# written by tests/interop/lib.sh
token_dir = $lh_tokens
kdf_time_cost = 1
kdf_memory_kib = 64
log_file = $lh_tmp/litehsm.log
EOF

case $(basename "$LH_MODULE") in
*softhsm2*)
	lh_is_softhsm=1
	mkdir -p "$lh_tokens"
	SOFTHSM2_CONF=$lh_tmp/softhsm2.conf
	export SOFTHSM2_CONF
	printf 'directories.tokendir = %s\nobjectstore.backend = file\n' \
		"$lh_tokens" > "$SOFTHSM2_CONF"
	;;
*)
	lh_is_softhsm=
	;;
esac

# An ASan-built module can only be loaded by a program whose first library is
# the ASan runtime, which pkcs11-tool, p11tool and p11-kit are not: preload
# it for them.  Their own leaks (and the libraries they load) are not ours,
# so leak detection is off for those clients, and they go on after a report
# (halt_on_error=0): a bug of the client's own (OpenSC 0.23's pkcs11-tool
# reads freed memory when it exports an EC public key) is printed but only
# fails a test when the report involves our code (lh_run).  The module-API
# tests under tests/module, built with ASan themselves, keep leak detection
# on for the module.  These options come last in ASAN_OPTIONS because the
# last occurrence of an option wins.
lh_asan_rt=
if command -v ldd > /dev/null 2>&1; then
	lh_asan_rt=$(ldd "$LH_MODULE" 2>/dev/null | awk '/libasan\.so/ { print $3; exit }')
fi

# lh_client CMD ARGS...: run a program that will load the module, killed
# after LH_TIMEOUT seconds (default 120) so that a hang fails the test
# instead of the whole run (lh_run reports status 124 as a hang).
lh_client () {
	if [ -n "$lh_asan_rt" ]; then
		LD_PRELOAD="$lh_asan_rt${LD_PRELOAD:+:$LD_PRELOAD}" \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0:halt_on_error=0" \
			timeout -k 5 "${LH_TIMEOUT:-120}" "$@"
	else
		timeout -k 5 "${LH_TIMEOUT:-120}" "$@"
	fi
}

# lh_spawn OUTFILE CMD ARGS...: start a client in the background (output to
# OUTFILE) so that $lh_last_pid is the program itself, killed at exit.
lh_spawn () {
	local out=$1
	shift
	(
		if [ -n "$lh_asan_rt" ]; then
			export LD_PRELOAD="$lh_asan_rt${LD_PRELOAD:+:$LD_PRELOAD}"
			export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0:halt_on_error=0"
		fi
		exec "$@"
	) > "$out" 2>&1 < /dev/null &
	lh_last_pid=$!
	lh_pids="$lh_pids $lh_last_pid"
}

# p11 ARGS...: pkcs11-tool on the module under test.
p11 () {
	lh_client pkcs11-tool --module "$LH_MODULE" "$@"
}

# lh_p11tool ARGS...: GnuTLS p11tool on the module under test, never asking.
lh_p11tool () {
	lh_client p11tool --batch --provider "$LH_MODULE" "$@" < /dev/null
}

# ---- TAP ---------------------------------------------------------------------

lh_diag () {
	printf '%s\n' "$@" | sed 's/^/# /'
}

lh_ok () {
	lh_n=$((lh_n + 1))
	echo "ok $lh_n - /$lh_name/$1"
}

# lh_not_ok NAME [DIAG...]
lh_not_ok () {
	local name=$1
	shift
	lh_n=$((lh_n + 1))
	lh_failed=$((lh_failed + 1))
	echo "not ok $lh_n - /$lh_name/$name"
	[ $# -gt 0 ] && lh_diag "$@"
	return 0
}

# lh_skip NAME REASON
lh_skip () {
	lh_n=$((lh_n + 1))
	echo "ok $lh_n - /$lh_name/$1 # SKIP $2"
}

# lh_result NAME CONDITION-STATUS [DIAG...]: ok when status is 0.
lh_result () {
	local name=$1 st=$2
	shift 2
	if [ "$st" -eq 0 ]; then lh_ok "$name"; else lh_not_ok "$name" "$@"; fi
}

lh_finish () {
	lh_finished=1
	echo "1..$lh_n"
	if [ "$lh_failed" -gt 0 ] && [ -s "$lh_tmp/litehsm.log" ]; then
		lh_diag "module log (last lines):"
		tail -n 20 "$lh_tmp/litehsm.log" | sed 's/^/# /'
	fi
	[ "$lh_failed" -eq 0 ]
	exit $?
}

# lh_need PROGRAM PACKAGE: call before the first test.
lh_need () {
	command -v "$1" > /dev/null 2>&1 && return 0
	lh_finished=1
	if [ "${CI:-}" = true ]; then
		echo "1..1"
		echo "not ok 1 - /$lh_name/need-$1: $1 not found (Debian package $2)"
		exit 1
	fi
	echo "1..0 # SKIP $1 not found (install Debian package $2)"
	exit 0
}

# ---- running commands ---------------------------------------------------------

# lh_sanitizer_ours FILE: does FILE hold a sanitizer report that involves
# our code?  UBSan reports always do (nothing else is built with UBSan); an
# ASan/LSan report does when a stack frame is in the module or in one of our
# sources or programs.
lh_sanitizer_ours () {
	grep -q 'runtime error:' "$1" && return 0
	grep -qE 'ERROR: (Address|Leak)Sanitizer' "$1" || return 1
	grep -qF -e litehsm-pkcs11 -e "${LH_BUILDDIR:-/nonexistent}/" \
		-e "${LH_SRCDIR:-/nonexistent}/" "$1" && return 0
	grep -qE '(^|[ (])(\.\./)?(pkcs11|store|tools|tests)/[A-Za-z0-9_./-]*\.[ch]:[0-9]' "$1"
}

# lh_run CMD...: run a command, output (stdout+stderr) to $lh_out, return its
# status.  A sanitizer report that involves our code turns the status into
# 250, a client killed by lh_client's timeout (124, or 137 after -k) into
# 251: both count as crashes.
lh_run () {
	local st
	"$@" > "$lh_out" 2>&1 < /dev/null
	st=$?
	if [ $st -eq 124 ] || [ $st -eq 137 ]; then
		echo "(killed after ${LH_TIMEOUT:-120} s: hung)" >> "$lh_out"
		st=251
	fi
	if lh_sanitizer_ours "$lh_out"; then
		st=250
	fi
	return $st
}

lh_cmdline () {
	printf 'command: %s\n' "$*"
}

# lh_check NAME CMD...: ok when CMD exits 0.
lh_check () {
	local name=$1 st
	shift
	lh_run "$@"
	st=$?
	if [ $st -eq 0 ]; then
		lh_ok "$name"
	else
		lh_not_ok "$name" "$(lh_cmdline "$@")" "exit status $st" "$(cat "$lh_out")"
	fi
	return $st
}

# lh_check_fails NAME CMD...: ok when CMD fails cleanly: a non-zero status
# below 128 (no signal) and no sanitizer report.
lh_check_fails () {
	local name=$1 st
	shift
	lh_run "$@"
	st=$?
	if [ $st -ne 0 ] && [ $st -lt 128 ]; then
		lh_ok "$name"
		return 0
	fi
	if [ $st -eq 0 ]; then
		lh_not_ok "$name" "$(lh_cmdline "$@")" "succeeded but should have failed" "$(cat "$lh_out")"
	else
		lh_not_ok "$name" "$(lh_cmdline "$@")" "crashed, hung or sanitizer report (status $st)" "$(cat "$lh_out")"
	fi
	return 1
}

# lh_check_output NAME ERE CMD...: ok when CMD exits 0 and its output has a
# line matching the extended regular expression ERE.
lh_check_output () {
	local name=$1 re=$2 st
	shift 2
	lh_run "$@"
	st=$?
	if [ $st -ne 0 ]; then
		lh_not_ok "$name" "$(lh_cmdline "$@")" "exit status $st" "$(cat "$lh_out")"
		return 1
	fi
	if ! grep -qE -- "$re" "$lh_out"; then
		lh_not_ok "$name" "$(lh_cmdline "$@")" "no line matches /$re/" "$(cat "$lh_out")"
		return 1
	fi
	lh_ok "$name"
}

# lh_check_no_output NAME ERE CMD...: ok when CMD exits 0 and no line of its
# output matches ERE.
lh_check_no_output () {
	local name=$1 re=$2 st
	shift 2
	lh_run "$@"
	st=$?
	if [ $st -ne 0 ]; then
		lh_not_ok "$name" "$(lh_cmdline "$@")" "exit status $st" "$(cat "$lh_out")"
		return 1
	fi
	if grep -qE -- "$re" "$lh_out"; then
		lh_not_ok "$name" "$(lh_cmdline "$@")" "a line matches /$re/" "$(cat "$lh_out")"
		return 1
	fi
	lh_ok "$name"
}

# ---- helpers shared by several tests --------------------------------------------

# lh_free_slot: print the id (0x...) of the first slot whose token is not
# initialized, from pkcs11-tool -L; empty when there is none.
lh_free_slot () {
	p11 -L 2>/dev/null | awk '
		/^Slot [0-9]+ \(0x[0-9a-fA-F]+\)/ {
			id = $3; sub(/^\(/, "", id); sub(/\).*$/, "", id); next }
		/token state: *uninitialized/ { if (id != "") { print id; exit } }
		/token flags/ && !/token initialized/ { if (id != "") { print id; exit } }'
}

# lh_token_flags LABEL: the "token flags" of the token labelled LABEL, from
# pkcs11-tool -L (its output is also left in $lh_out).
lh_token_flags () {
	lh_run p11 -L
	awk -v want="$1" '
		/^Slot / { lab = "" }
		/^ *token label *:/ { lab = $0; sub(/^ *token label *: /, "", lab) }
		/^ *token flags *:/ && lab == want { sub(/^ *token flags *: */, ""); print; exit }' "$lh_out"
}

# lh_init_token LABEL SO_PIN USER_PIN: initialize the free slot's token with
# pkcs11-tool and set its user PIN; not a TAP test (prints diagnostics and
# returns non-zero on failure).
lh_init_token () {
	local slot
	slot=$(lh_free_slot)
	if [ -z "$slot" ]; then
		lh_diag "no free slot in:" "$(p11 -L 2>&1)"
		return 1
	fi
	lh_run p11 --slot "$slot" --init-token --label "$1" --so-pin "$2" || {
		lh_diag "init-token failed:" "$(cat "$lh_out")"; return 1; }
	lh_run p11 --token-label "$1" --login --so-pin "$2" --init-pin --pin "$3" || {
		lh_diag "init-pin failed:" "$(cat "$lh_out")"; return 1; }
}

# lh_make_cert NAME: a self-signed P-256 certificate as $lh_tmp/NAME.der
# and $lh_tmp/NAME.pem.
lh_make_cert () {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$lh_tmp/$1.key" -subj "/CN=litehsm interop $1" -days 2 \
		-out "$lh_tmp/$1.pem" > "$lh_tmp/openssl.out" 2>&1 &&
	openssl x509 -in "$lh_tmp/$1.pem" -outform DER -out "$lh_tmp/$1.der" \
		>> "$lh_tmp/openssl.out" 2>&1
}

# lh_flip_byte FILE OFFSET: change the byte at OFFSET for sure (one bit
# flipped), where writing a constant would leave it as it was 1 time in 256.
lh_flip_byte () {
	local b
	b=$(od -An -tu1 -j"$2" -N1 "$1" | tr -d ' ')
	printf "\\$(printf '%03o' $((b ^ 1)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# lh_engine: the path of the OpenSSL pkcs11 engine (libp11; Debian package
# libengine-pkcs11-openssl) in the engines directory of the openssl in
# PATH.  The file may not exist.
lh_engine () {
	local dir
	dir=$(openssl version -e 2>/dev/null | sed -n 's/^ENGINESDIR: "\(.*\)"$/\1/p')
	echo "$dir/pkcs11.so"
}

# lh_engine_conf FILE: an openssl.cnf for OPENSSL_CONF in FILE that loads
# the engine (lh_engine) with MODULE_PATH = the module under test.  With
# init = 0 only the commands that use the engine load it; the empty [req]
# distinguished_name lets openssl req take its subject from -subj.
lh_engine_conf () {
	cat > "$1" <<EOF
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $(lh_engine)
MODULE_PATH = $LH_MODULE
init = 0
[req]
distinguished_name = dn
[dn]
EOF
}

# lh_litehsm_only WHY: when LH_MODULE is SoftHSM2 ($lh_is_softhsm), skip the
# whole test ("1..0 # SKIP WHY") and exit.
lh_litehsm_only () {
	if [ -n "$lh_is_softhsm" ]; then
		lh_finished=1
		echo "1..0 # SKIP $1"
		exit 0
	fi
}
