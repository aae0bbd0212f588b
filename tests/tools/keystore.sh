#!/bin/bash
# keystore.sh - litehsm keystore init, sync, status and restore-user, and
# the keystore mode of the secret commands (--user U / --shared): every
# success path and every bad input of issue 4, each checked for its exit
# code, its one stderr line "litehsm: ...; ..." and that nothing changed
# (keystore status --json and secret list --json before and after, and for
# the refusals that must not touch a token, the token files themselves).
#
# As root (CI) the keystore users are existing system accounts without a
# login (daemon, bin, sys) and the checks "as the user" run pkcs11-tool and
# the tool itself under setpriv with that user's uid and gid and their
# default module settings (XDG_DATA_HOME), on copies of the module and the
# tool in a world-readable directory.  Everything lives below a temporary
# directory: LITEHSM_KEYSTORE_DIR and LITEHSM_KEYSTORE_HOME point there.
# As an ordinary user the script tests what one user can: its own
# keystore, and that another user's is refused; the rest is skipped.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/keystore-lib.sh"

# lk_fails NAME CODES TEXT ARGS...: as lt_fails, but the exit status may be
# any of CODES ("1|4") where the contract leaves it open.
lk_fails () {
	local name=$1 codes=$2 text=$3 st lines
	shift 3
	lt "$@"
	st=$?
	lines=$(wc -l < "$lt_err")
	if echo "$st" | grep -qxE "$codes" && [ "$lines" -eq 1 ] &&
	   LC_ALL=C grep -aq '^litehsm: .*; ' "$lt_err" &&
	   grep -aqF -- "$text" "$lt_err"; then
		lh_ok "$name"
		return 0
	fi
	lh_not_ok "$name" "expected exit $codes and one stderr line with: $text" \
		"$(lt_diag $st)"
	return 1
}

# lt_hasnt NAME ERE: no line of the last stdout matches.
lt_hasnt () {
	if ! grep -qE -- "$2" "$lt_out"; then
		lh_ok "$1"
		return 0
	fi
	lh_not_ok "$1" "a line of stdout matches /$2/" "$(lt_diag -)"
	return 1
}

# ---- where the keystores live ----------------------------------------------------

ROOT_DB=$KD/rootkeystore.db

# The keystore users.  As root: daemon, bin and sys (no login); else only
# the caller.  U1 is the main user, U2 gets an admin-given PIN, U3 gets its
# keystore made by "secret set --user".
if [ -n "$ks_root" ]; then
	U1=daemon U2=bin U3=sys
	USERS="$U1 $U2 $U3"
else
	U1=$(id -un) U2= U3=
	USERS=$U1
fi
ks_homes $USERS                   # a home directory as the system would have it
other_user=root                   # somebody the caller is not
[ -n "$ks_root" ] && other_user=$U2

ks_skip () {
	lh_skip "$1" "needs root"
}

ks_db () {
	echo "$KH/$1/litehsm/tokens/localkeystore.db"
}
ks_pinpath () {
	echo "$KH/$1/litehsm/localkeystore.pin"
}

# ---- PINs and values ----------------------------------------------------------------

lt_pinfile rso root-so-pin-71
lt_pinfile rpin root-user-pin-72
lt_pinfile rbad wrong-root-pin-9
lt_pinfile u2pin bin-user-pin-43
R="--pin-file $lh_tmp/rpin"
RS="--pin-file $lh_tmp/rpin --so-pin-file $lh_tmp/rso"

v_ssear1=ssear-daemon-5e1f08
v_ssear1b=ssear-daemon-new-77a1
v_ssear3=ssear-sys-c3d2e1
printf %s "$v_ssear1" > "$lh_tmp/ssear1"
printf %s "$v_ssear1b" > "$lh_tmp/ssear1b"
printf %s "$v_ssear3" > "$lh_tmp/ssear3"
openssl rand -base64 32 | tr -d '\n' > "$lh_tmp/mk.b64"
openssl rand -base64 31 | tr -d '\n' > "$lh_tmp/mk31.b64"
openssl rand -base64 33 | tr -d '\n' > "$lh_tmp/mk33.b64"
head -c 31 /dev/zero | tr '\0' k > "$lh_tmp/raw31"
printf '%s' '!!not*base64!!' > "$lh_tmp/badb64"
head -c 513 /dev/zero | tr '\0' x > "$lh_tmp/v513"
: > "$lh_tmp/empty"
lt_secret "$v_ssear1" "$v_ssear1b" "$v_ssear3" "$(cat "$lh_tmp/mk.b64")"
printf 'access-key data for redis\n' > "$lh_tmp/data"

# ---- snapshots -------------------------------------------------------------------------

# ks_snap FILE: what the keystores hold (status and list, JSON; no values).
ks_snap () {
	{
		"$lt_tool" keystore status --json $R 2>&1
		"$lt_tool" secret list --json $R 2>&1
	} > "$1"
}

# ks_files FILE: the keystore files: names, owners, modes, sizes, hashes.
ks_files () {
	local f
	{
		find "$KD" "$KH" -printf '%P %u %m %s\n' 2>/dev/null |
			grep -v -e '-wal ' -e '-shm ' -e '-journal ' | sort
		find "$KD" "$KH" -name '*.db' 2>/dev/null | sort |
			while read -r f; do sha256sum "$f"; done
	} > "$1"
}

# ks_all_ok NAME: every keystore's state is ok.
ks_all_ok () {
	ks_check "$1" "sorted((u, k['state']) for u, k in ks.items())" \
		"$(python3 -c "import sys; print(sorted((u, 'ok') for u in sys.argv[1:]))" $USERS 2>/dev/null)"
}

# ---- running as a keystore user ------------------------------------------------------------

# ks_no NAME USER TEXT CMD...: fails cleanly (1..127), TEXT in its output.
ks_no () {
	local name=$1 u=$2 text=$3 st
	shift 3
	ks_as "$u" "$@"
	st=$?
	if [ $st -gt 0 ] && [ $st -lt 128 ] &&
	   { [ -z "$text" ] || grep -aqF -- "$text" "$ks_o" "$ks_e"; }; then
		lh_ok "$name"
		return 0
	fi
	lh_not_ok "$name" "expected a clean failure mentioning: $text" "$(ks_diag $st)"
	return 1
}

