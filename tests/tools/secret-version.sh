#!/bin/bash
# secret-version.sh - versioned secrets in one token: the version ids that
# set, generate and unwrap give, secret rotate (a new active version, the
# old ones retired: no encrypt, no wrap), decrypt and unwrap falling back
# to older versions, list/show/rm per version, unwrap --valid-days, and
# secret prune with its grace period, taking "today" from LITEHSM_TODAY.
# Every refusal is checked for its one stderr line, its exit code and that
# nothing changed (secret list --json before and after).
. "$(dirname "$0")/lib.sh"

lh_litehsm_only 'litehsm token files; not meaningful with SoftHSM2'

lt_pinfile so1 so-secret-1
lt_pinfile pin1 user-pin-1
v_ssear=ssear-value-5d2e71
v_ssear2=ssear-value-2-90a4c3
lt_secret "$v_ssear" "$v_ssear2"
printf %s "$v_ssear" > "$lh_tmp/v1"
printf %s "$v_ssear2" > "$lh_tmp/v2"
printf 'access-key data sealed before the rotation\n' > "$lh_tmp/data1"
printf 'access-key data sealed after the rotation\n' > "$lh_tmp/data2"

S="--token s --pin-file $lh_tmp/pin1"

# day N: the UTC date N days from now (YYYY-MM-DD).
day () {
	date -u -d "@$(( $(date -u +%s) + $1 * 86400 ))" +%Y-%m-%d
}
today=$(day 0)

ls_snap () {
	"$lt_tool" secret list --json $S > "$1" 2>&1
}

# ls_py EXPR: EXPR over "secret list --json" (j; s: name -> entry;
# v(name, n): that version's entry); "" without python3.
ls_py () {
	command -v python3 > /dev/null 2>&1 || return 0
	"$lt_tool" secret list --json $S 2>/dev/null |
		python3 -c "
import json, sys
j = json.load(sys.stdin)
s = {x['name']: x for x in j['secrets']}
def v(name, n):
    return [x for x in s[name]['versions'] if x['version'] == n][0]
def vs(name):
    return [x['version'] for x in s[name]['versions']] if name in s else []
print($1)" 2>/dev/null
}

# check NAME GOT WANT: one TAP line; skipped without python3.
check () {
	if ! command -v python3 > /dev/null 2>&1; then
		lh_skip "$1" "python3 not found (Debian package python3)"
	elif [ "$2" = "$3" ]; then
		lh_ok "$1"
	else
		lh_not_ok "$1" "got '$2', want '$3'"
	fi
}

# ls_check NAME EXPR WANT
ls_check () {
	check "$1" "$(ls_py "$2")" "$3"
}

# out_check NAME EXPR WANT: EXPR over the last stdout as JSON (j).
out_check () {
	check "$1" "$(lt_py "$2")" "$3"
}

# refusal NAME CODE TEXT ARGS...: lt_fails, and nothing changed.
refusal () {
	ls_snap "$lh_tmp/before"
	lt_fails "$@"
	ls_snap "$lh_tmp/after"
	lt_same "$1-changes-nothing" "$lh_tmp/before" "$lh_tmp/after"
}

lt_ok setup/init token init --label s --so-pin-file "$lh_tmp/so1" \
	--pin-file "$lh_tmp/pin1"

# ---- help --------------------------------------------------------------------

lt_ok help/secret secret --help
lt_has help/lists-rotate '^  rotate +make a new version'
lt_has help/lists-prune '^  prune +remove versions past their end date'
for c in rotate prune; do
	lt_ok "help/$c" secret "$c" --help
	lt_has "help/$c-usage" "^Usage: litehsm secret $c "
done
lt_ok help/prune-options secret prune --help
lt_has help/prune-grace '--grace-days N'
lt_has help/prune-dry-run '--dry-run'
lt_ok help/show secret show --help
lt_has help/show-version '--version N'
lt_ok help/rm secret rm --help
lt_has help/rm-version '--version N'
lt_ok help/unwrap secret unwrap --help
lt_has help/unwrap-valid-days '--valid-days D'

# ---- version ids of set and generate --------------------------------------------

lt_ok id/generate secret generate tk --aes --bits 256 --valid-days 30 --json $S
out_check id/generate-json 'j["version"], __import__("re").fullmatch(r"v1\.[0-9a-f]{8}", j["id"]) is not None' \
	"1 True"
