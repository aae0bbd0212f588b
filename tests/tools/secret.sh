#!/bin/bash
# secret.sh - litehsm secret set, generate, list, show, rm, wrap, unwrap,
# encrypt and decrypt on one token: every success path and the refusals,
# each with its exact stderr line and exit code, a check that a refusal
# changed nothing (secret list --json before and after), that no secret
# value ever shows up in the output or in the token file, and the redis
# workflow of seed 001 (a generated wrapping key, a time-limited token key
# wrapped under it, stored outside, unwrapped back, and data sealed under
# a key derived from the wrapping key).
. "$(dirname "$0")/lib.sh"

lh_litehsm_only 'litehsm token files; not meaningful with SoftHSM2'

lt_pinfile so1 so-secret-1
lt_pinfile pin1 user-pin-1
lt_pinfile bad wrong-pin-9
# the values stored below: none may ever be printed or stored in clear
v_ssear=ssear-value-4f1c9a
v_ssear2=ssear-value-2-b7e03d
v_b64raw=base64-secret-value-0123456789ab   # 32 bytes
lt_secret "$v_ssear" "$v_ssear2" "$v_b64raw" \
	"$(printf %s "$v_b64raw" | base64)"
printf %s "$v_ssear" > "$lh_tmp/v1"
printf %s "$v_ssear2" > "$lh_tmp/v2"
printf %s "$v_b64raw" | base64 > "$lh_tmp/v32.b64"
printf %s "short" > "$lh_tmp/v5"
printf '!!not base64!!' > "$lh_tmp/badb64"
: > "$lh_tmp/empty"
printf 'access-key data for redis\n' > "$lh_tmp/data"

S="--token s --pin-file $lh_tmp/pin1"

# ls_snap FILE: the secrets of token s (names, attributes; never values).
ls_snap () {
	"$lt_tool" secret list --json $S > "$1" 2>&1
}

# ls_py EXPR: evaluate EXPR over "secret list --json" (bound to j); "" without python3.
ls_py () {
	command -v python3 > /dev/null 2>&1 || return 0
	"$lt_tool" secret list --json $S 2>/dev/null |
		python3 -c "import json,sys; j = json.load(sys.stdin); s = {x['name']: x for x in j['secrets']}; print($1)" 2>/dev/null
}

# ls_check NAME EXPR WANT: one TAP line; skipped without python3.
ls_check () {
	local got
	if ! command -v python3 > /dev/null 2>&1; then
		lh_skip "$1" "python3 not found (Debian package python3)"
		return 0
	fi
	got=$(ls_py "$2")
	if [ "$got" = "$3" ]; then
		lh_ok "$1"
	else
		lh_not_ok "$1" "$2: got '$got', want '$3'"
	fi
}

lt_ok setup/init token init --label s --so-pin-file "$lh_tmp/so1" \
	--pin-file "$lh_tmp/pin1"

# ---- help and the command line -------------------------------------------------

lt_ok help/secret secret --help
for c in set generate list show rm wrap unwrap encrypt decrypt; do
	lt_ok "help/$c" secret "$c" --help
	lt_has "help/$c-usage" "^Usage: litehsm secret $c "
done
lt_ok help/top --help
lt_has help/top-secret '^  secret '
lt_fails cli/no-subcommand 2 "'secret' needs a command" secret
lt_fails cli/unknown-subcommand 2 "unknown command 'secret frob'" secret frob
lt_fails cli/no-token 2 "'secret list' needs a token" secret list
lt_fails cli/user-with-token 2 "--user works on the keystores, not on a token" \
	secret set x --user xfer1 $S
lt_fails cli/shared-with-token 2 "--shared works on the keystores, not on a token" \
	secret generate x --bits 256 --shared $S
lt_fails cli/value-in-argv 2 "unexpected argument \"argv-value\" for 'secret set'" \
	secret set ssear argv-value $S
lt_fails cli/unknown-token 4 'no token labelled "nope"' \
	secret list --token nope --pin-file "$lh_tmp/pin1"
lt_fails cli/wrong-pin 3 "the PIN is incorrect (CKR_PIN_INCORRECT)" \
	secret list --token s --pin-file "$lh_tmp/bad"

# ---- set -----------------------------------------------------------------------

