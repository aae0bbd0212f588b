# keystore-lib.sh - shared by the keystore tests (tests/tools/keystore*.sh);
# sourced after lib.sh, never run on its own.
#
# Skips the test under SoftHSM2, then sets up where the keystores live:
#   - $ks_root: set when running as root (the keystore users are then
#     system accounts, run through setpriv);
#   - $ks_base: $lh_tmp, or as root a directory in /tmp when $lh_tmp is not
#     traversable by other users; below it $KD (LITEHSM_KEYSTORE_DIR), $KH
#     (LITEHSM_KEYSTORE_HOME), world-readable copies of the module
#     ($ks_mod) and the tool ($ks_tool), and the users' configuration
#     user.conf (the test's, without token_dir and log_file);
# and defines:
#       ks_homes USER...            the users' home directories
#       ks_as USER CMD...           CMD as USER, output in $ks_o and $ks_e
#       ks_ok NAME USER CMD...      ks_as, one TAP line: exit 0
#       ks_tool USER ARGS...        the user's litehsm
#       ks_diag STATUS              the last ks_as, for a not-ok line
#       ks_py EXPR / ks_check NAME EXPR WANT
#                                   over "keystore status --json $R"
# The caller defines R (the root keystore's PIN options).

lh_litehsm_only 'keystores are litehsm tokens; not meaningful with SoftHSM2'

ks_root=
[ "$(id -u)" -eq 0 ] && ks_root=1

# Every directory from $1 up to / can be traversed by other users.
ks_traversable () {
	local d=$1 m
	while [ -n "$d" ] && [ "$d" != / ]; do
		m=$(stat -c %a "$d") || return 1
		[ $((0$m & 1)) -ne 0 ] || return 1
		d=$(dirname "$d")
	done
}

ks_base=$lh_tmp
if [ -n "$ks_root" ]; then
	chmod 0711 "$lh_tmp"
	if ! ks_traversable "$lh_tmp"; then
		# $TMPDIR is private (a CI clone): keep the users' part in /tmp
		ks_base=$(mktemp -d "/tmp/lh-$lh_name.XXXXXX") || exit 99
		chmod 0711 "$ks_base"
		trap 'rm -rf "$ks_base"; lh_cleanup' EXIT
	fi
fi
KD=$ks_base/root                  # LITEHSM_KEYSTORE_DIR
KH=$ks_base/home                  # LITEHSM_KEYSTORE_HOME
LITEHSM_KEYSTORE_DIR=$KD
LITEHSM_KEYSTORE_HOME=$KH
export LITEHSM_KEYSTORE_DIR LITEHSM_KEYSTORE_HOME
mkdir -p "$KH" && chmod 0711 "$KH"

# The module and the tool where any user can run them.
mkdir -p "$ks_base/lib" && chmod 0755 "$ks_base/lib"
ks_mod=$ks_base/lib/litehsm-pkcs11.so
ks_tool=$ks_base/lib/litehsm
cp "$LH_MODULE" "$ks_mod" && cp "$lt_tool" "$ks_tool" &&
	chmod 0755 "$ks_mod" "$ks_tool" || exit 99
# The users' configuration: the test's, without token_dir (the default
# $XDG_DATA_HOME/litehsm/tokens is where their keystore is) and log_file.
grep -v -e '^token_dir' -e '^log_file' "$LITEHSM_CONF" > "$ks_base/user.conf"
chmod 0644 "$ks_base/user.conf"

# ks_homes USER...: a home directory $KH/USER (mode 0700) for each USER; as
# root, USER must be a system account, and owns it.
ks_homes () {
	local u
	for u in "$@"; do
		if [ -n "$ks_root" ] && ! getent passwd "$u" > /dev/null; then
			lh_finished=1
			echo "1..1"
			echo "not ok 1 - /$lh_name/users: no system user $u"
			exit 1
		fi
		mkdir -p "$KH/$u" || exit 99
		[ -n "$ks_root" ] && chown "$(id -u "$u"):$(id -g "$u")" "$KH/$u"
		chmod 0700 "$KH/$u"
	done
}

ks_o=$lh_tmp/as.stdout
ks_e=$lh_tmp/as.stderr
ks_last=