ks_has () {
	if grep -aqE -- "$2" "$ks_o"; then
		lh_ok "$1"
		return 0
	fi
	lh_not_ok "$1" "no line of stdout matches /$2/" "$(ks_diag -)"
	return 1
}

ks_hasnt () {
	if ! grep -aqE -- "$2" "$ks_o" "$ks_e"; then
		lh_ok "$1"
		return 0
	fi
	lh_not_ok "$1" "a line of the output matches /$2/" "$(ks_diag -)"
	return 1
}

# ks_p11 USER ARGS...: the user's pkcs11-tool on its local keystore.
ks_p11 () {
	local u=$1
	shift
	ks_preload=1 ks_as "$u" pkcs11-tool --module "$ks_mod" --token-label localkeystore "$@"
}

# ks_upin USER: the file with USER's local keystore PIN, readable by USER.
ks_upin () {
	if [ "$1" = "$U2" ]; then
		echo "$KH/$1/user.pin"
	else
		ks_pinpath "$1"
	fi
}

# ks_list_py USER EXPR: EXPR over "secret list --json" run as USER on its
# local keystore, with j and s (name -> secret).
ks_list_py () {
	command -v python3 > /dev/null 2>&1 || return 0
	ks_tool "$1" --token localkeystore secret list --json \
		--pin-file "$(ks_upin "$1")" || { cat "$ks_e"; return 0; }
	python3 -c "
import json, sys
j = json.load(sys.stdin)
s = {x['name']: x for x in j['secrets']}
print($2)" < "$ks_o" 2>&1
}

ks_list_check () {
	local got
	if ! command -v python3 > /dev/null 2>&1; then
		lh_skip "$1" "python3 not found (Debian package python3)"
		return 0
	fi
	got=$(ks_list_py "$2" "$3")
	if [ "$got" = "$4" ]; then
		lh_ok "$1"
	else
		lh_not_ok "$1" "as $2: $3: got '$got', want '$4'"
	fi
}

# ---- help and the command line ------------------------------------------------------------

lt_ok help/keystore keystore --help
for c in init sync status restore-user; do
	lt_ok "help/$c" keystore "$c" --help
	lt_has "help/$c-usage" "^Usage: litehsm keystore $c"
done
lt_ok help/top --help
lt_has help/top-keystore '^  keystore '
lt_fails cli/no-subcommand 2 "'keystore' needs a command" keystore
lt_fails cli/unknown-subcommand 2 "unknown command 'keystore frob'" keystore frob
lt_fails cli/init-neither 2 "--root" keystore init $RS
lt_fails cli/status-with-token 2 "--token" \
	keystore status --token rootkeystore $R
lt_in=$lh_tmp/ssear1 lt_fails cli/user-with-token 2 \
	"works on the keystores, not on a token named with --token" \
	secret set ssear --user "$U1" --token rootkeystore $R
lt_fails cli/shared-with-token-uri 2 \
	"works on the keystores, not on a token named with --token" \
	secret list --shared --token-uri "pkcs11:token=rootkeystore" $R
lt_fails cli/user-and-shared 2 "--shared" \
	secret list --user "$U1" --shared $R
lt_fails cli/pin-in-argv 2 "PINs are never taken from the command line" \
	keystore init --root --pin root-user-pin-72

# ---- no root keystore yet --------------------------------------------------------------------

ks_files "$lh_tmp/f0"
nork="no root keystore in $KD; create it with 'litehsm keystore init --root'"
lt_fails noroot/status 4 "$nork" keystore status $R
lt_fails noroot/sync 4 "$nork" keystore sync $R
lt_fails noroot/init-user 4 "$nork" keystore init --user "$U1" $RS
lt_fails noroot/restore-user 4 "$nork" keystore restore-user --user "$U1" $RS
lt_in=$lh_tmp/ssear1 lt_fails noroot/secret-set 4 "$nork" \
	secret set ssear --user "$U1" $RS
lt_fails noroot/secret-generate 4 "$nork" \
	secret generate redis-master-key --bits 256 --shared $R
# (a dual-mode command: "needs a token or a root keystore" is fine too)
lk_fails noroot/secret-list '2|4' "root keystore" secret list $R
ks_files "$lh_tmp/f1"
lt_same noroot/nothing-created "$lh_tmp/f0" "$lh_tmp/f1"

# ---- keystore init --root --------------------------------------------------------------------

lt_fails init-root/no-pins 2 "--so-pin-file" keystore init --root
[ ! -e "$ROOT_DB" ]
lh_result init-root/no-pins-nothing-made $?
if [ -n "$ks_root" ]; then
	ks_no init-root/not-root "$U1" "only root creates the root keystore" \
		"$ks_tool" keystore init --root --pin-file /dev/null
else
	ks_skip init-root/not-root
fi
lt_ok init-root/ok keystore init --root $RS
lt_has init-root/text "^Created the root keystore $ROOT_DB \(serial [0-9a-f]+\)\.$"
[ "$(stat -c '%u %a' "$ROOT_DB" 2>&1)" = "$(id -u) 600" ]
lh_result init-root/file-0600 $? "$(ls -ld "$KD" "$ROOT_DB" 2>&1)"
ks_files "$lh_tmp/f2"
lt_fails init-root/exists 1 "a root keystore exists already ($ROOT_DB)" \
	keystore init --root $RS
ks_files "$lh_tmp/f3"
lt_same init-root/exists-changes-nothing "$lh_tmp/f2" "$lh_tmp/f3"

lt_ok status/empty keystore status $R
lt_ok status/empty-json keystore status --json $R
lt_json status/empty-json-parses
ks_check status/empty-root 'j["root"]["path"], len(j["root"]["serial"]) > 0, j["keystores"]' \
	"$ROOT_DB True []"
lt_fails status/wrong-pin 3 "the PIN is incorrect (CKR_PIN_INCORRECT)" \
	keystore status --pin-file "$lh_tmp/rbad"
lt_ok status/right-pin-after-wrong keystore status $R
lt_fails status/no-pin-no-tty 2 "--pin-file" keystore status

# ---- keystore init --user --------------------------------------------------------------------

