#!/bin/bash
# keystore-seed001.sh - seed 001's procedure end to end with litehsm in
# place of askmscli (issue 4, "Done when"):
#
#   1. the root keystore, and local keystores for two transfer users;
#   2. an SSEAR secret for each (echo -n secret | litehsm secret set ssear
#      --user U);
#   3. a shared redis-master-key generated in the token, then replaced as
#      the seed does it (openssl rand -base64 32 | ... --base64 --force);
#   4. keystore init for the service user that runs the node daemon (and
#      init again for a transfer user: refused, sync instead);
#   5. a token-key per transfer user, valid 30 days;
#   6. as each user, with its own environment and nothing but its local
#      keystore: wrap the token key under redis-master-key into a file
#      outside the token, unwrap it in another process and use it
#      (pkcs11-tool AES-CBC-PAD round trip), and as the service user seal
#      and open access-key data under redis-master-key;
#
# and that no step printed or stored a key value: every output is kept and
# searched for the values the test knows (the master key piped in, in
# base64, hex and raw; the SSEAR secrets; the PINs), and so are the token
# files.  As root the users are daemon (the service) and bin and sys (the
# transfer users); as an ordinary user only the caller's own keystore, and
# the rest is skipped.
. "$(dirname "$0")/lib.sh"

if [ -n "$lh_is_softhsm" ]; then
	lh_finished=1
	echo "1..0 # SKIP keystores are litehsm tokens; not meaningful with SoftHSM2"
	exit 0
fi

# ---- setup (as in keystore.sh) -----------------------------------------------------

lt_log=$lh_tmp/outputs
mkdir -p "$lt_log"
lt_step=0

# lt with stdin from $lt_in; every output is also kept in $lt_log.
lt () {
	local st
	lt_last="litehsm $* < ${lt_in:-/dev/null}"
	timeout -k 5 "${LH_TIMEOUT:-120}" setsid -w "$lt_tool" "$@" \
		> "$lt_out" 2> "$lt_err" < "${lt_in:-/dev/null}"
	st=$?
	lt_step=$((lt_step + 1))
	cp "$lt_out" "$lt_log/$lt_step.out"
	cp "$lt_err" "$lt_log/$lt_step.err"
	if [ $st -eq 124 ] || [ $st -eq 137 ]; then
		echo "(killed after ${LH_TIMEOUT:-120} s: hung)" >> "$lt_err"
		st=251
	fi
	if lh_sanitizer_ours "$lt_err"; then
		st=250
	elif [ -s "$lt_secrets" ] &&
	     grep -aqF -f "$lt_secrets" "$lt_out" "$lt_err"; then
		echo "(a secret appears in the output)" >> "$lt_err"
		st=252
	fi
	return $st
}

ks_root=
[ "$(id -u)" -eq 0 ] && ks_root=1

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
		ks_base=$(mktemp -d /tmp/lh-seed001.XXXXXX) || exit 99
		chmod 0711 "$ks_base"
		trap 'rm -rf "$ks_base"; lh_cleanup' EXIT
	fi
fi
KD=$ks_base/root
KH=$ks_base/home
LITEHSM_KEYSTORE_DIR=$KD
LITEHSM_KEYSTORE_HOME=$KH
export LITEHSM_KEYSTORE_DIR LITEHSM_KEYSTORE_HOME
mkdir -p "$KH" "$ks_base/lib" && chmod 0711 "$KH" && chmod 0755 "$ks_base/lib"
ks_mod=$ks_base/lib/litehsm-pkcs11.so
ks_tool=$ks_base/lib/litehsm
cp "$LH_MODULE" "$ks_mod" && cp "$lt_tool" "$ks_tool" &&
	chmod 0755 "$ks_mod" "$ks_tool" || exit 99
grep -v -e '^token_dir' -e '^log_file' "$LITEHSM_CONF" > "$ks_base/user.conf"
chmod 0644 "$ks_base/user.conf"