# ks_as USER CMD...: CMD as USER (setpriv, as root) with the environment a
# login of USER has (HOME and XDG_DATA_HOME = $KH/USER), the world-readable
# copies of the module and the configuration; stdin from $ks_in.  With
# ks_preload set, the ASan runtime is preloaded (for pkcs11-tool).  Its
# status is as lt's (lt_check).
ks_as () {
	local u=$1
	local -a pre=() env
	shift
	env=(PATH="$PATH" HOME="$KH/$u" XDG_DATA_HOME="$KH/$u"
	     XDG_CONFIG_HOME="$KH/$u/.config" USER="$u" LOGNAME="$u"
	     LITEHSM_CONF="$ks_base/user.conf" LITEHSM_MODULE="$ks_mod"
	     TMPDIR=/tmp)
	[ -n "${UBSAN_OPTIONS:-}" ] && env+=(UBSAN_OPTIONS="$UBSAN_OPTIONS")
	[ -n "${LSAN_OPTIONS:-}" ] && env+=(LSAN_OPTIONS="$LSAN_OPTIONS")
	if [ -n "${ks_preload:-}" ] && [ -n "$lh_asan_rt" ]; then
		env+=(LD_PRELOAD="$lh_asan_rt"
		      ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0:halt_on_error=0")
	elif [ -n "${ASAN_OPTIONS:-}" ]; then
		env+=(ASAN_OPTIONS="$ASAN_OPTIONS")
	fi
	[ -n "$ks_root" ] && pre=(setpriv --reuid="$(id -u "$u")" \
		--regid="$(id -g "$u")" --clear-groups)
	ks_last="as $u: $* < ${ks_in:-/dev/null}"
	timeout -k 5 "${LH_TIMEOUT:-120}" "${pre[@]}" env -i "${env[@]}" "$@" \
		> "$ks_o" 2> "$ks_e" < "${ks_in:-/dev/null}"
	lt_check "$ks_o" "$ks_e" $?
}

ks_diag () {
	printf '%s\n' "command: $ks_last" "exit status $1" "stdout:" \
		"$(head -c 3000 "$ks_o" | head -n 40)" "stderr:" "$(head -n 20 "$ks_e")"
}

# ks_ok NAME USER CMD...: exit 0 (stderr may hold a client's chatter).
ks_ok () {
	local name=$1 st
	shift
	ks_as "$@"
	st=$?
	if [ $st -eq 0 ]; then
		lh_ok "$name"
		return 0
	fi
	lh_not_ok "$name" "$(ks_diag $st)"
	return 1
}

# ks_tool USER ARGS...: the user's litehsm on its local keystore.
ks_tool () {
	local u=$1
	shift
	ks_as "$u" "$ks_tool" "$@"
}

# ks_py EXPR: EXPR over "keystore status --json", with j (the document),
# ks (user -> keystore), sec(u, name) (its secrets, optionally of one name),
# states(u, name) (sorted (version, state) pairs) and ids(u, name).
ks_py () {
	command -v python3 > /dev/null 2>&1 || return 0
	"$lt_tool" keystore status --json $R 2>/dev/null | python3 -c "
import json, sys
j = json.load(sys.stdin)
ks = {k['user']: k for k in j.get('keystores', [])}
def sec(u, name=None):
    return [s for s in ks[u].get('secrets', []) if name is None or s['name'] == name]
def states(u, name):
    return sorted((s['version'], s['state']) for s in sec(u, name))
def ids(u, name):
    return sorted(s['id'] for s in sec(u, name))
print($1)" 2>&1
}

# ks_check NAME EXPR WANT: one TAP line comparing ks_py EXPR with WANT.
ks_check () {
	local got
	if ! command -v python3 > /dev/null 2>&1; then
		lh_skip "$1" "python3 not found (Debian package python3)"
		return 0
	fi
	got=$(ks_py "$2")
	if [ "$got" = "$3" ]; then
		lh_ok "$1"
	else
		lh_not_ok "$1" "$2: got '$got', want '$3'" \
			"$("$lt_tool" keystore status $R 2>&1 | head -n 40)"
	fi
}