lt_in=$lh_tmp/v1 lt_ok id/set secret set ssear $S
ls_check id/set-v1 's["ssear"]["version"], s["ssear"]["state"], vs("ssear")' \
	"1 active [1]"
old_id=$(ls_py 's["ssear"]["id"]')
lt_in=$lh_tmp/v2 lt_ok id/set-force secret set ssear --force --json $S
out_check id/set-force-json 'j["version"], j["replaced"], j["replaced_versions"]' \
	"2 True 1"
ls_check id/set-force-one-left 'vs("ssear"), s["ssear"]["id"].startswith("v2."), s["ssear"]["id"] != "'"$old_id"'"' \
	"[2] True True"

# ---- rotate: refusals ------------------------------------------------------------

refusal rotate/set-value 1 \
	"secret \"ssear\" in token \"s\" was stored from a value, not generated in the token, so it cannot be rotated; store its new value with 'litehsm secret set ssear --force'" \
	secret rotate ssear $S
refusal rotate/missing 4 'no secret named "nope" in token "s"; see '"'litehsm secret list'" \
	secret rotate nope $S
refusal rotate/no-name 2 "'secret rotate' needs NAME" secret rotate $S
refusal rotate/two-names 2 "unexpected argument \"ssear\" for 'secret rotate'" \
	secret rotate tk ssear $S
refusal rotate/empty-name 2 'the name "" is empty' secret rotate "" $S
LITEHSM_TODAY=2030-02-30 refusal rotate/bad-today 2 \
	'LITEHSM_TODAY="2030-02-30" is not a date of the form YYYY-MM-DD; unset it' \
	secret rotate tk $S
LITEHSM_TODAY=tomorrow refusal rotate/bad-today-text 2 \
	'LITEHSM_TODAY="tomorrow" is not a date of the form YYYY-MM-DD' \
	secret rotate tk $S
refusal rotate/wrong-pin 3 "the PIN is incorrect" \
	secret rotate tk --token s --pin-file "$lh_tmp/so1"

# ---- rotate an AES key with dates --------------------------------------------------

# pkcs11-tool encrypts with v1 before the rotation, selected by its CKA_ID
have_p11=
command -v pkcs11-tool > /dev/null 2>&1 && have_p11=1
id1=$(ls_py 's["tk"]["id"]')
idhex () {
	printf %s "$1" | od -An -tx1 | tr -d ' \n'
}
P11="--token-label s --login --pin user-pin-1"
iv=00000000000000000000000000000000
printf 'sixteen byte msg' > "$lh_tmp/m16"
if [ -n "$have_p11" ]; then
	p11 $P11 --encrypt --mechanism AES-CBC-PAD --id "$(idhex "$id1")" \
		--iv $iv -i "$lh_tmp/m16" -o "$lh_tmp/c16-v1" > "$lh_tmp/p11.out" 2>&1
	lh_result p11/encrypt-v1-before "$?" "$(cat "$lh_tmp/p11.out")"
else
	lh_skip p11/encrypt-v1-before "pkcs11-tool not found (Debian package opensc)"
fi

lt_ok rotate/aes secret rotate tk $S
lt_has rotate/aes-text "^Rotated secret \"tk\" in token \"s\": version 2 is active \($today to $(day 30)\), 1 older version retired$"
ls_check rotate/aes-versions 'vs("tk"), v("tk", 2)["state"], v("tk", 1)["state"]' \
	"[2, 1] active retired"
ls_check rotate/aes-active-top 's["tk"]["version"], s["tk"]["state"]' "2 active"
ls_check rotate/aes-new-like-old 'v("tk", 2)["type"], v("tk", 2)["bits"], v("tk", 2)["sensitive"], v("tk", 2)["extractable"], v("tk", 2)["local"], v("tk", 2)["usages"]' \
	"aes 256 True False True ['encrypt', 'decrypt']"
ls_check rotate/aes-new-dates 'v("tk", 2)["start_date"], v("tk", 2)["end_date"]' \
	"$today $(day 30)"
ls_check rotate/aes-old-retired 'v("tk", 1)["usages"], v("tk", 1)["end_date"]' \
	"['decrypt'] $(day 30)"
ls_check rotate/aes-id-v2 'v("tk", 2)["id"].startswith("v2.")' True
lt_ok rotate/show-v1 secret show tk --version 1 --json $S
out_check rotate/show-v1-encrypt-off 'j["version"], j["state"], "encrypt" in j["usages"], "decrypt" in j["usages"], j["version_count"]' \
	"1 retired False True 2"