lt_ok list/empty secret list $S
lt_has list/empty-text '^No secrets in token "s"$'
lt_ok list/empty-json secret list --json $S
lt_json list/empty-json-parses

ls_snap "$lh_tmp/e0"
lt_in=$lh_tmp/empty lt_fails set/empty-stdin 2 \
	"no value on stdin (it is empty); pipe it in" secret set ssear $S
lt_fails set/no-stdin 2 "no value on stdin (it is empty)" secret set ssear $S
lt_in=$lh_tmp/badb64 lt_fails set/bad-base64 2 \
	"the value on stdin is not valid base64" secret set ssear --base64 $S
lt_in=$lh_tmp/v5 lt_fails set/wrong-size 2 \
	"the value on stdin is 40 bits, not the 256 of --bits" \
	secret set ssear --bits 256 $S
lt_in=$lh_tmp/v32.b64 lt_fails set/b64-wrong-size 2 \
	"the value on stdin is 256 bits, not the 128 of --bits" \
	secret set ssear --base64 --bits 128 $S
head -c 513 /dev/zero | tr '\0' x > "$lh_tmp/v513"
lt_in=$lh_tmp/v513 lt_fails set/too-long 2 \
	"the value on stdin is longer than 512 bytes" secret set ssear $S
lt_in=$lh_tmp/v1 lt_fails set/bits-not-bytes 2 \
	"--bits 12 is not a whole number of bytes" secret set ssear --bits 12 $S
lt_in=$lh_tmp/v1 lt_fails set/bits-not-number 2 \
	"the value \"x\" of --bits is not a whole number" secret set ssear --bits x $S
lt_in=$lh_tmp/v1 lt_fails set/empty-name 2 'the name "" is empty' \
	secret set "" $S
lt_in=$lh_tmp/v1 lt_fails set/control-name 2 "holds control characters" \
	secret set "$(printf 'a\tb')" $S
lt_in=$lh_tmp/v1 lt_fails set/wrong-pin 3 "the PIN is incorrect" \
	secret set ssear --token s --pin-file "$lh_tmp/bad"
ls_snap "$lh_tmp/e1"
lt_same set/refusals-change-nothing "$lh_tmp/e0" "$lh_tmp/e1"

lt_in=$lh_tmp/v1 lt_ok set/ok secret set ssear $S
lt_has set/ok-text '^Stored generic secret "ssear" \(144 bits\) in token "s"$'
ls_check set/listed 's["ssear"]["type"], s["ssear"]["bits"], s["ssear"]["sensitive"], s["ssear"]["extractable"], s["ssear"]["local"], s["ssear"]["usages"]' \
	"generic 144 True False False ['derive']"

ls_snap "$lh_tmp/e2"
lt_in=$lh_tmp/v2 lt_fails set/exists 1 \
	'secret "ssear" in token "s" already exists; use --force to replace it' \
	secret set ssear $S
ls_snap "$lh_tmp/e3"
lt_same set/exists-changes-nothing "$lh_tmp/e2" "$lh_tmp/e3"

lt_in=$lh_tmp/v2 lt_ok set/force secret set ssear --force --json $S
lt_json set/force-json
[ "$(lt_py 'j["replaced"], j["bits"]')" = "True 160" ] ||
	! command -v python3 > /dev/null
lh_result set/force-replaced $?
ls_check set/force-one-left 'sum(1 for x in j["secrets"] if x["name"] == "ssear"), s["ssear"]["bits"]' "1 160"

lt_in=$lh_tmp/v32.b64 lt_ok set/base64 secret set redis-imported --base64 \
	--bits 256 $S
ls_check set/base64-size 's["redis-imported"]["bits"]' 256

# ---- generate --------------------------------------------------------------------

ls_snap "$lh_tmp/g0"
lt_fails gen/no-bits 2 "'secret generate' needs --bits N" \
	secret generate k $S
lt_fails gen/aes-size 2 "an AES key cannot have 100 bits" \
	secret generate k --aes --bits 100 $S
lt_fails gen/generic-size 2 "a generic secret cannot have 12 bits" \
	secret generate k --bits 12 $S
lt_fails gen/bad-days 2 "the value \"0\" of --valid-days is not a whole number" \
	secret generate k --bits 256 --valid-days 0 $S
lt_fails gen/exists 1 'secret "ssear" in token "s" already exists; use --force' \
	secret generate ssear --bits 256 $S