U1_DB=$(ks_db "$U1")
ks_files "$lh_tmp/f4"
ks_snap "$lh_tmp/s02"
lt_fails init-user/no-so-pin 2 "--so-pin-file" keystore init --user "$U1" $R
lt_fails init-user/unknown-user 4 'no user named "no-such-user-lh4"' \
	keystore init --user no-such-user-lh4 $RS
lt_fails init-user/bad-name 2 '"a@b" is not a user name' \
	keystore init --user a@b $RS
ks_files "$lh_tmp/f5"
ks_snap "$lh_tmp/s03"
lt_same init-user/refusals-register-nothing "$lh_tmp/s02" "$lh_tmp/s03"
lt_same init-user/refusals-change-nothing "$lh_tmp/f4" "$lh_tmp/f5"
ks_snap "$lh_tmp/s00"
lt_fails init-user/wrong-so-pin 3 "the PIN is incorrect" \
	keystore init --user "$U1" --pin-file "$lh_tmp/rpin" --so-pin-file "$lh_tmp/rbad"
[ ! -e "$KH/$U1/litehsm" ]
lh_result init-user/wrong-so-pin-nothing-made $? "$(ls -lR "$KH/$U1" 2>&1)"
ks_snap "$lh_tmp/s01"
lt_same init-user/wrong-so-pin-changes-nothing "$lh_tmp/s00" "$lh_tmp/s01"

lt_ok init-user/ok keystore init --user "$U1" $RS
lt_has init-user/text "^Created $U1's local keystore $U1_DB; copied 0 shared and 0 own secret\(s\)\.$"
lt_has init-user/pin-file-line "PIN file: $(ks_pinpath "$U1")"
lt_has init-user/uri "pkcs11:token=localkeystore"
u1uid=$(id -u "$U1")
[ "$(stat -c '%u %a' "$U1_DB" 2>&1)" = "$u1uid 600" ]
lh_result init-user/file-owner-0600 $? "$(ls -ln "$U1_DB" 2>&1)"
[ "$(stat -c '%u %a' "$KH/$U1/litehsm" 2>&1)" = "$u1uid 700" ] &&
	[ "$(stat -c '%u %a' "$KH/$U1/litehsm/tokens" 2>&1)" = "$u1uid 700" ]
lh_result init-user/dirs-owner-0700 $? "$(ls -lnd "$KH/$U1/litehsm" "$KH/$U1/litehsm/tokens" 2>&1)"
[ "$(stat -c '%u %a' "$(ks_pinpath "$U1")" 2>&1)" = "$u1uid 400" ] &&
	[ -s "$(ks_pinpath "$U1")" ]
lh_result init-user/pin-file-owner-0400 $? "$(ls -ln "$(ks_pinpath "$U1")" 2>&1)"
[ -s "$(ks_pinpath "$U1")" ] && lt_secret "$(cat "$(ks_pinpath "$U1")")"
ks_check init-user/status "ks['$U1']['path'], ks['$U1']['state']" "$U1_DB ok"

ks_snap "$lh_tmp/s0"
ks_files "$lh_tmp/f6"
lt_fails init-user/exists 1 "already has a local keystore ($U1_DB)" \
	keystore init --user "$U1" $RS
grep -qF -e "'litehsm keystore sync --user $U1'" "$lt_err" &&
	grep -qF -e "--force" "$lt_err"
lh_result init-user/exists-hint-names-user $? \
	"want the hint \"use 'litehsm keystore sync --user $U1', or --force to make a new one\"" \
	"$(cat "$lt_err")"
ks_snap "$lh_tmp/s1"
ks_files "$lh_tmp/f7"
lt_same init-user/exists-changes-nothing "$lh_tmp/s0" "$lh_tmp/s1"
lt_same init-user/exists-files-unchanged "$lh_tmp/f6" "$lh_tmp/f7"

if [ -n "$ks_root" ]; then
	U2_DB=$(ks_db "$U2")
	lt_ok init-user/new-pin-file keystore init --user "$U2" \
		--new-pin-file "$lh_tmp/u2pin" $RS
	lt_has init-user/new-pin-text "^Created $U2's local keystore $U2_DB;"
	lt_hasnt init-user/new-pin-no-pin-file-line "PIN file:"
	[ ! -e "$(ks_pinpath "$U2")" ]
	lh_result init-user/new-pin-no-file-written $?
	# U2's PIN where U2 can read it, for the checks as U2
	cp "$lh_tmp/u2pin" "$KH/$U2/user.pin"
	chown "$(id -u "$U2")" "$KH/$U2/user.pin"
	chmod 0400 "$KH/$U2/user.pin"
	ks_check init-user/two "sorted(ks)" "$(python3 -c "import sys; print(sorted(sys.argv[1:]))" "$U1" "$U2" 2>/dev/null)"

	# somebody else than root
	ks_files "$lh_tmp/f8"
	ks_no init-user/as-other-user "$U1" \
		"only root can manage the keystore of user \"$U2\"; run it as root (sudo)" \
		env LITEHSM_KEYSTORE_DIR="$KD" LITEHSM_KEYSTORE_HOME="$KH" \
		"$ks_tool" keystore init --user "$U2" --pin-file /dev/null \
		--so-pin-file /dev/null
	[ "$(wc -l < "$ks_e")" -eq 1 ] && grep -q '^litehsm: .*; ' "$ks_e"
	lh_result init-user/as-other-user-one-line $? "$(ks_diag -)"
	ks_in=$lh_tmp/ssear1 ks_no secret-set/as-other-user "$U1" \
		"only root can manage the keystore of user \"$U2\"" \
		env LITEHSM_KEYSTORE_DIR="$KD" LITEHSM_KEYSTORE_HOME="$KH" \
		"$ks_tool" secret set ssear --user "$U2" --pin-file /dev/null
	ks_no status/as-other-user-no-root "$U1" "root keystore" \
		env LITEHSM_KEYSTORE_DIR="$KD" LITEHSM_KEYSTORE_HOME="$KH" \
		"$ks_tool" keystore status --pin-file /dev/null
	ks_files "$lh_tmp/f9"
	lt_same init-user/as-other-user-changes-nothing "$lh_tmp/f8" "$lh_tmp/f9"