lt_ok rotate/show-v1-text secret show tk --version=1 $S
lt_has rotate/show-v1-line '^  version: +1 \(id v1\.[0-9a-f]{8}\), retired, of 2$'
lt_has rotate/show-v1-usages '^  usages: +decrypt$'
lt_ok rotate/show-active secret show tk $S
lt_has rotate/show-active-line '^  version: +2 \(id v2\.[0-9a-f]{8}\), active, of 2$'
lt_ok list/versions secret list $S
lt_has list/versions-active "^tk +2 +active +aes +256 +$today +$(day 30) +yes +yes +encrypt,decrypt$"
lt_has list/versions-retired "^tk +1 +retired +aes +256 +$today +$(day 30) +yes +yes +decrypt$"

id2=$(ls_py 'v("tk", 2)["id"]')
if [ -n "$have_p11" ]; then
	p11 $P11 --encrypt --mechanism AES-CBC-PAD --id "$(idhex "$id1")" \
		--iv $iv -i "$lh_tmp/m16" -o "$lh_tmp/c16-x" > "$lh_tmp/p11.out" 2>&1
	[ $? -ne 0 ] && grep -q CKR_KEY_FUNCTION_NOT_PERMITTED "$lh_tmp/p11.out"
	lh_result p11/encrypt-v1-refused "$?" "$(cat "$lh_tmp/p11.out")"
	p11 $P11 --decrypt --mechanism AES-CBC-PAD --id "$(idhex "$id1")" \
		--iv $iv -i "$lh_tmp/c16-v1" -o "$lh_tmp/m16-back" > "$lh_tmp/p11.out" 2>&1 &&
		cmp -s "$lh_tmp/m16" "$lh_tmp/m16-back"
	lh_result p11/decrypt-v1-still "$?" "$(cat "$lh_tmp/p11.out")"
	p11 $P11 --encrypt --mechanism AES-CBC-PAD --id "$(idhex "$id2")" \
		--iv $iv -i "$lh_tmp/m16" -o "$lh_tmp/c16-v2" > "$lh_tmp/p11.out" 2>&1
	lh_result p11/encrypt-v2 "$?" "$(cat "$lh_tmp/p11.out")"
else
	for n in encrypt-v1-refused decrypt-v1-still encrypt-v2; do
		lh_skip "p11/$n" "pkcs11-tool not found (Debian package opensc)"
	done
fi

# ---- a wrapping key: sealed data and wrapped keys survive its rotation -------------

lt_ok wk/generate secret generate rmk --wrapping --bits 256 $S
lt_ok wk/key secret generate tkx --aes --bits 256 --extractable $S
lt_in=$lh_tmp/data1 lt_ok wk/seal-before secret encrypt --with rmk $S
cp "$lt_out" "$lh_tmp/sealed1"
lt_ok wk/wrap-before secret wrap tkx --with rmk $S
cp "$lt_out" "$lh_tmp/blob1"

lt_ok wk/rotate secret rotate rmk --json $S
lt_json wk/rotate-json
out_check wk/rotate-json-fields 'j["action"], j["version"], j["previous"], j["retired"], j["start_date"], j["end_date"], j["id"].startswith("v2.")' \
	"rotated 2 1 [1] None None True"
ls_check wk/rotate-usages 'v("rmk", 2)["usages"], v("rmk", 1)["usages"]' \
	"['wrap', 'unwrap', 'derive'] ['unwrap', 'derive']"

lt_in=$lh_tmp/sealed1 lt_ok wk/open-old secret decrypt --with rmk $S
cmp -s "$lt_out" "$lh_tmp/data1"
lh_result wk/open-old-round-trip $?
lt_in=$lh_tmp/data2 lt_ok wk/seal-after secret encrypt --with rmk $S
cp "$lt_out" "$lh_tmp/sealed2"
lt_in=$lh_tmp/sealed2 lt_ok wk/open-new secret decrypt --with rmk $S
cmp -s "$lt_out" "$lh_tmp/data2"
lh_result wk/open-new-round-trip $?

lt_in=$lh_tmp/blob1 lt_ok wk/unwrap-old \
	secret unwrap --with rmk --as tky --aes $S
lt_has wk/unwrap-old-text '^Unwrapped aes secret "tky" with "rmk" \(version 1\) into token "s"$'
lt_ok wk/wrap-after secret wrap tkx --with rmk $S
cp "$lt_out" "$lh_tmp/blob2"
lt_in=$lh_tmp/blob2 lt_ok wk/unwrap-new \
	secret unwrap --with rmk --as tky --aes --force --json $S