ls_snap "$lh_tmp/g1"
lt_same gen/refusals-change-nothing "$lh_tmp/g0" "$lh_tmp/g1"

lt_ok gen/wrapping secret generate redis-master-key --wrapping --bits 256 $S
lt_has gen/wrapping-text '^Generated wrapping secret "redis-master-key" \(256 bits\)'
ls_check gen/wrapping-attrs 's["redis-master-key"]["type"], s["redis-master-key"]["local"], s["redis-master-key"]["sensitive"], s["redis-master-key"]["extractable"], s["redis-master-key"]["usages"]' \
	"aes True True False ['wrap', 'unwrap', 'derive']"
lt_ok gen/generic secret generate hkdf-base --bits 512 $S
ls_check gen/generic-attrs 's["hkdf-base"]["type"], s["hkdf-base"]["bits"], s["hkdf-base"]["usages"]' \
	"generic 512 ['derive']"
lt_ok gen/aes-dated secret generate token-key --aes --bits 256 --valid-days 30 \
	--extractable --json $S
lt_json gen/aes-dated-json
today=$(date -u +%Y-%m-%d)
end=$(date -u -d "+30 days" +%Y-%m-%d 2>/dev/null || echo "")
ls_check gen/aes-dated-start 's["token-key"]["start_date"]' "$today"
if [ -n "$end" ]; then
	ls_check gen/aes-dated-end 's["token-key"]["end_date"]' "$end"
fi
ls_check gen/aes-attrs 's["token-key"]["type"], s["token-key"]["local"], s["token-key"]["sensitive"], s["token-key"]["extractable"], s["token-key"]["usages"]' \
	"aes True True True ['encrypt', 'decrypt']"
lt_ok gen/force secret generate hkdf-base --bits 256 --force $S
ls_check gen/force-replaced 'sum(1 for x in j["secrets"] if x["name"] == "hkdf-base"), s["hkdf-base"]["bits"]' "1 256"

# ---- list and show -----------------------------------------------------------------

lt_ok list/human secret list $S
lt_has list/header '^NAME +VER +STATE +TYPE +BITS +START +END +LOCAL +SENSITIVE +USAGES$'
lt_has list/row "^token-key +1 +active +aes +256 +$today +[0-9-]+ +yes +yes +encrypt,decrypt$"
lt_has list/row-wrap '^redis-master-key +1 +active +aes +256 +- +- +yes +yes +wrap,unwrap,derive$'
lt_ok list/json secret list --json $S
lt_json list/json-parses
lt_ok show/ok secret show token-key $S
lt_has show/ok-text '^Secret "token-key" in token "s"$'
lt_has show/ok-usages '^  usages: +encrypt,decrypt$'
lt_ok show/json secret show redis-master-key --json $S
lt_json show/json-parses
[ "$(lt_py 'j["name"], j["local"], "value_base64" in j')" = "redis-master-key True False" ] ||
	! command -v python3 > /dev/null
lh_result show/json-fields $?
lt_fails show/value-sensitive 1 \
	'the value of "ssear" cannot be shown: it is sensitive and unextractable' \
	secret show ssear --value $S
lt_fails show/value-sensitive-extractable 1 \
	'the value of "token-key" cannot be shown: it is sensitive;' \
	secret show token-key --value $S
lt_fails show/missing 4 'no secret named "nope" in token "s"; see '"'litehsm secret list'" \
	secret show nope $S

# ---- wrap, unwrap and the redis workflow -----------------------------------------------

ls_snap "$lh_tmp/w0"
lt_fails wrap/no-with 2 "'secret wrap' needs --with KEY" secret wrap token-key $S
lt_fails wrap/missing-key 4 'no secret named "nope"' \
	secret wrap token-key --with nope $S
lt_fails wrap/unextractable 1 \
	'cannot wrap "ssear" with "redis-master-key": the key cannot be extracted' \
	secret wrap ssear --with redis-master-key $S
lt_fails wrap/not-a-wrapping-key 1 \
	'cannot wrap "redis-imported" with "token-key"' \
	secret wrap redis-imported --with token-key $S
ls_snap "$lh_tmp/w1"
lt_same wrap/refusals-change-nothing "$lh_tmp/w0" "$lh_tmp/w1"