else
	for n in new-pin-file new-pin-text new-pin-no-pin-file-line \
		new-pin-no-file-written two as-other-user-changes-nothing; do
		ks_skip "init-user/$n"
	done
	# the caller managing somebody else's keystore
	lt_fails init-user/as-other-user 2 \
		"only root can manage the keystore of user \"$other_user\"; run it as root (sudo)" \
		keystore init --user "$other_user" $RS
	lt_in=$lh_tmp/ssear1 lt_fails secret-set/as-other-user 2 \
		"only root can manage the keystore of user \"$other_user\"" \
		secret set ssear --user "$other_user" $RS
fi

# ---- secrets of one user ------------------------------------------------------------------

ks_snap "$lh_tmp/s2"
ks_files "$lh_tmp/f10"
lt_in=$lh_tmp/empty lt_fails set/empty-stdin 2 "no value on stdin (it is empty)" \
	secret set ssear --user "$U1" $R
lt_fails set/no-stdin 2 "no value on stdin (it is empty)" \
	secret set ssear --user "$U1" $R
lt_in=$lh_tmp/v513 lt_fails set/too-long 2 "longer than 512 bytes" \
	secret set ssear --user "$U1" $R
lt_in=$lh_tmp/badb64 lt_fails set/bad-base64 2 "not valid base64" \
	secret set ssear --user "$U1" --base64 $R
lt_in=$lh_tmp/ssear1 lt_fails set/name-with-at 2 "@" \
	secret set ss@ear --user "$U1" $R
lt_in=$lh_tmp/ssear1 lt_fails set/unknown-user 4 'no user named "no-such-user-lh4"' \
	secret set ssear --user no-such-user-lh4 $RS
lt_in=$lh_tmp/ssear1 lt_fails set/wrong-pin 3 "the PIN is incorrect" \
	secret set ssear --user "$U1" --pin-file "$lh_tmp/rbad"
lt_ok set/right-pin-after-wrong keystore status $R
ks_snap "$lh_tmp/s3"
ks_files "$lh_tmp/f11"
lt_same set/refusals-change-nothing "$lh_tmp/s2" "$lh_tmp/s3"
# (the wrong PIN changed the root keystore's failure count: no file check)

lt_in=$lh_tmp/ssear1 lt_ok set/ok secret set ssear --user "$U1" $R
ks_check set/copied "states('$U1', 'ssear'), [s['shared'] for s in sec('$U1', 'ssear')], ks['$U1']['state']" \
	"[(1, 'held')] [False] ok"
ks_list_check set/local-attrs "$U1" \
	's["ssear"]["type"], s["ssear"]["sensitive"], s["ssear"]["private"], s["ssear"]["usages"]' \
	"generic True True ['derive']"
ks_list_check set/local-no-value-shown "$U1" '"value_base64" in s["ssear"]' False

ks_snap "$lh_tmp/s4"
lt_in=$lh_tmp/ssear1b lt_fails set/exists 1 "already exists" \
	secret set ssear --user "$U1" $R
grep -qF -- "--force" "$lt_err"
lh_result set/exists-names-force $? "$(cat "$lt_err")"
ks_snap "$lh_tmp/s5"
lt_same set/exists-changes-nothing "$lh_tmp/s4" "$lh_tmp/s5"
old_id=$(ks_py "ids('$U1', 'ssear')")
lt_in=$lh_tmp/ssear1b lt_ok set/force secret set ssear --user "$U1" --force $R
ks_check set/force-one-version-held "len(sec('$U1', 'ssear')), [s['state'] for s in sec('$U1', 'ssear')]" \
	"1 ['held']"
new_id=$(ks_py "ids('$U1', 'ssear')")
[ -n "$new_id" ] && [ "$new_id" != "$old_id" ]
lh_result set/force-new-id $? "before $old_id, after $new_id"

# a user without a keystore: secret set makes it (with the root SO PIN)
if [ -n "$ks_root" ]; then
	ks_snap "$lh_tmp/s6"
	ks_files "$lh_tmp/f12"
	lt_in=$lh_tmp/ssear3 lt_fails set/new-user-no-so-pin 2 "--so-pin-file" \
		secret set ssear --user "$U3" $R
	ks_snap "$lh_tmp/s7"
	ks_files "$lh_tmp/f13"
	lt_same set/new-user-no-so-pin-changes-nothing "$lh_tmp/s6" "$lh_tmp/s7"
	lt_same set/new-user-no-so-pin-no-files "$lh_tmp/f12" "$lh_tmp/f13"
	lt_in=$lh_tmp/ssear3 lt_ok set/new-user secret set ssear --user "$U3" $RS
	[ "$(stat -c '%u %a' "$(ks_db "$U3")" 2>&1)" = "$(id -u "$U3") 600" ]
	lh_result set/new-user-keystore-made $? "$(ls -ln "$(ks_db "$U3")" 2>&1)"
	[ -s "$(ks_pinpath "$U3")" ] && lt_secret "$(cat "$(ks_pinpath "$U3")")"
	ks_check set/new-user-status "ks['$U3']['state'], states('$U3', 'ssear')" \
		"ok [(1, 'held')]"
	if [ ! -s "$(ks_db "$U3")" ]; then
		lh_diag "repairing $U3's keystore so that the tests below run"
		lt_in=$lh_tmp/ssear3 lt secret set ssear --user "$U3" --force $RS
		lt keystore init --user "$U3" --force $RS
		[ -s "$(ks_pinpath "$U3")" ] && lt_secret "$(cat "$(ks_pinpath "$U3")")"
	fi
else
	for n in new-user-no-so-pin new-user-no-so-pin-changes-nothing \
		new-user-no-so-pin-no-files new-user new-user-keystore-made \
		new-user-status; do
		ks_skip "set/$n"
	done
fi

# ---- the shared redis-master-key ------------------------------------------------------------

rmk="redis-master-key must be exactly 256 bits (32 bytes)"
ks_snap "$lh_tmp/s8"
ks_files "$lh_tmp/f14"
lt_in=$lh_tmp/mk31.b64 lt_fails shared/31-bytes 2 "$rmk" \
	secret set redis-master-key --shared --base64 $R