out_check wk/unwrap-new-json 'j["with_version"], j["version"], j["replaced_versions"]' \
	"2 2 1"
lt_in=$lh_tmp/blob1 lt_ok wk/unwrap-old-json \
	secret unwrap --with rmk --as tkz --aes --json $S
out_check wk/unwrap-old-json-fields 'j["with_version"], j["version"], j["id"].startswith("v1.")' \
	"1 1 True"

refusal rm/active-version 1 \
	"version 2 is the active version of \"rmk\"; rotate it with 'secret rotate'" \
	secret rm rmk --version 2 --yes $S
refusal rm/no-such-version 4 \
	'secret "rmk" in token "s" has no version 9; see '"'litehsm secret list'" \
	secret rm rmk --version 9 --yes $S
refusal rm/bad-version 2 'the value "x" of --version is not a version number' \
	secret rm rmk --version x --yes $S
refusal rm/version-no-value 2 "option --version of 'secret rm' needs a value" \
	secret rm rmk --yes $S --version
refusal rm/version-no-yes 2 "refusing to delete a secret without confirmation" \
	secret rm rmk --version 1 $S
refusal show/no-such-version 4 \
	'secret "tk" in token "s" has no version 3; see '"'litehsm secret list'" \
	secret show tk --version 3 $S
refusal show/bad-version 2 'the value "-1" of --version is not a version number' \
	secret show tk --version=-1 $S

# without v1, what it sealed or wrapped no longer opens: proof that the
# fallback used it, and that encrypt and wrap used v2 only
lt_ok rm/one-version secret rm rmk --version 1 --yes $S
lt_has rm/one-version-text '^Deleted version 1 of secret "rmk" from token "s"$'
ls_check rm/one-version-left 'vs("rmk")' "[2]"
lt_in=$lh_tmp/sealed1 refusal wk/old-gone-decrypt 1 \
	"the input is not a litehsm blob or damaged" secret decrypt --with rmk $S
lt_in=$lh_tmp/blob1 refusal wk/old-gone-unwrap 1 \
	'the blob on stdin is not a key wrapped under "rmk", or it is damaged' \
	secret unwrap --with rmk --as tkw --aes $S
lt_in=$lh_tmp/sealed2 lt_ok wk/new-still-opens secret decrypt --with rmk $S
cmp -s "$lt_out" "$lh_tmp/data2"
lh_result wk/new-still-opens-round-trip $?

# ---- unwrap --valid-days -------------------------------------------------------------

lt_in=$lh_tmp/blob2 refusal unwrap/days-zero 2 \
	'the value "0" of --valid-days is not a whole number from 1 to 36500' \
	secret unwrap --with rmk --as tkd --aes --valid-days 0 $S
lt_in=$lh_tmp/blob2 refusal unwrap/days-text 2 \
	'the value "ten" of --valid-days is not a whole number' \
	secret unwrap --with rmk --as tkd --aes --valid-days ten $S
lt_in=$lh_tmp/blob2 LITEHSM_TODAY=2031-1-5 refusal unwrap/bad-today 2 \
	'LITEHSM_TODAY="2031-1-5" is not a date of the form YYYY-MM-DD' \
	secret unwrap --with rmk --as tkd --aes --valid-days 10 $S
lt_in=$lh_tmp/blob2 lt_ok unwrap/days \
	secret unwrap --with rmk --as tkd --aes --valid-days 10 $S
ls_check unwrap/days-dates 's["tkd"]["start_date"], s["tkd"]["end_date"], s["tkd"]["local"]' \
	"$today $(day 10) False"
lt_in=$lh_tmp/blob2 LITEHSM_TODAY=2031-02-27 lt_ok unwrap/days-today \
	secret unwrap --with rmk --as tke --aes --valid-days 2 $S
ls_check unwrap/days-today-dates 's["tke"]["start_date"], s["tke"]["end_date"]' \
	"2031-02-27 2031-03-01"
lt_in=$lh_tmp/blob2 lt_ok unwrap/no-days \
	secret unwrap --with rmk --as tkf --aes $S
ls_check unwrap/no-days-dates 's["tkf"]["start_date"], s["tkf"]["end_date"]' \
	"None None"
refusal rotate/unwrapped 1 \
	'secret "tkd" in token "s" was stored from a value, not generated in the token, so it cannot be rotated' \
	secret rotate tkd $S