# transfer users X1, X2 and the service user SVC
if [ -n "$ks_root" ]; then
	X1=bin X2=sys SVC=daemon
	XUSERS="$X1 $X2"
	for u in $X1 $X2 $SVC; do
		getent passwd "$u" > /dev/null || {
			lh_finished=1
			echo "1..1"
			echo "not ok 1 - /$lh_name/users: no system user $u"
			exit 1
		}
		mkdir -p "$KH/$u"
		chown "$(id -u "$u"):$(id -g "$u")" "$KH/$u"
		chmod 0700 "$KH/$u"
	done
else
	X1=$(id -un) X2= SVC=
	XUSERS=$X1
	mkdir -p "$KH/$X1" && chmod 0700 "$KH/$X1"
fi

ks_o=$lh_tmp/as.stdout
ks_e=$lh_tmp/as.stderr
ks_last=

# ks_as USER CMD...: CMD as USER in the environment of a login of USER.
ks_as () {
	local u=$1 st
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
	st=$?
	lt_step=$((lt_step + 1))
	cp "$ks_o" "$lt_log/$lt_step.out"
	cp "$ks_e" "$lt_log/$lt_step.err"
	if [ $st -eq 124 ] || [ $st -eq 137 ]; then
		echo "(killed after ${LH_TIMEOUT:-120} s: hung)" >> "$ks_e"
		st=251
	fi
	if lh_sanitizer_ours "$ks_e"; then
		st=250
	elif [ -s "$lt_secrets" ] &&
	     grep -aqF -f "$lt_secrets" "$ks_o" "$ks_e"; then
		echo "(a secret appears in the output)" >> "$ks_e"
		st=252
	fi
	return $st
}

ks_diag () {
	printf '%s\n' "command: $ks_last" "exit status $1" "stdout:" \
		"$(head -c 2000 "$ks_o" | head -n 30)" "stderr:" "$(head -n 20 "$ks_e")"
}

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

ks_tool () {
	local u=$1
	shift
	ks_as "$u" "$ks_tool" "$@"
}

# ks_upin USER: USER's PIN file (generated by keystore init, USER's own)
ks_upin () {
	echo "$KH/$1/litehsm/localkeystore.pin"
}

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
		lh_not_ok "$1" "$2: got '$got', want '$3'"
	fi
}

# ---- values the test knows (none may show up anywhere) -----------------------------

lt_pinfile rso seed-root-so-pin-1
lt_pinfile rpin seed-root-user-pin-2
R="--pin-file $lh_tmp/rpin"
RS="--pin-file $lh_tmp/rpin --so-pin-file $lh_tmp/rso"
v_ssear1=content-protection-secret-of-x1-8d2f
v_ssear2=content-protection-secret-of-x2-61b0
lt_secret "$v_ssear1" "$v_ssear2"
# the master key of the seed's "openssl rand -base64 32" (kept in files,
# as the seed's Windows variant does, so the test knows its value)
openssl rand -base64 32 > "$lh_tmp/redis_master_key_file"
mk_b64=$(tr -d '\n' < "$lh_tmp/redis_master_key_file")
mk_hex=$(base64 -d < "$lh_tmp/redis_master_key_file" | od -An -tx1 | tr -d ' \n')
lt_secret "$mk_b64" "$mk_hex"

# ---- 1. the root keystore ----------------------------------------------------------------

lt_ok 1/keystore-init-root keystore init --root $RS
lt_has 1/keystore-init-root-text '^Created the root keystore '

# the transfer users' keystores, before their secrets (new installation);
# their PIN files are what their applications use (pin-source)
for u in $XUSERS; do
	lt_ok "1/keystore-init-$u" keystore init --user "$u" $RS
	lt_has "1/keystore-init-$u-pin-file" "PIN file: $(ks_upin "$u")"
	[ -s "$(ks_upin "$u")" ] && lt_secret "$(cat "$(ks_upin "$u")")"
done

# ---- 2. content-protection secrets (SSEAR) ------------------------------------------------