lt_ok wrap/ok secret wrap token-key --with redis-master-key $S
cp "$lt_out" "$lh_tmp/token-key.blob"
[ "$(wc -c < "$lh_tmp/token-key.blob")" -eq 40 ]
lh_result wrap/blob-size $?
lt_ok wrap/base64 secret wrap token-key --with redis-master-key --base64 $S
cp "$lt_out" "$lh_tmp/token-key.b64"
[ "$(wc -l < "$lh_tmp/token-key.b64")" -eq 1 ] &&
	base64 -d < "$lh_tmp/token-key.b64" > /dev/null 2>&1
lh_result wrap/base64-one-line $?

lt_fails rm/no-yes 2 "refusing to delete a secret without confirmation" \
	secret rm token-key $S
lt_fails rm/missing 4 'no secret named "nope" in token "s"' secret rm nope --yes $S
ls_snap "$lh_tmp/w2"
lt_same rm/refusals-change-nothing "$lh_tmp/w1" "$lh_tmp/w2"
lt_ok rm/ok secret rm token-key --yes $S
lt_has rm/ok-text '^Deleted secret "token-key" from token "s"$'
ls_check rm/gone '"token-key" in s' False

ls_snap "$lh_tmp/u0"
lt_in=$lh_tmp/token-key.blob lt_fails unwrap/no-as 2 \
	"'secret unwrap' needs --with KEY and --as NAME" \
	secret unwrap --with redis-master-key $S
lt_in=$lh_tmp/empty lt_fails unwrap/empty 2 "no wrapped blob on stdin (it is empty)" \
	secret unwrap --with redis-master-key --as token-key $S
lt_in=$lh_tmp/data lt_fails unwrap/garbage 1 \
	'the blob on stdin is not a key wrapped under "redis-master-key", or it is damaged' \
	secret unwrap --with redis-master-key --as token-key $S
lt_in=$lh_tmp/token-key.blob lt_fails unwrap/exists 1 \
	'secret "ssear" in token "s" already exists; use --force' \
	secret unwrap --with redis-master-key --as ssear $S
lt_in=$lh_tmp/token-key.b64 lt_fails unwrap/base64-without-flag 1 \
	"or it is damaged" secret unwrap --with redis-master-key --as token-key $S
ls_snap "$lh_tmp/u1"
lt_same unwrap/refusals-change-nothing "$lh_tmp/u0" "$lh_tmp/u1"

lt_in=$lh_tmp/token-key.blob lt_ok unwrap/ok \
	secret unwrap --with redis-master-key --as token-key --aes $S
lt_has unwrap/ok-text '^Unwrapped aes secret "token-key" with "redis-master-key" into token "s"$'
ls_check unwrap/attrs 's["token-key"]["type"], s["token-key"]["bits"], s["token-key"]["sensitive"], s["token-key"]["local"], s["token-key"]["usages"]' \
	"aes 256 True False ['encrypt', 'decrypt']"
lt_in=$lh_tmp/token-key.b64 lt_ok unwrap/base64 \
	secret unwrap --with redis-master-key --as token-key-2 --base64 $S
ls_check unwrap/base64-generic 's["token-key-2"]["type"], s["token-key-2"]["usages"]' \
	"generic ['derive']"

# a set value made extractable can be wrapped too (it stays sensitive)
lt_in=$lh_tmp/v1 lt_ok set/extractable secret set ssear-x --extractable $S
ls_check set/extractable-attrs 's["ssear-x"]["sensitive"], s["ssear-x"]["extractable"]' \
	"True True"
lt_ok wrap/set-value secret wrap ssear-x --with redis-master-key --base64 $S
cp "$lt_out" "$lh_tmp/ssear-x.b64"
lt_in=$lh_tmp/ssear-x.b64 lt_ok unwrap/set-value \
	secret unwrap --with redis-master-key --as ssear-y --base64 $S
ls_check unwrap/set-value-size 's["ssear-y"]["bits"], s["ssear-y"]["type"]' \
	"144 generic"
lt_fails show/value-unwrapped 1 'the value of "ssear-y" cannot be shown' \
	secret show ssear-y --value $S
lt_ok rm/set-values-x secret rm ssear-x --yes $S
lt_ok rm/set-values-y secret rm ssear-y --yes $S

# ---- encrypt and decrypt ------------------------------------------------------------