# LITEHSM_TODAY moves only the tool's dates: the module keeps the real
# clock, so a key dated in the future cannot derive yet
LITEHSM_TODAY=$(day 100) lt_ok today/generate-future \
	secret generate future --bits 256 --valid-days 5 $S
ls_check today/generate-future-dates 's["future"]["start_date"], s["future"]["end_date"]' \
	"$(day 100) $(day 105)"
lt_in=$lh_tmp/data1 refusal today/module-clock 1 \
	'cannot derive a data key from "future": the key may not be used for this (CKR_KEY_FUNCTION_NOT_PERMITTED)' \
	secret encrypt --with future $S
lt_ok today/rm-future secret rm future --yes $S

# ---- objects of other tools (version 0) ------------------------------------------------

if [ -n "$have_p11" ]; then
	p11 $P11 --keygen --key-type AES:32 --label p11key > "$lh_tmp/p11.out" 2>&1
	lh_result p11/keygen "$?" "$(cat "$lh_tmp/p11.out")"
	ls_check v0/listed 'vs("p11key"), s["p11key"]["id"], s["p11key"]["state"]' \
		"[0] None active"
	lt_ok v0/list-text secret list $S
	lt_has v0/list-dash '^p11key +- +active +aes +256 '
	lt_ok v0/rotate secret rotate p11key $S
	lt_has v0/rotate-text '^Rotated secret "p11key" in token "s": version 1 is active, 1 older version retired$'
	ls_check v0/rotate-versions 'vs("p11key"), v("p11key", 0)["state"], "encrypt" in v("p11key", 0)["usages"], "encrypt" in v("p11key", 1)["usages"]' \
		"[1, 0] retired False True"
	lt_ok v0/show-version-0 secret show p11key --version 0 $S
	lt_has v0/show-version-0-line '^  version: +- \(no litehsm id\), retired, of 2$'

	# two objects sharing the highest version: no command guesses
	p11 $P11 --keygen --key-type AES:16 --label dup > "$lh_tmp/p11.out" 2>&1 &&
		p11 $P11 --keygen --key-type AES:16 --label dup > "$lh_tmp/p11.out" 2>&1
	lh_result p11/keygen-dup "$?" "$(cat "$lh_tmp/p11.out")"
	ls_check dup/listed 'vs("dup"), [x["state"] for x in s["dup"]["versions"]]' \
		"[0, 0] ['duplicate', 'duplicate']"
	refusal dup/show 1 'token "s" holds several secrets named "dup"; remove the extra ones' \
		secret show dup $S
	refusal dup/rotate 1 'token "s" holds several secrets named "dup"' \
		secret rotate dup $S
	lt_in=$lh_tmp/data1 refusal dup/encrypt 1 'token "s" holds several secrets named "dup"' \
		secret encrypt --with dup $S
	refusal dup/rm-version 1 'secret "dup" in token "s" has several objects of version 0' \
		secret rm dup --version 0 --yes $S
	lt_ok dup/rm-all secret rm dup --yes --json $S
	out_check dup/rm-all-json 'j["action"], j["versions"]' "deleted [0, 0]"
	ls_check dup/gone '"dup" in s' False
else
	lh_skip v0/pkcs11-tool "pkcs11-tool not found (Debian package opensc)"
fi

# ---- prune -------------------------------------------------------------------------------

# tk: v1 and v2 end in 30 days; v3, rotated "20 days from now", ends in 50
LITEHSM_TODAY=$(day 20) lt_ok prune/setup-rotate secret rotate tk $S
ls_check prune/setup-v3 'v("tk", 3)["start_date"], v("tk", 3)["end_date"]' \
	"$(day 20) $(day 50)"

refusal prune/grace-text 2 \
	'the value "x" of --grace-days is not a whole number from 0 to 36500' \
	secret prune --grace-days x $S
refusal prune/grace-negative 2 'the value "-1" of --grace-days is not a whole number' \
	secret prune --grace-days -1 $S
refusal prune/grace-too-big 2 'the value "36501" of --grace-days is not a whole number' \
	secret prune --grace-days 36501 $S
refusal prune/grace-no-value 2 "option --grace-days of 'secret prune' needs a value" \
	secret prune $S --grace-days
refusal prune/missing 4 'no secret named "nope" in token "s"' \
	secret prune nope $S
refusal prune/two-names 2 "unexpected argument \"rmk\" for 'secret prune'" \
	secret prune tk rmk $S