lt_in=$lh_tmp/mk33.b64 lt_fails shared/33-bytes 2 "$rmk" \
	secret set redis-master-key --shared --base64 $R
lt_in=$lh_tmp/raw31 lt_fails shared/31-raw-bytes 2 "$rmk" \
	secret set redis-master-key --shared $R
lt_in=$lh_tmp/mk.b64 lt_fails shared/44-bytes-without-base64 2 "$rmk" \
	secret set redis-master-key --shared $R
lt_in=$lh_tmp/badb64 lt_fails shared/bad-base64 2 "not valid base64" \
	secret set redis-master-key --shared --base64 $R
lt_in=$lh_tmp/empty lt_fails shared/empty-stdin 2 "no value on stdin (it is empty)" \
	secret set redis-master-key --shared --base64 $R
lt_fails shared/generate-128 2 "$rmk" \
	secret generate redis-master-key --bits 128 --shared $R
lt_fails shared/token-key-bits 2 "100" \
	secret generate token-key --user "$U1" --bits 100 $R
ks_snap "$lh_tmp/s9"
ks_files "$lh_tmp/f15"
lt_same shared/refusals-change-nothing "$lh_tmp/s8" "$lh_tmp/s9"
lt_same shared/refusals-files-unchanged "$lh_tmp/f14" "$lh_tmp/f15"

lt_ok shared/generate secret generate redis-master-key --bits 256 --shared $R
for u in $USERS; do
	ks_check "shared/generate-copied-$u" \
		"states('$u', 'redis-master-key'), [s['shared'] for s in sec('$u', 'redis-master-key')], ks['$u']['state']" \
		"[(1, 'held')] [True] ok"
done
ks_list_check shared/local-attrs "$U1" \
	's["redis-master-key"]["type"], s["redis-master-key"]["bits"], s["redis-master-key"]["sensitive"], s["redis-master-key"]["extractable"], s["redis-master-key"]["private"], s["redis-master-key"]["usages"]' \
	"aes 256 True False False ['wrap', 'unwrap', 'derive']"

ks_snap "$lh_tmp/s10"
lt_fails shared/generate-exists 1 "already exists" \
	secret generate redis-master-key --bits 256 --shared $R
lt_in=$lh_tmp/mk.b64 lt_fails shared/set-exists 1 "already exists" \
	secret set redis-master-key --shared --base64 $R
ks_snap "$lh_tmp/s11"
lt_same shared/exists-changes-nothing "$lh_tmp/s10" "$lh_tmp/s11"

old_id=$(ks_py "ids('$U1', 'redis-master-key')")
lt_in=$lh_tmp/mk.b64 lt_ok shared/set-force \
	secret set redis-master-key --shared --base64 --force $R
new_id=$(ks_py "ids('$U1', 'redis-master-key')")
[ -n "$new_id" ] && [ "$new_id" != "$old_id" ]
lh_result shared/set-force-new-id $? "before $old_id, after $new_id"
for u in $USERS; do
	ks_check "shared/set-force-copied-$u" \
		"ids('$u', 'redis-master-key') == ids('$U1', 'redis-master-key'), [s['state'] for s in sec('$u', 'redis-master-key')]" \
		"True ['held']"
done
ks_list_check shared/set-force-local-attrs "$U1" \
	's["redis-master-key"]["bits"], s["redis-master-key"]["sensitive"], s["redis-master-key"]["extractable"], s["redis-master-key"]["usages"]' \
	"256 True False ['wrap', 'unwrap', 'derive']"

# ---- token keys, rotate, list, show, rm ----------------------------------------------------

lt_ok token-key/generate secret generate token-key --user "$U1" --bits 256 \
	--valid-days 30 $R
today=$(date -u +%Y-%m-%d)
end=$(date -u -d "+30 days" +%Y-%m-%d 2>/dev/null || echo "")
ks_check token-key/copied "states('$U1', 'token-key')" "[(1, 'held')]"
ks_list_check token-key/local-attrs "$U1" \
	's["token-key"]["type"], s["token-key"]["bits"], s["token-key"]["sensitive"], s["token-key"]["private"], s["token-key"]["start_date"], s["token-key"]["end_date"], "encrypt" in s["token-key"]["usages"]' \
	"aes 256 True True $today $end True"
if [ -n "$ks_root" ]; then
	lt_ok token-key/generate-u2 secret generate token-key --user "$U2" \
		--bits 256 --valid-days 30 $R
	ks_check token-key/not-in-other-keystores \
		"states('$U2', 'token-key'), states('$U3', 'token-key')" "[(1, 'held')] []"
else
	ks_skip token-key/generate-u2
	ks_skip token-key/not-in-other-keystores
fi

lt_ok rotate/ok secret rotate token-key --user "$U1" $R
ks_check rotate/both-held "states('$U1', 'token-key')" "[(1, 'held'), (2, 'held')]"
ks_list_check rotate/local-retired "$U1" \
	'sorted((v["version"], "encrypt" in v["usages"], "decrypt" in v["usages"]) for v in s["token-key"]["versions"])' \
	"[(1, False, True), (2, True, True)]"
lt_fails rotate/missing 4 'no secret named "nope"' secret rotate nope --user "$U1" $R

lt_ok list/user secret list --user "$U1" $R
lt_has list/user-token-key '^token-key '
lt_ok list/user-json secret list --user "$U1" --json $R
lt_json list/user-json-parses
lt_ok list/shared-json secret list --shared --json $R
lt_json list/shared-json-parses
lt_has list/shared-names-master-key '"redis-master-key"'
lt_hasnt list/shared-not-user-secrets '"ssear"'
lt_ok list/all secret list $R
lt_has list/all-owner "$U1"
lt_ok show/json secret show token-key --user "$U1" --json $R
lt_json show/json-parses
lt_hasnt show/no-value '"value_base64"'
lt_ok show/version secret show token-key --user "$U1" --version 1 $R

lt_ok rm/shared-setup secret generate scratch-key --bits 256 --shared $R
for u in $USERS; do
	ks_check "rm/shared-setup-copied-$u" "states('$u', 'scratch-key')" "[(1, 'held')]"
