#!/bin/bash
# token-store.sh - litehsm token backup, restore, verify and rekey: round
# trips with objects in the token (written with pkcs11-tool), damage found
# by verify (with the sqlite3 CLI, as tests/interop/tamper.sh does), and
# every refusal checked for its stderr line, its exit code and for leaving
# the token and the files as they were.
. "$(dirname "$0")/lib.sh"
lh_need pkcs11-tool opensc
lh_need sqlite3 sqlite3

lh_litehsm_only 'litehsm token files; not meaningful with SoftHSM2'

lt_pinfile so1 so-secret-1
lt_pinfile pin1 user-pin-1
lt_pinfile bad wrong-pin-9
T="--token-label s"

# objects LABEL...: the token's data objects, as the user, are exactly these.
objects () {
	local want got
	want=$(printf '%s\n' "$@" | sort)
	lh_run p11 $T --login --pin user-pin-1 --list-objects --type data
	got=$(sed -n "s/^ *label: *//p" "$lh_out" | tr -d "'" | sort)
	[ "$want" = "$got" ] || { lh_diag "want: $want" "got: $got"; return 1; }
}

# read_back LABEL FILE: the private data object reads back as FILE.
read_back () {
	rm -f "$lh_tmp/read.out"
	lh_run p11 $T --login --pin user-pin-1 --read-object --type data \
		--label "$1" -o "$lh_tmp/read.out" &&
	cmp -s "$2" "$lh_tmp/read.out"
}

lt_ok setup/init token init --label s --so-pin-file "$lh_tmp/so1" --pin-file "$lh_tmp/pin1"
serial=$(sed -n 's/^  serial: //p' "$lt_out")
db=$lh_tokens/token-1.db
printf 'first secret %s\n' "$$" > "$lh_tmp/one"
printf 'second secret %s\n' "$$" > "$lh_tmp/two"
printf 'public value %s\n' "$$" > "$lh_tmp/pub"
lh_check setup/write-one p11 $T --login --pin user-pin-1 --write-object "$lh_tmp/one" \
	--type data --label one --private
lh_check setup/write-pub p11 $T --login --pin user-pin-1 --write-object "$lh_tmp/pub" \
	--type data --label pub

# ---- backup -----------------------------------------------------------------------

lt_ok backup/ok token backup --token s "$lh_tmp/b1.db"
lt_has backup/output "^Backed up token \"s\" \\(serial $serial\\) to $lh_tmp/b1.db\$"
[ "$(stat -c %a "$lh_tmp/b1.db")" = 600 ]
lh_result backup/mode-0600 $? "$(ls -l "$lh_tmp/b1.db")"
sha_b1=$(sha256sum < "$lh_tmp/b1.db")
lt_fails backup/exists 1 "litehsm: $lh_tmp/b1.db exists already; choose a new file name" \
	token backup --token s "$lh_tmp/b1.db"
[ "$(sha256sum < "$lh_tmp/b1.db")" = "$sha_b1" ]
lh_result backup/exists-unchanged $?
lt_fails backup/unknown-token 4 "no token labelled \"nope\"" \
	token backup --token nope "$lh_tmp/b2.db"
lt_fails backup/no-dir 1 "cannot back up token \"s\" to $lh_tmp/nodir/b.db" \
	token backup --token s "$lh_tmp/nodir/b.db"
[ ! -e "$lh_tmp/b2.db" ] && [ ! -e "$lh_tmp/nodir" ]
lh_result backup/refusals-wrote-nothing $?
lt_fails backup/pin-not-needed 2 "option --pin-file does not apply to 'token backup'" \
	token backup --token s --pin-file "$lh_tmp/pin1" "$lh_tmp/b2.db"
lt_ok backup/json token backup --token-uri "pkcs11:serial=$serial" "$lh_tmp/b2.db" --json
lt_json backup/json-parses

# ---- verify ------------------------------------------------------------------------

lt_ok verify/clean token verify --token s --pin-file "$lh_tmp/pin1"
lt_has verify/clean-output "^Token \"s\" \\(serial $serial\\): 2 objects checked \\(checksums, MACs and encrypted values\\), 0 damaged\$"
lt_ok verify/no-login token verify --token s --no-login --json
lt_json verify/no-login-json
if command -v python3 > /dev/null 2>&1; then
	[ "$(lt_py 'j["checks"], j["checked"], j["damaged"]')" = "checksums 2 []" ]
	lh_result verify/no-login-json-fields $? "$(cat "$lt_out")"
fi
lt_fails verify/wrong-pin 3 "cannot log in to token \"s\" as user: the PIN is incorrect (CKR_PIN_INCORRECT)" \
	token verify --token s --pin-file "$lh_tmp/bad"
lt_fails verify/no-pin-no-tty 2 "no user PIN of token \"s\" given and no terminal to ask for it" \
	token verify --token s