printf %s "$v_ssear1" > "$lh_tmp/ssear-$X1"
lt_in=$lh_tmp/ssear-$X1 lt_ok "2/ssear-$X1" secret set ssear --user "$X1" $R
ks_check "2/ssear-$X1-in-local" "states('$X1', 'ssear')" "[(1, 'held')]"
if [ -n "$X2" ]; then
	printf %s "$v_ssear2" > "$lh_tmp/ssear-$X2"
	lt_in=$lh_tmp/ssear-$X2 lt_ok "2/ssear-$X2" secret set ssear --user "$X2" $R
	ks_check "2/ssear-$X2-in-local" "states('$X2', 'ssear')" "[(1, 'held')]"
	ks_check 2/ssear-per-user "ids('$X1', 'ssear') != ids('$X2', 'ssear')" True
else
	lh_skip "2/ssear-second-user" "needs root"
fi

# ---- 3. the redis master key ------------------------------------------------------------

lt_ok 3/redis-master-key-generate \
	secret generate redis-master-key --bits 256 --shared $R
for u in $XUSERS; do
	ks_check "3/redis-master-key-in-$u" \
		"states('$u', 'redis-master-key'), [s['shared'] for s in sec('$u', 'redis-master-key')]" \
		"[(1, 'held')] [True]"
done
# the seed's way: a key made by openssl, piped in as base64
lt_in=$lh_tmp/redis_master_key_file lt_ok 3/redis-master-key-openssl \
	secret set redis-master-key --shared --base64 --force $R
for u in $XUSERS; do
	ks_check "3/redis-master-key-replaced-in-$u" \
		"len(sec('$u', 'redis-master-key')), ks['$u']['state']" "1 ok"
done
# as the seed writes it: echo -n "`openssl rand -base64 32`" | ...
# (refused: the name exists; the seed's procedure sets it once)
lt_in=$lh_tmp/redis_master_key_file lt_fails 3/redis-master-key-exists 1 \
	"already exists" secret set redis-master-key --shared --base64 $R

# ---- 4. keystore init for the service user; again for a transfer user ------------------------

if [ -n "$SVC" ]; then
	lt_ok "4/keystore-init-$SVC" keystore init --user "$SVC" $RS
	lt_has "4/keystore-init-$SVC-copied" "^Created $SVC's local keystore .*; copied 1 shared and 0 own secret\(s\)\.$"
	[ -s "$(ks_upin "$SVC")" ] && lt_secret "$(cat "$(ks_upin "$SVC")")"
	ks_check "4/$SVC-holds-master-key" "ids('$SVC', 'redis-master-key') == ids('$X1', 'redis-master-key'), [s['state'] for s in sec('$SVC', 'redis-master-key')], states('$SVC', 'ssear')" \
		"True ['held'] []"
else
	lh_skip "4/keystore-init-service-user" "needs root"
fi
lt_fails "4/keystore-init-$X1-again" 1 \
	"already has a local keystore" keystore init --user "$X1" $RS
grep -qF -- "'litehsm keystore sync --user $X1'" "$lt_err"
lh_result "4/keystore-init-$X1-again-says-sync" $? "$(cat "$lt_err")"
lt_ok 4/keystore-sync keystore sync $R
for u in $XUSERS $SVC; do
	lt_has "4/keystore-sync-$u" "^$u: up to date$"
done

# ---- 5. a token key per transfer user -------------------------------------------------------

end=$(date -u -d "+30 days" +%Y-%m-%d 2>/dev/null)
for u in $XUSERS; do
	lt_ok "5/token-key-$u" secret generate token-key --user "$u" --bits 256 \
		--valid-days 30 $R
	ks_check "5/token-key-$u-in-local" "states('$u', 'token-key')" "[(1, 'held')]"
done
lt_ok 5/status keystore status $R
lt_ok 5/list secret list $R

# ---- 6. as each user ---------------------------------------------------------------------

if command -v pkcs11-tool > /dev/null 2>&1; then
	have_p11=1
else
	have_p11=