done
lt_fails rm/missing 4 'no secret named "nope"' secret rm nope --shared --yes $R
lt_ok rm/shared secret rm scratch-key --shared --yes $R
for u in $USERS; do
	ks_check "rm/shared-gone-$u" "states('$u', 'scratch-key'), ks['$u']['state']" "[] ok"
done
ks_list_check rm/shared-gone-locally "$U1" '"scratch-key" in s' False
lt_ok rm/version secret rm token-key --user "$U1" --version 1 --yes $R
ks_check rm/version-gone "states('$U1', 'token-key')" "[(2, 'held')]"
ks_list_check rm/version-gone-locally "$U1" \
	'[v["version"] for v in s["token-key"]["versions"]]' "[2]"
lt_ok prune/dry-run secret prune --user "$U1" --dry-run $R

# ---- as the user ------------------------------------------------------------------------

u1pin=$(ks_upin "$U1")
p1=$(cat "$u1pin" 2>/dev/null)
ks_ok as-user/token-list "$U1" "$ks_tool" token list
ks_has as-user/sees-local-keystore 'localkeystore'
ks_hasnt as-user/no-root-keystore 'rootkeystore'
if command -v pkcs11-tool > /dev/null 2>&1; then
	ks_p11 "$U1" -L
	st=$?
	lh_result as-user/p11-slots $st "$(ks_diag $st)"
	ks_has as-user/p11-sees-local 'localkeystore'
	ks_hasnt as-user/p11-no-root 'rootkeystore'
	ks_p11 "$U1" -O --login --pin "$p1"
	ks_has as-user/p11-objects-master-key 'label: +redis-master-key'
	ks_has as-user/p11-objects-token-key 'label: +token-key'
	for k in token-key redis-master-key; do
		# (pkcs11-tool finds the object by CKA_ID, in hex)
		kid=$(ks_list_py "$U1" "s['$k']['id'].encode().hex()")
		ks_p11 "$U1" --login --pin "$p1" --read-object --type secrkey \
			--id "$kid" -o "$lh_tmp/read-$k"
		st=$?
		[ -n "$kid" ] && [ $st -ne 0 ] && [ $st -lt 128 ] &&
			[ ! -s "$lh_tmp/read-$k" ] &&
			grep -qE 'SENSITIVE|sensitive|failed' "$ks_o" "$ks_e"
		lh_result "as-user/p11-value-of-$k-unreadable" $? "id '$kid'" "$(ks_diag $st)"
	done
else
	for n in p11-sees-local p11-no-root p11-objects-master-key \
		p11-objects-token-key p11-value-of-token-key-unreadable \
		p11-value-of-redis-master-key-unreadable; do
		lh_skip "as-user/$n" "pkcs11-tool not found (Debian package opensc)"
	done
fi
ks_no as-user/show-value-token-key "$U1" "cannot be shown" "$ks_tool" \
	--token localkeystore secret show token-key --value --pin-file "$u1pin"
ks_no as-user/show-value-master-key "$U1" "cannot be shown" "$ks_tool" \
	--token localkeystore secret show redis-master-key --value --pin-file "$u1pin"
if [ -n "$ks_root" ]; then
	ks_no as-user/root-file-unreadable "$U1" "" cat "$ROOT_DB"
	ks_as "$U1" env LITEHSM_CONF=/dev/null "$ks_tool" token list
	ks_hasnt as-user/root-keystore-not-listed 'rootkeystore'
else
	ks_skip as-user/root-file-unreadable
	ks_skip as-user/root-keystore-not-listed
fi
ks_ok as-user/own-wrapping-key "$U1" "$ks_tool" --token localkeystore \
	secret generate mykey --wrapping --bits 256 --pin-file "$u1pin"
ks_no as-user/wrap-under-own-key-refused "$U1" "cannot wrap" \
	"$ks_tool" --token localkeystore secret wrap token-key --with mykey \
	--pin-file "$u1pin"
grep -qF CKR_KEY_NOT_WRAPPABLE "$ks_e"
lh_result as-user/wrap-under-own-key-names-rv $? "$(cat "$ks_e")"
[ ! -s "$ks_o" ]
lh_result as-user/wrap-under-own-key-no-output $?
ks_ok as-user/wrap-under-master-key "$U1" "$ks_tool" --token localkeystore \
	secret wrap token-key --with redis-master-key --pin-file "$u1pin"
[ "$(wc -c < "$ks_o")" -eq 40 ]
lh_result as-user/wrap-blob-size $? "$(wc -c < "$ks_o") bytes"
ks_no as-user/wrap-master-key-refused "$U1" "cannot wrap" "$ks_tool" \
	--token localkeystore secret wrap redis-master-key --with mykey \
	--pin-file "$u1pin"
if [ -n "$ks_root" ]; then
	ks_ok as-user/u2-wrap-under-master-key "$U2" "$ks_tool" --token localkeystore \
		secret wrap token-key --with redis-master-key --pin-file "$(ks_upin "$U2")"
else
	ks_skip as-user/u2-wrap-under-master-key
fi

# ---- sync and status ------------------------------------------------------------------------

lt_ok sync/all-up-to-date keystore sync $R
for u in $USERS; do
	lt_has "sync/up-to-date-$u" "^$u: up to date$"
done
lt_ok sync/all-flag keystore sync --all $R
lt_ok status/human keystore status $R
for u in $USERS; do
	lt_has "status/human-$u" "$u"
done
lt_has status/human-ok '\bok\b'
lt_ok status/json keystore status --json $R
lt_json status/json-parses
ks_all_ok status/all-ok
lt_ok status/one-user keystore status --user "$U1" --json $R
lt_json status/one-user-json
[ "$(lt_py '[k["user"] for k in j["keystores"]]')" = "['$U1']" ] ||
	! command -v python3 > /dev/null
lh_result status/one-user-only $? "$(head -c 500 "$lt_out")"

# a copy the user deleted: stale, and sync puts it back; the user's own
# key (mykey) is none of sync's business
ks_ok stale/user-deletes-copy "$U1" "$ks_tool" --token localkeystore \
	secret rm ssear --yes --pin-file "$u1pin"