lt_fails verify/no-login-and-pin 2 "--no-login and a user PIN source were both given" \
	token verify --token s --no-login --pin-file "$lh_tmp/pin1"

# Damage: one object's MAC (only a full check sees it) and the public
# object's value (its checksum fails too); then put both back.
oid_one=$(sqlite3 -batch "$db" "SELECT id FROM objects WHERE private = 1 ORDER BY id LIMIT 1")
oid_pub=$(sqlite3 -batch "$db" "SELECT id FROM objects WHERE private = 0 ORDER BY id LIMIT 1")
mac=$(sqlite3 -batch "$db" "SELECT hex(mac) FROM objects WHERE id = $oid_one")
val=$(sqlite3 -batch "$db" "SELECT hex(value) FROM attrs WHERE obj = $oid_pub AND type = 17")
[ -n "$mac" ] && [ -n "$val" ]
lh_result verify/setup-find-rows $? "ids '$oid_one' '$oid_pub'"
flip () {               # flip the first hex digit
	local h=$1 c=${1:0:1}
	case $c in 0) c=1 ;; *) c=0 ;; esac
	printf '%s%s' "$c" "${h:1}"
}
sqlite3 -batch "$db" "UPDATE objects SET mac = X'$(flip "$mac")' WHERE id = $oid_one"
lt_ok verify/mac-not-seen-without-login token verify --token s --no-login
lt_fails verify/mac-damage 1 "litehsm: 1 of 2 objects of token \"s\" are damaged; restore a backup" \
	token verify --token s --pin-file "$lh_tmp/pin1"
grep -qE '^  damaged: ("one" \(object|object) '"$oid_one" "$lt_out"
lh_result verify/mac-damage-listed $? "$(cat "$lt_out")"
sqlite3 -batch "$db" "UPDATE attrs SET value = X'$(flip "$val")' WHERE obj = $oid_pub AND type = 17"
lt_fails verify/checksum-damage 1 "2 of 2 objects of token \"s\" are damaged" \
	token verify --token s --pin-file "$lh_tmp/pin1" --json
lt_json verify/damage-json
if command -v python3 > /dev/null 2>&1; then
	[ "$(lt_py 'len(j["damaged"]), "pub" in [d["label"] for d in j["damaged"]]')" = "2 True" ]
	lh_result verify/damage-json-labels $? "$(cat "$lt_out")"
fi
lt_fails verify/checksum-damage-no-login 1 "1 of 2 objects of token \"s\" are damaged" \
	token verify --token s --no-login
lt_has verify/public-label-listed "^  damaged: \"pub\" \\(object $oid_pub\\)\$"
lt_fails rekey/refused-on-damage 1 "cannot rekey token \"s\"" \
	token rekey --token s --so-pin-file "$lh_tmp/so1" --pin-file "$lh_tmp/pin1"
sqlite3 -batch "$db" "UPDATE objects SET mac = X'$mac' WHERE id = $oid_one;
	UPDATE attrs SET value = X'$val' WHERE obj = $oid_pub AND type = 17"
lt_ok verify/repaired token verify --token s --pin-file "$lh_tmp/pin1"
read_back one "$lh_tmp/one"
lh_result verify/one-reads-back $? "$(cat "$lh_out")"

# ---- restore ---------------------------------------------------------------------

lh_check restore/setup-write-two p11 $T --login --pin user-pin-1 \
	--write-object "$lh_tmp/two" --type data --label two --private
objects one pub two
lh_result restore/three-objects $?
lt_snap "$lh_tmp/s0"
sha_db=$(sha256sum < "$db")
lt_fails restore/needs-yes 2 "restoring replaces token \"s\" (serial $serial) and loses every change since the backup; stop the services that use it and add --yes" \
	token restore --token s "$lh_tmp/b1.db"
lt_fails restore/missing-file 4 "cannot read the backup $lh_tmp/none.db: No such file or directory" \
	token restore --token s --yes "$lh_tmp/none.db"
printf 'not a token\n' > "$lh_tmp/junk.db"
lt_fails restore/not-a-token 1 "cannot restore $lh_tmp/junk.db: the file is not a litehsm token (CKR_TOKEN_NOT_RECOGNIZED); nothing was changed" \
	token restore --token s --yes "$lh_tmp/junk.db"
lt_fails restore/unknown-token 4 "no token labelled \"nope\"" \
	token restore --token nope --yes "$lh_tmp/b1.db"
lt_fails restore/as-new-while-present 1 "the backup holds token \"s\" (serial $serial), which exists already as \"s\"" \
	token restore "$lh_tmp/b1.db"
lt_snap "$lh_tmp/s1"
lt_same restore/refusals-changed-nothing "$lh_tmp/s0" "$lh_tmp/s1"
objects one pub two
lh_result restore/refusals-kept-objects $?
ls "$lh_tokens" | grep -v -e '-wal$' -e '-shm$' > "$lh_tmp/files"
[ "$(cat "$lh_tmp/files")" = token-1.db ]
lh_result restore/refusals-no-new-file $? "$(ls -l "$lh_tokens")"