LITEHSM_TODAY=2030-13-01 refusal prune/bad-today 2 \
	'LITEHSM_TODAY="2030-13-01" is not a date of the form YYYY-MM-DD' \
	secret prune $S
LITEHSM_TODAY=20300101 refusal prune/bad-today-compact 2 \
	'LITEHSM_TODAY="20300101" is not a date of the form YYYY-MM-DD' \
	secret prune $S
refusal prune/wrong-pin 3 "the PIN is incorrect" \
	secret prune --token s --pin-file "$lh_tmp/so1"

ls_snap "$lh_tmp/p0"
lt_ok prune/nothing secret prune $S
lt_has prune/nothing-text "^Nothing to prune in token \"s\": no version ended more than 7 days before $today$"
lt_ok prune/nothing-json secret prune --json $S
out_check prune/nothing-json-fields 'j["count"], j["removed"], j["grace_days"], j["dry_run"], j["today"]' \
	"0 [] 7 False $today"
# the boundary: end + grace = today is not yet "before today"
LITEHSM_TODAY=$(day 37) lt_ok prune/boundary secret prune tk $S
lt_has prune/boundary-text '^Nothing to prune in token "s"'
ls_snap "$lh_tmp/p1"
lt_same prune/nothing-changes-nothing "$lh_tmp/p0" "$lh_tmp/p1"

LITEHSM_TODAY=$(day 40) lt_ok prune/dry-run secret prune tk --dry-run $S
lt_has prune/dry-run-v2 "^Would remove version 2 of \"tk\" \(ended $(day 30)\)$"
lt_has prune/dry-run-v1 "^Would remove version 1 of \"tk\" \(ended $(day 30)\)$"
lt_has prune/dry-run-count '^Would prune 2 versions from token "s" \(dry run: nothing removed\)$'
ls_snap "$lh_tmp/p2"
lt_same prune/dry-run-changes-nothing "$lh_tmp/p0" "$lh_tmp/p2"

LITEHSM_TODAY=$(day 40) lt_ok prune/name secret prune tk --json $S
lt_json prune/name-json
out_check prune/name-json-fields '[(x["name"], x["version"]) for x in j["removed"]], j["count"], j["today"]' \
	"[('tk', 2), ('tk', 1)] 2 $(day 40)"
ls_check prune/name-kept 'vs("tk"), s["tk"]["state"], s["tk"]["usages"]' \
	"[3] active ['encrypt', 'decrypt']"
ls_check prune/name-others-kept 'vs("tkd"), vs("tke"), vs("rmk")' "[1] [1] [2]"

# every secret: tkd (ended in 10 days) goes, tke (2031) and undated stay
LITEHSM_TODAY=$(day 40) lt_ok prune/all secret prune $S
lt_has prune/all-tkd "^Removed version 1 of \"tkd\" \(ended $(day 10)\)$"
lt_has prune/all-count '^Pruned 1 version from token "s"$'
ls_check prune/all-left 'sorted(x for x in s if x != "p11key")' \
	"['rmk', 'ssear', 'tk', 'tke', 'tkf', 'tkx', 'tky', 'tkz']"
ls_check prune/all-left-tk 'vs("tk")' "[3]"

# the grace period: v3 ends in 50 days
LITEHSM_TODAY=$(day 55) lt_ok prune/grace-keeps secret prune tk $S
lt_has prune/grace-keeps-text '^Nothing to prune'
LITEHSM_TODAY=$(day 55) lt_ok prune/grace-zero secret prune tk --grace-days 0 $S
lt_has prune/grace-zero-text "^Removed version 3 of \"tk\" \(ended $(day 50)\)$"
ls_check prune/grace-zero-gone '"tk" in s' False

# ---- rm of every version ----------------------------------------------------------------

lt_ok rotate/generic secret generate hk --bits 256 $S
lt_ok rotate/generic-again secret rotate hk $S
lt_ok rotate/generic-third secret rotate hk $S
ls_check rotate/generic-versions 'vs("hk"), [x["usages"] for x in s["hk"]["versions"]]' \
	"[3, 2, 1] [['derive'], ['derive'], ['derive']]"
lt_ok rm/all secret rm hk --yes $S
lt_has rm/all-text '^Deleted secret "hk" \(3 versions\) from token "s"$'
ls_check rm/all-gone '"hk" in s' False

# ---- no value anywhere --------------------------------------------------------------------

grep -aqF -f "$lt_secrets" "$lh_tokens"/* 2>/dev/null
[ $? -eq 1 ]
lh_result secrets/not-in-token-file $?

lh_finish