ks_check stale/status "ks['$U1']['state'], [s['state'] for s in sec('$U1', 'ssear')]" "stale ['missing']"
lt_ok stale/status-exit-0 keystore status $R
lt_has stale/status-human "stale"
lt_ok stale/sync keystore sync --user "$U1" $R
lt_has stale/sync-text "^$U1: 1 added, 0 changed, 0 removed$"
ks_check stale/repaired "ks['$U1']['state'], [s['state'] for s in sec('$U1', 'ssear')]" "ok ['held']"
ks_list_check stale/own-key-kept "$U1" '"mykey" in s, "ssear" in s' "True True"

# sync of a user without a keystore
lk_fails sync/unknown-user 4 'no user named "no-such-user-lh4"' \
	keystore sync --user no-such-user-lh4 $R
if [ -n "$ks_root" ]; then
	lk_fails sync/no-keystore '1|4' "nobody" keystore sync --user nobody $R
else
	ks_skip sync/no-keystore
fi

# ---- lost, unreadable, damaged and locked local keystores -------------------------------------

if [ -n "$ks_root" ]; then
	U3_DB=$(ks_db "$U3")
	p3=$(cat "$(ks_pinpath "$U3")" 2>/dev/null)
	# lost
	rm -f "$U3_DB" "$U3_DB-wal" "$U3_DB-shm"
	lt_ok lost/status keystore status $R
	ks_check lost/status-missing "ks['$U3']['state'], ks['$U1']['state']" "missing ok"
	ks_snap "$lh_tmp/s12"
	lt_fails lost/restore-no-so-pin 2 "--so-pin-file" \
		keystore restore-user --user "$U3" $R
	lt_fails lost/restore-unknown 4 'no user named "no-such-user-lh4"' \
		keystore restore-user --user no-such-user-lh4 $RS
	lk_fails lost/restore-unregistered '1|4' "nobody" \
		keystore restore-user --user nobody $RS
	ks_snap "$lh_tmp/s13"
	lt_same lost/refusals-change-nothing "$lh_tmp/s12" "$lh_tmp/s13"
	lt_ok lost/restore keystore restore-user --user "$U3" $RS
	lt_has lost/restore-text "^Restored $U3's local keystore $U3_DB; copied 1 shared and 1 own secret\(s\)\.$"
	ks_check lost/restored "ks['$U3']['state'], [s['state'] for s in sec('$U3', 'ssear') + sec('$U3', 'redis-master-key')]" \
		"ok ['held', 'held']"
	[ "$(stat -c '%u %a' "$U3_DB" 2>&1)" = "$(id -u "$U3") 600" ]
	lh_result lost/restored-owner-0600 $? "$(ls -ln "$U3_DB" 2>&1)"
	# same PIN: U3's applications keep working
	ks_ok lost/same-pin "$U3" "$ks_tool" --token localkeystore secret list \
		--pin-file "$(ks_pinpath "$U3")"
	[ "$(cat "$(ks_pinpath "$U3")" 2>/dev/null)" = "$p3" ]
	lh_result lost/pin-file-unchanged $?

	# damaged: the others are still synced, the failed one is named
	U2_DB=$(ks_db "$U2")
	ks_ok damaged/u1-stale "$U1" "$ks_tool" --token localkeystore \
		secret rm ssear --yes --pin-file "$u1pin"
	cp "$U2_DB" "$lh_tmp/u2.db.good"
	dd if=/dev/urandom of="$U2_DB" bs=1024 count=8 conv=notrunc 2>/dev/null
	rm -f "$U2_DB-wal" "$U2_DB-shm"
	ks_snap "$lh_tmp/s14"
	lt_ok damaged/status keystore status $R
	ks_check damaged/status-unusable "ks['$U2']['state']" unusable
	lt_has damaged/status-human "$U2.*unusable"
	lt_hasnt damaged/status-reason-complete '%s'
	lt_fails damaged/sync 1 "$U2" keystore sync $R
	ks_check damaged/others-synced "ks['$U1']['state'], [s['state'] for s in sec('$U1', 'ssear')], ks['$U3']['state']" \
		"ok ['held'] ok"
	# the root keystore keeps the change; the error says what to run
	# (sync per the contract; restore-user is the better advice here)
	lt_fails damaged/secret-generate-copy-fails 1 "$U2" \
		secret generate token-key --user "$U2" --bits 256 --force $R
	grep -qE "keystore (sync|restore-user --user $U2')" "$lt_err" &&
		! grep -qF '%s' "$lt_err"
	lh_result damaged/secret-generate-says-what-to-run $? "$(cat "$lt_err")"
	ks_check damaged/root-kept-change "ks['$U2']['state']" unusable
	lt_ok damaged/restore keystore restore-user --user "$U2" $RS
	ks_check damaged/restored "ks['$U2']['state'], [s['state'] for s in sec('$U2', 'token-key')]" \
		"ok ['held']"
	ks_ok damaged/same-pin "$U2" "$ks_tool" --token localkeystore secret list \
		--pin-file "$(ks_upin "$U2")"

	# unreadable (to its user: the tool works as the user)
	chmod 000 "$U2_DB"
	lt_ok unreadable/status keystore status $R
	ks_check unreadable/status-unusable "ks['$U2']['state']" unusable
	lt_fails unreadable/sync 1 "$U2" keystore sync --user "$U2" $R
	grep -qF "restore-user" "$lt_err"
	lh_result unreadable/sync-hint $? "want a hint to 'keystore restore-user'" "$(cat "$lt_err")"
	chmod 600 "$U2_DB"
	lt_ok unreadable/fixed keystore sync --user "$U2" $R
	ks_check unreadable/fixed-ok "ks['$U2']['state']" ok

	# locked: U2's applications entered a wrong PIN too often
	for i in 1 2 3; do
		ks_p11 "$U2" --login --pin wrong-pin-0 -O
	done
	lt_ok locked/status keystore status $R
	ks_check locked/status-unusable "ks['$U2']['state']" unusable
	lk_fails locked/sync '1|3' "$U2" keystore sync --user "$U2" $R
	grep -qF "restore-user" "$lt_err"
	lh_result locked/sync-hint $? "want a hint to 'keystore restore-user' (the admin has no local SO PIN)" "$(cat "$lt_err")"
	lt_ok locked/restore keystore restore-user --user "$U2" $RS
	ks_check locked/restored "ks['$U2']['state']" ok
	ks_ok locked/pin-works-again "$U2" "$ks_tool" --token localkeystore \
		secret list --pin-file "$(ks_upin "$U2")"
	ks_all_ok locked/all-ok
