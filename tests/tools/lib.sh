# lib.sh - shared by the tests of the litehsm command (tests/tools/*.sh);
# sourced, never run on its own.
#
# Builds on tests/interop/lib.sh (temp dir, LITEHSM_CONF with a private
# token_dir and a cheap KDF, TAP helpers, sanitizer checks) and adds:
#
#   - $lt_tool, the built tools/litehsm, pointed at the module under test
#     with LITEHSM_MODULE; max_pin_failures = 3 in the configuration;
#   - lt ARGS...: run the tool detached from any terminal (setsid), so that
#     no prompt can ever wait, with stdin from $lt_in (default /dev/null),
#     stdout in $lt_out and stderr in $lt_err; its status is 250 on a
#     sanitizer report, 251 on a hang, 252 when a PIN or value registered
#     with lt_secret shows up in its output (lt_check);
#   - checks that each print one TAP line:
#       lt_ok NAME ARGS...                 exit 0, empty stderr
#       lt_fails NAME CODE TEXT ARGS...    exit CODE, stderr exactly one line
#                                          "litehsm: ...; ..." containing TEXT
#       lt_has NAME ERE                    the last stdout has a matching line
#       lt_json NAME                       the last stdout is one JSON document
#       lt_same NAME FILE1 FILE2           two snapshots are identical
#   - lt_snap FILE: a snapshot of every slot and token (token list --json,
#     which includes the PIN states) and of the token files' names;
#   - rawp11 MODE MODULE TOKEN ARGS...: p11.py, a raw PKCS#11 client, logged
#     in with $PIN (run with $PY when set, else python3);
#   - check NAME GOT WANT: one TAP line, GOT = WANT.
#
# Environment: as tests/interop/lib.sh (LH_MODULE, LH_BUILDDIR, ...).

. "$(dirname "$0")/../interop/lib.sh"

lt_tool=${LH_BUILDDIR:-.}/tools/litehsm
if [ ! -x "$lt_tool" ]; then
	lh_not_ok tool "$lt_tool is not built (run through make check)"
	lh_finish
fi
LITEHSM_MODULE=$LH_MODULE
export LITEHSM_MODULE
echo "max_pin_failures = 3" >> "$LITEHSM_CONF"

lt_p11py=$(cd "$(dirname "$0")" && pwd)/p11.py
lt_out=$lh_tmp/lt.stdout
lt_err=$lh_tmp/lt.stderr
lt_secrets=$lh_tmp/lt.secrets
: > "$lt_secrets"
lt_last=

# lt_secret VALUE...: PINs that must never appear in the tool's output.
lt_secret () {
	printf '%s\n' "$@" >> "$lt_secrets"
}

# lt_pinfile NAME VALUE: $lh_tmp/NAME holds VALUE and a newline; registered
# as a secret.
lt_pinfile () {
	printf '%s\n' "$2" > "$lh_tmp/$1"
	lt_secret "$2"
}

# lt_check OUT ERR STATUS: the status of a command that ran under timeout
# with its stdout in OUT and its stderr in ERR: 251 if it hung, 250 on a
# sanitizer report, 252 if a value registered with lt_secret appears in
# OUT or ERR (each with a note appended to ERR), else STATUS.  With $lt_log
# set (a directory), OUT and ERR are first kept there as $lt_step.out/.err.
lt_check () {
	local out=$1 err=$2 st=$3
	if [ -n "${lt_log:-}" ]; then
		lt_step=$((${lt_step:-0} + 1))
		cp "$out" "$lt_log/$lt_step.out"
		cp "$err" "$lt_log/$lt_step.err"
	fi
	if [ $st -eq 124 ] || [ $st -eq 137 ]; then
		echo "(killed after ${LH_TIMEOUT:-120} s: hung)" >> "$err"
		st=251
	fi
	if lh_sanitizer_ours "$err"; then
		st=250
	elif [ -s "$lt_secrets" ] &&
	     grep -aqF -f "$lt_secrets" "$out" "$err"; then
		echo "(a secret appears in the output)" >> "$err"
		st=252
	fi
	return $st
}

# lt ARGS...: the tool with stdin from $lt_in (default /dev/null):
# "lt_in=FILE lt_ok ...".
lt () {
	lt_last="litehsm $* < ${lt_in:-/dev/null}"
	timeout -k 5 "${LH_TIMEOUT:-120}" setsid -w "$lt_tool" "$@" \
		> "$lt_out" 2> "$lt_err" < "${lt_in:-/dev/null}"
	lt_check "$lt_out" "$lt_err" $?
}

lt_diag () {
	printf '%s\n' "command: $lt_last" "exit status $1" "stdout:" \
		"$(head -n 40 "$lt_out")" "stderr:" "$(cat "$lt_err")"
}

lt_ok () {
	local name=$1 st
	shift
	lt "$@"
	st=$?
	if [ $st -eq 0 ] && [ ! -s "$lt_err" ]; then
		lh_ok "$name"
		return 0
	fi
	lh_not_ok "$name" "$(lt_diag $st)"
	return 1
}

lt_fails () {
	local name=$1 code=$2 text=$3 st lines
	shift 3
	lt "$@"
	st=$?
	lines=$(wc -l < "$lt_err")
	if [ $st -eq "$code" ] && [ "$lines" -eq 1 ] &&
	   LC_ALL=C grep -aq '^litehsm: .*; ' "$lt_err" &&
	   grep -aqF -- "$text" "$lt_err"; then
		lh_ok "$name"
		return 0
	fi
	lh_not_ok "$name" "expected exit $code and one stderr line with: $text" \
		"$(lt_diag $st)"
	return 1
}

lt_has () {
	if grep -qE -- "$2" "$lt_out"; then
		lh_ok "$1"
		return 0
	fi
	lh_not_ok "$1" "no line of stdout matches /$2/" "$(lt_diag -)"
	return 1
}

lt_json () {
	if ! command -v python3 > /dev/null 2>&1; then
		lh_skip "$1" "python3 not found (Debian package python3)"
		return 0
	fi
	if python3 -c 'import json,sys; json.load(sys.stdin)' < "$lt_out" \
		> "$lh_tmp/json.err" 2>&1; then
		lh_ok "$1"
		return 0
	fi
	lh_not_ok "$1" "stdout is not JSON: $(cat "$lh_tmp/json.err")" "$(lt_diag -)"
	return 1
}

# lt_py EXPR: evaluate a Python expression over the last stdout parsed as
# JSON (bound to j) and print the result; empty without python3.
lt_py () {
	command -v python3 > /dev/null 2>&1 || return 0
	python3 -c "import json,sys; j = json.load(sys.stdin); print($1)" \
		< "$lt_out" 2>/dev/null
}

lt_snap () {
	{
		"$lt_tool" token list --json 2>&1
		ls "$lh_tokens" 2>&1 | grep -v -e '-wal$' -e '-shm$'
	} > "$1"
}

lt_same () {
	if cmp -s "$2" "$3"; then
		lh_ok "$1"
		return 0
	fi
	lh_not_ok "$1" "state changed:" "$(diff "$2" "$3")"
	return 1
}

rawp11 () {
	local mode=$1 mod=$2 tok=$3
	shift 3
	lh_client "${PY:-python3}" "$lt_p11py" "$mode" "$mod" "$tok" "$PIN" "$@"
}

check () {
	if [ "$2" = "$3" ]; then
		lh_ok "$1"
	else
		lh_not_ok "$1" "got '$2', want '$3'"
	fi
}