ls_snap "$lh_tmp/c0"
lt_in=$lh_tmp/data lt_fails enc/no-with 2 "'secret encrypt' needs --with KEY" \
	secret encrypt $S
lt_in=$lh_tmp/empty lt_fails enc/empty 2 "no data on stdin (it is empty)" \
	secret encrypt --with redis-master-key $S
lt_in=$lh_tmp/data lt_fails enc/no-derive 1 \
	'cannot derive a data key from "token-key"' \
	secret encrypt --with token-key $S

lt_in=$lh_tmp/data lt_ok enc/ok secret encrypt --with redis-master-key $S
cp "$lt_out" "$lh_tmp/sealed"
[ "$(head -c 4 "$lh_tmp/sealed")" = LHS1 ] &&
	[ "$(wc -c < "$lh_tmp/sealed")" -eq $((49 + $(wc -c < "$lh_tmp/data") + 16)) ]
lh_result enc/format $?
lt_in=$lh_tmp/data lt_ok enc/again secret encrypt --with redis-master-key $S
! cmp -s "$lt_out" "$lh_tmp/sealed"
lh_result enc/fresh-salt-and-iv $?
lt_in=$lh_tmp/sealed lt_ok dec/ok secret decrypt --with redis-master-key $S
cmp -s "$lt_out" "$lh_tmp/data"
lh_result dec/round-trip $?

# one flipped byte in each part: header, salt, IV, ciphertext, tag
n=$(wc -c < "$lh_tmp/sealed")
for off in 0 4 10 40 55 $((n - 1)); do
	python3 -c "import sys; b = bytearray(open(sys.argv[1], 'rb').read()); b[int(sys.argv[2])] ^= 1; open(sys.argv[3], 'wb').write(b)" \
		"$lh_tmp/sealed" "$off" "$lh_tmp/tampered" 2>/dev/null ||
		{ lh_skip "dec/tampered-$off" "python3 not found"; continue; }
	lt_in=$lh_tmp/tampered lt_fails "dec/tampered-$off" 1 \
		"the input is not a litehsm blob or damaged" \
		secret decrypt --with redis-master-key $S
	[ ! -s "$lt_out" ]
	lh_result "dec/tampered-$off-no-output" $?
done
head -c $((n - 1)) "$lh_tmp/sealed" > "$lh_tmp/truncated"
lt_in=$lh_tmp/truncated lt_fails dec/truncated 1 \
	"the input is not a litehsm blob or damaged" \
	secret decrypt --with redis-master-key $S
head -c 30 "$lh_tmp/sealed" > "$lh_tmp/short"
lt_in=$lh_tmp/short lt_fails dec/short 1 \
	"the input is not a litehsm blob or damaged" \
	secret decrypt --with redis-master-key $S
lt_in=$lh_tmp/data lt_fails dec/not-a-blob 1 \
	"the input is not a litehsm blob or damaged" \
	secret decrypt --with redis-master-key $S
lt_in=$lh_tmp/sealed lt_fails dec/other-key 1 \
	"the input is not a litehsm blob or damaged" \
	secret decrypt --with hkdf-base $S
lt_in=$lh_tmp/data lt_ok enc/generic secret encrypt --with hkdf-base $S
cp "$lt_out" "$lh_tmp/sealed2"
lt_in=$lh_tmp/sealed2 lt_ok dec/generic secret decrypt --with hkdf-base $S
cmp -s "$lt_out" "$lh_tmp/data"
lh_result dec/generic-round-trip $?
ls_snap "$lh_tmp/c1"
lt_same crypt/no-objects-left "$lh_tmp/c0" "$lh_tmp/c1"

# ---- no value anywhere -------------------------------------------------------------

grep -aqF -f "$lt_secrets" "$lh_tokens"/* 2>/dev/null
[ $? -eq 1 ]
lh_result secrets/not-in-token-file $?
lt_ok secrets/final-list secret list --json $S
lt_json secrets/final-list-json

# ---- rm with JSON, and a last look ----------------------------------------------------

lt_ok rm/json secret rm token-key-2 --yes --json $S
lt_json rm/json-parses
ls_check rm/final-names 'sorted(s)' \
	"['hkdf-base', 'redis-imported', 'redis-master-key', 'ssear', 'token-key']"

lh_finish