lt_ok restore/replace token restore --token s --yes "$lh_tmp/b1.db"
lt_has restore/replace-label "^Restored token \"s\" \\(serial $serial\\) from $lh_tmp/b1.db\$"
objects one pub
lh_result restore/back-to-backup $?
read_back one "$lh_tmp/one"
lh_result restore/one-reads-back $? "$(cat "$lh_out")"
lt_ok restore/verify token verify --token s --pin-file "$lh_tmp/pin1"

# A lost token: delete it, then restore the backup as a new token.
lt_ok restore/delete token delete --token s --yes --so-pin-file "$lh_tmp/so1"
lt_fails restore/gone 4 "no token labelled \"s\"" token info --token s
lt_ok restore/as-new token restore "$lh_tmp/b1.db" --json
lt_json restore/as-new-json
if command -v python3 > /dev/null 2>&1; then
	[ "$(lt_py 'j["label"], j["serial"], j["action"]')" = "s $serial restored-as-new" ]
	lh_result restore/as-new-json-fields $? "$(cat "$lt_out")"
fi
objects one pub
lh_result restore/as-new-objects $?
lt_ok restore/as-new-list token list
lt_has restore/as-new-listed "^[0-9]+ +s +$serial +ok +ok\$"

# ---- rekey ------------------------------------------------------------------------

lt_snap "$lh_tmp/s2"
lt_fails rekey/wrong-so 3 "cannot log in to token \"s\" as SO: the PIN is incorrect" \
	token rekey --token s --so-pin-file "$lh_tmp/bad" --pin-file "$lh_tmp/pin1"
lt_fails rekey/wrong-user 3 "cannot log in to token \"s\" as user: the PIN is incorrect" \
	token rekey --token s --so-pin-file "$lh_tmp/so1" --pin-file "$lh_tmp/bad"
lt_fails rekey/no-so-no-tty 2 "no SO PIN of token \"s\" given and no terminal to ask for it" \
	token rekey --token s --pin-file "$lh_tmp/pin1"
lt_fails rekey/unknown 4 "no token labelled \"nope\"" \
	token rekey --token nope --so-pin-file "$lh_tmp/so1" --pin-file "$lh_tmp/pin1"
read_back one "$lh_tmp/one"
lh_result rekey/refusals-kept-objects $? "$(cat "$lh_out")"
mk_before=$(sqlite3 -batch "$db" "SELECT hex(value) FROM attrs WHERE obj = $oid_one AND type = 17")
lt_ok rekey/ok token rekey --token s --so-pin-file "$lh_tmp/so1" --pin-file "$lh_tmp/pin1"
lt_has rekey/output "^Rekeyed token \"s\" \\(serial $serial\\)"
mk_after=$(sqlite3 -batch "$db" "SELECT hex(value) FROM attrs WHERE obj = $oid_one AND type = 17")
[ -n "$mk_before" ] && [ "$mk_before" != "$mk_after" ]
lh_result rekey/value-re-encrypted $?
read_back one "$lh_tmp/one"
lh_result rekey/one-reads-back $? "$(cat "$lh_out")"
objects one pub
lh_result rekey/objects-kept $?
lt_ok rekey/verify token verify --token s --pin-file "$lh_tmp/pin1"
lt_ok rekey/json token rekey --token s --so-pin-file "$lh_tmp/so1" \
	--pin-file "$lh_tmp/pin1" --json
lt_json rekey/json-parses
# the backup of before the rekeys still restores, with its own master key
lt_ok rekey/restore-old-backup token restore --token s --yes "$lh_tmp/b2.db"
read_back one "$lh_tmp/one"
lh_result rekey/old-backup-reads $? "$(cat "$lh_out")"

# ---- not litehsm -------------------------------------------------------------------

softhsm=
for f in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so; do
	[ -f "$f" ] && softhsm=$f && break
done
if [ -n "$softhsm" ]; then
	mkdir -p "$lh_tmp/sh"
	printf 'directories.tokendir = %s\nobjectstore.backend = file\n' "$lh_tmp/sh" \
		> "$lh_tmp/softhsm2.conf"
	SOFTHSM2_CONF=$lh_tmp/softhsm2.conf lt_ok other/list --module "$softhsm" token list
	SOFTHSM2_CONF=$lh_tmp/softhsm2.conf lt_ok other/init --module "$softhsm" \
		token init --label o --so-pin-file "$lh_tmp/so1" --pin-file "$lh_tmp/pin1"
	SOFTHSM2_CONF=$lh_tmp/softhsm2.conf lt_fails other/backup-refused 1 \
		"'token backup' works only on litehsm token files, and $softhsm is not litehsm" \
		--module "$softhsm" token backup --token o "$lh_tmp/o.db"
else
	lh_skip other/softhsm "SoftHSM2 not found (Debian package softhsm2)"
fi

lh_finish