else
	for n in lost damaged unreadable locked; do
		ks_skip "$n/other-users-keystores"
	done
fi

# ---- --force: a new local keystore for a user ---------------------------------------------

lt_ok init-user/force keystore init --user "$U1" --force $RS
lt_has init-user/force-text "^Created $U1's local keystore $U1_DB; copied 1 shared and 2 own secret\(s\)\.$"
[ -s "$(ks_pinpath "$U1")" ] && lt_secret "$(cat "$(ks_pinpath "$U1")")"
ks_check init-user/force-ok "ks['$U1']['state']" ok
ks_list_check init-user/force-own-key-gone "$U1" '"mykey" in s, "ssear" in s, "token-key" in s' \
	"False True True"

# ---- killed midway ---------------------------------------------------------------------------

# kill_after MS ARGS...: start the tool in its own process group, SIGKILL
# the group after MS milliseconds (if still running).
kill_after () {
	local ms=$1 pid
	shift
	setsid "$lt_tool" "$@" > "$lh_tmp/killed.out" 2>&1 < /dev/null &
	pid=$!
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	[ $? -eq 137 ] && kills=$((kills + 1))
	tries=$((tries + 1))
}
kills=0 tries=0

# how long one shared change takes, to aim the kills
t0=$(date +%s%N)
lt_ok killed/setup secret generate kill-0 --bits 256 --shared $R
t1=$(date +%s%N)
span=$(( (t1 - t0) / 1000000 ))
[ "$span" -lt 50 ] && span=50
lh_diag "a shared change takes $span ms"
for i in 1 2 3 4 5 6; do
	case $((i % 3)) in
	0) kill_after $((RANDOM % span)) secret rotate redis-master-key --shared $R ;;
	1) kill_after $((RANDOM % span)) secret generate "kill-$i" --bits 256 --shared $R ;;
	2) kill_after $((RANDOM % span)) secret rm "kill-$((i - 1))" --shared --yes $R ;;
	esac
	lt_ok "killed/$i-status" keystore status --json $R
	ks_check "killed/$i-consistent" \
		"all(k['state'] in ('ok', 'stale') for k in ks.values())" True
	kill_after $((RANDOM % span)) keystore sync --all $R
	lt_ok "killed/$i-status-after-sync-killed" keystore status --json $R
	ks_check "killed/$i-consistent-after-sync-killed" \
		"all(k['state'] in ('ok', 'stale') for k in ks.values())" True
done
lh_diag "$kills of $tries runs were killed before they ended"
[ "$kills" -gt 0 ]
lh_result killed/some-runs-interrupted $? "no run was killed midway: the delays are too long"
lt_ok killed/sync keystore sync $R
ks_all_ok killed/all-ok-after-sync
ks_check killed/same-master-key-everywhere \
	"len(set(str(ids(u, 'redis-master-key')) for u in ks))" 1
ks_check killed/nothing-missing \
	"[(u, s['name'], s['state']) for u in ks for s in sec(u) if s['state'] != 'held']" "[]"
ks_ok killed/user-still-works "$U1" "$ks_tool" --token localkeystore \
	secret wrap token-key --with redis-master-key --pin-file "$(ks_upin "$U1")"

# ---- a locked root keystore ---------------------------------------------------------------

ks_snap "$lh_tmp/s20"
lt_fails root-locked/1 3 "the PIN is incorrect" keystore status --pin-file "$lh_tmp/rbad"
lt_fails root-locked/2 3 "the PIN is incorrect" keystore status --pin-file "$lh_tmp/rbad"
lt_fails root-locked/3 3 "locked" keystore status --pin-file "$lh_tmp/rbad"
lt_fails root-locked/right-pin-refused 3 "locked" keystore status $R
lt_in=$lh_tmp/ssear1 lt_fails root-locked/set-refused 3 "locked" \
	secret set ssear --user "$U1" --force $R
lt_fails root-locked/sync-refused 3 "locked" keystore sync $R
# the SO unlocks it with the token commands, through a configuration that
# names the root keystore
cp "$LITEHSM_CONF" "$lh_tmp/root.conf"
echo "token = $ROOT_DB" >> "$lh_tmp/root.conf"
LITEHSM_CONF=$lh_tmp/root.conf lt_ok root-locked/unlock token unlock \
	--token rootkeystore --so-pin-file "$lh_tmp/rso" --new-pin-file "$lh_tmp/rpin"
lt_ok root-locked/usable-again keystore status $R
ks_snap "$lh_tmp/s21"
lt_same root-locked/nothing-lost "$lh_tmp/s20" "$lh_tmp/s21"

# ---- a damaged or unreadable root keystore --------------------------------------------------

cp "$ROOT_DB" "$lh_tmp/root.db.good"
if [ -n "$ks_root" ]; then
	ks_no root-damaged/unreadable-to-user "$U1" "cannot open the root keystore" \
		env LITEHSM_KEYSTORE_DIR="$KD" "$ks_tool" keystore sync --pin-file /dev/null
else
	ks_skip root-damaged/unreadable-to-user
fi
dd if=/dev/urandom of="$ROOT_DB" bs=1024 count=8 conv=notrunc 2>/dev/null
rm -f "$ROOT_DB-wal" "$ROOT_DB-shm"
ks_files "$lh_tmp/f20"
lk_fails root-damaged/status '1|4' "$ROOT_DB" keystore status $R
lk_fails root-damaged/sync '1|4' "$ROOT_DB" keystore sync $R
lt_in=$lh_tmp/ssear1 lk_fails root-damaged/set '1|4' "$ROOT_DB" \
	secret set ssear --user "$U1" --force $R
lk_fails root-damaged/init-root '1' "$ROOT_DB" keystore init --root $RS
ks_files "$lh_tmp/f21"
lt_same root-damaged/nothing-changed "$lh_tmp/f20" "$lh_tmp/f21"
cp "$lh_tmp/root.db.good" "$ROOT_DB"
lt_ok root-damaged/restored-copy-works keystore status $R

lh_finish