fi
IV=000102030405060708090a0b0c0d0e0f
for u in $XUSERS; do
	pf=$(ks_upin "$u")
	blob=$KH/$u/token-key.blob
	# wrap under redis-master-key into a file outside the token
	ks_ok "6/$u/wrap" "$u" "$ks_tool" --token localkeystore secret wrap \
		token-key --with redis-master-key --pin-file "$pf"
	cp "$ks_o" "$blob"
	[ -n "$ks_root" ] && chown "$(id -u "$u")" "$blob"
	[ "$(wc -c < "$blob")" -eq 40 ]
	lh_result "6/$u/blob-outside-the-token" $? "$(wc -c < "$blob") bytes"
	# another process unwraps it into a token key and uses it
	ks_in=$blob ks_ok "6/$u/unwrap" "$u" "$ks_tool" --token localkeystore \
		secret unwrap --with redis-master-key --as token-key-copy --aes \
		--valid-days 30 --pin-file "$pf"
	ks_ok "6/$u/unwrapped-listed" "$u" "$ks_tool" --token localkeystore \
		secret list --json --pin-file "$pf"
	got=$(python3 -c "
import json, sys
s = {x['name']: x for x in json.load(sys.stdin)['secrets']}
k = s['token-key-copy']
print(k['type'], k['bits'], k['sensitive'], k['local'], k['end_date'], 'encrypt' in k['usages'])" < "$ks_o" 2>&1)
	[ "$got" = "aes 256 True False $end True" ]
	lh_result "6/$u/unwrapped-attrs" $? "got '$got'"
	# pkcs11-tool finds a key for --encrypt/--decrypt by CKA_ID only
	# (--label is ignored there): the ids, in hex
	copy_id=$(python3 -c "
import json, sys
s = {x['name']: x for x in json.load(sys.stdin)['secrets']}
print(s['token-key-copy']['id'].encode().hex())" < "$ks_o" 2>/dev/null)
	orig_id=$(python3 -c "
import json, sys
s = {x['name']: x for x in json.load(sys.stdin)['secrets']}
print(s['token-key']['id'].encode().hex())" < "$ks_o" 2>/dev/null)
	if [ -n "$have_p11" ]; then
		p=$(cat "$pf")
		printf 'transfer token for %s, 2025\n' "$u" > "$lh_tmp/plain-$u"
		ks_preload=1 ks_ok "6/$u/encrypt" "$u" pkcs11-tool --module "$ks_mod" --token-label localkeystore \
			--login --pin "$p" --encrypt --id "$copy_id" \
			-m AES-CBC-PAD --iv "$IV" -i "$lh_tmp/plain-$u" \
			-o "$KH/$u/token.enc"
		ks_preload=1 ks_ok "6/$u/decrypt" "$u" pkcs11-tool --module "$ks_mod" --token-label localkeystore \
			--login --pin "$p" --decrypt --id "$copy_id" \
			-m AES-CBC-PAD --iv "$IV" -i "$KH/$u/token.enc" \
			-o "$KH/$u/token.dec"
		cmp -s "$lh_tmp/plain-$u" "$KH/$u/token.dec" &&
			! cmp -s "$lh_tmp/plain-$u" "$KH/$u/token.enc"
		lh_result "6/$u/round-trip" $?
		# the original token-key decrypts what its copy encrypted
		ks_preload=1 ks_ok "6/$u/decrypt-with-original" "$u" pkcs11-tool \
			--module "$ks_mod" --token-label localkeystore --login --pin "$p" --decrypt \
			--id "$orig_id" -m AES-CBC-PAD --iv "$IV" \
			-i "$KH/$u/token.enc" -o "$KH/$u/token.dec2"
		cmp -s "$lh_tmp/plain-$u" "$KH/$u/token.dec2"
		lh_result "6/$u/same-key" $?
		ks_preload=1 ks_as "$u" pkcs11-tool --module "$ks_mod" --token-label localkeystore --login \
			--pin "$p" --read-object --type secrkey --id "$copy_id" \
			-o "$KH/$u/value"
		st=$?
		[ -n "$copy_id" ] && [ $st -ne 0 ] && [ $st -lt 128 ] &&
			[ ! -s "$KH/$u/value" ]
		lh_result "6/$u/copy-value-unreadable" $? "$(ks_diag $st)"
	else
		for n in encrypt decrypt round-trip decrypt-with-original same-key \
			copy-value-unreadable; do
			lh_skip "6/$u/$n" "pkcs11-tool not found (Debian package opensc)"
		done
	fi
done

# the service user keeps access-key data in Redis sealed under the master key
if [ -n "$SVC" ]; then
	pf=$(ks_upin "$SVC")
	printf 'access key secret data for %s\n' "$SVC" > "$lh_tmp/access-key"
	ks_in=$lh_tmp/access-key ks_ok "6/$SVC/encrypt-access-key" "$SVC" \
		"$ks_tool" --token localkeystore secret encrypt \
		--with redis-master-key --pin-file "$pf"
	cp "$ks_o" "$lh_tmp/access-key.lhs"
	ks_in=$lh_tmp/access-key.lhs ks_ok "6/$SVC/decrypt-access-key" "$SVC" \
		"$ks_tool" --token localkeystore secret decrypt \
		--with redis-master-key --pin-file "$pf"
	cmp -s "$ks_o" "$lh_tmp/access-key"
	lh_result "6/$SVC/access-key-round-trip" $?
	# a transfer user's keystore holds the same master key: it opens it
	ks_in=$lh_tmp/access-key.lhs ks_ok "6/$X1/opens-service-data" "$X1" \
		"$ks_tool" --token localkeystore secret decrypt \
		--with redis-master-key --pin-file "$(ks_upin "$X1")"
	cmp -s "$ks_o" "$lh_tmp/access-key"
	lh_result "6/$X1/same-master-key" $?
else
	lh_skip "6/service-user" "needs root"
fi

# ---- no key value anywhere ------------------------------------------------------------------

# the values, raw too (a key in binary in some output would not be text)
python3 - "$lh_tmp/redis_master_key_file" "$lt_log" "$lt_secrets" \
	> "$lh_tmp/leaks" 2>&1 <<'EOF'
import base64, os, sys
mk = base64.b64decode(open(sys.argv[1]).read())
needles = [mk, mk.hex().encode(), mk.hex().upper().encode()]
needles += [l for l in open(sys.argv[3], 'rb').read().split(b'\n') if l]
for f in sorted(os.listdir(sys.argv[2])):
    data = open(os.path.join(sys.argv[2], f), 'rb').read()
    for n in needles:
        if n in data:
            print('%s holds a secret value' % f)
EOF
[ $? -eq 0 ] && [ ! -s "$lh_tmp/leaks" ]
lh_result no-value/in-any-output $? "$(head -n 5 "$lh_tmp/leaks")" \
	"outputs kept in $lt_log ($lt_step steps)"
[ "$lt_step" -gt 10 ]
lh_result no-value/outputs-were-checked $? "$lt_step outputs"
find "$KD" "$KH" -name '*.db*' -type f > "$lh_tmp/dbs"
python3 - "$lh_tmp/redis_master_key_file" "$lh_tmp/dbs" "$v_ssear1" "$v_ssear2" \
	> "$lh_tmp/leaks2" 2>&1 <<'EOF'
import base64, sys
mk = base64.b64decode(open(sys.argv[1]).read())
needles = [mk, base64.b64encode(mk), sys.argv[3].encode(), sys.argv[4].encode()]
for f in open(sys.argv[2]).read().split():
    data = open(f, 'rb').read()
    for n in needles:
        if n in data:
            print('%s holds a secret value in clear' % f)
EOF
[ $? -eq 0 ] && [ ! -s "$lh_tmp/leaks2" ] && [ -s "$lh_tmp/dbs" ]
lh_result no-value/in-token-files $? "$(cat "$lh_tmp/leaks2")"
grep -aqF -e "$mk_b64" -e "$v_ssear1" -r "$KH" 2>/dev/null
[ $? -eq 1 ]
lh_result no-value/in-users-homes $?

lh_finish
