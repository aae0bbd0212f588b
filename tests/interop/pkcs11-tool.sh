#!/bin/bash
# pkcs11-tool.sh - OpenSC's pkcs11-tool drives the module as a user would:
# create a token on the free slot, set the user PIN, write, list, read and
# delete a data object and a certificate, keep private objects hidden until
# login, refuse a wrong PIN, create a second token on the next free slot and
# change the user PIN.
. "$(dirname "$0")/lib.sh"
lh_need pkcs11-tool opensc
lh_need openssl openssl

SO=so-secret-1
PIN=user-pin-1
PIN2=user-pin-2
T="--token-label t"

# -- token creation --
slot=$(lh_free_slot)
lh_result slots/free-slot "$([ -n "$slot" ]; echo $?)" \
	"pkcs11-tool -L shows no uninitialized token:" "$(p11 -L 2>&1)"

lh_check token/init p11 --slot "${slot:-0}" --init-token --label t --so-pin "$SO"
lh_check_output slots/label-shown '^ *token label *: t$' p11 -L
lh_check_output slots/list-token-slots '^ *token label *: t$' p11 -T
lh_check_output token/flags-initialized 'token flags *:.*token initialized' p11 $T -L

lh_check pin/init-pin p11 $T --login --so-pin "$SO" --init-pin --pin "$PIN"
lh_check_output token/flags-pin-initialized 'token flags *:.*PIN initialized' p11 -L

# -- objects --
lh_check objects/list-empty p11 $T --login --pin "$PIN" -O
if grep -qE '^(Data object|Certificate Object|Private Key|Public Key|Secret Key)' "$lh_out"; then
	lh_not_ok objects/new-token-empty "$(cat "$lh_out")"
else
	lh_ok objects/new-token-empty
fi

printf 'litehsm interop data object %s\n' "$$" > "$lh_tmp/data.bin"
lh_check data/write p11 $T --login --pin "$PIN" --write-object "$lh_tmp/data.bin" \
	--type data --label d --application-label app

lh_make_cert c || lh_diag "openssl req failed: $(cat "$lh_tmp/openssl.out")"
lh_check cert/write p11 $T --login --pin "$PIN" --write-object "$lh_tmp/c.der" \
	--type cert --id 01 --label c

lh_check_output objects/list-data "label: *'d'" p11 $T --login --pin "$PIN" -O
grep -qE "application: *'app'" "$lh_out"
lh_result objects/list-data-application $? "$(cat "$lh_out")"
grep -qE '^Certificate Object' "$lh_out" && grep -qE '^ *label: *c$' "$lh_out" &&
	grep -qE '^ *ID: *01$' "$lh_out" && grep -qE 'subject: *DN: CN ?= ?litehsm interop c' "$lh_out"
lh_result objects/list-cert $? "$(cat "$lh_out")"

# Public objects are visible (and checked) without login.
lh_check_output objects/list-public-no-login "label: *'d'" p11 $T -O
grep -qE '^ *label: *c$' "$lh_out"
lh_result objects/list-cert-no-login $? "$(cat "$lh_out")"

lh_check data/read p11 $T --read-object --type data --label d -o "$lh_tmp/data.out"
cmp "$lh_tmp/data.bin" "$lh_tmp/data.out" > /dev/null 2>&1
lh_result data/read-same-bytes $? "read-object returned other bytes than written"

lh_check cert/read p11 $T --read-object --type cert --id 01 -o "$lh_tmp/c.out"
cmp "$lh_tmp/c.der" "$lh_tmp/c.out" > /dev/null 2>&1
lh_result cert/read-same-bytes $? "read-object returned another certificate"

# -- private objects --
printf 'private payload %s\n' "$$" > "$lh_tmp/priv.bin"
lh_check private/write p11 $T --login --pin "$PIN" --write-object "$lh_tmp/priv.bin" \
	--type data --label pd --private
lh_check_no_output private/hidden-without-login "label: *'pd'" p11 $T -O
lh_check_output private/listed-after-login "label: *'pd'" p11 $T --login --pin "$PIN" -O
lh_check private/read p11 $T --login --pin "$PIN" --read-object --type data --label pd \
	-o "$lh_tmp/priv.out"
cmp "$lh_tmp/priv.bin" "$lh_tmp/priv.out" > /dev/null 2>&1
lh_result private/read-same-bytes $? "read-object returned other bytes than written"
lh_check_fails private/read-without-login p11 $T --read-object --type data --label pd \
	-o "$lh_tmp/priv.none"

# -- wrong PIN --
lh_check_fails pin/wrong-pin-refused p11 $T --login --pin wrong-pin -O
grep -q CKR_PIN_INCORRECT "$lh_out"
lh_result pin/wrong-pin-incorrect $? "expected CKR_PIN_INCORRECT:" "$(cat "$lh_out")"
lh_check_output pin/count-low-flag 'token flags *:.*user PIN count low' p11 -L
lh_check pin/right-pin-after-wrong p11 $T --login --pin "$PIN" -O
lh_check_no_output pin/count-reset 'user PIN count low' p11 -L

# -- delete --
lh_check data/delete p11 $T --login --pin "$PIN" --delete-object --type data --label d
lh_check_no_output data/gone "label: *'d'" p11 $T --login --pin "$PIN" -O
lh_check cert/delete p11 $T --login --pin "$PIN" --delete-object --type cert --id 01
lh_check_no_output cert/gone '^Certificate Object' p11 $T --login --pin "$PIN" -O
lh_check_fails data/read-deleted p11 $T --read-object --type data --label d \
	-o "$lh_tmp/data.none"

# -- a second token on the next free slot (not labelled "t..." because
# pkcs11-tool --token-label matches a prefix) --
slot2=$(lh_free_slot)
[ -n "$slot2" ] && [ "$slot2" != "$slot" ]
lh_result slots/new-free-slot $? "free slot '$slot2' (first was '$slot'):" "$(p11 -L 2>&1)"
lh_check token2/init p11 --slot "${slot2:-0}" --init-token --label other --so-pin "$SO"
lh_check_output token2/listed '^ *token label *: other$' p11 -L
grep -qE '^ *token label *: t$' "$lh_out"
lh_result token2/first-still-listed $? "$(cat "$lh_out")"
lh_check token2/init-pin p11 --token-label other --login --so-pin "$SO" --init-pin --pin "$PIN"
lh_check_no_output token2/empty "label: *'pd'" p11 --token-label other --login --pin "$PIN" -O
lh_check_output token2/first-keeps-objects "label: *'pd'" p11 $T --login --pin "$PIN" -O

# -- change the user PIN --
lh_check pin/change p11 $T --login --pin "$PIN" --change-pin --new-pin "$PIN2"
lh_check_output pin/new-pin-works "label: *'pd'" p11 $T --login --pin "$PIN2" -O
lh_check_fails pin/old-pin-refused p11 $T --login --pin "$PIN" -O
lh_check pin/other-token-unchanged p11 --token-label other --login --pin "$PIN" -O
cmp "$lh_tmp/priv.bin" <(p11 $T --login --pin "$PIN2" --read-object --type data \
	--label pd 2>/dev/null) > /dev/null 2>&1
lh_result pin/objects-readable-after-change $? "private object differs after PIN change"

# -- ten wrong user PINs lock the PIN (default max_pin_failures = 10); the
# flags show the way there; the SO unlocks with C_InitPIN --
O="--token-label other"
bad=0
for i in 1 2 3 4 5 6 7 8; do
	lh_run p11 $O --login --pin wrong-pin -O
	st=$?
	{ [ $st -ne 0 ] && [ $st -lt 128 ] && grep -q CKR_PIN_INCORRECT "$lh_out"; } ||
		{ bad=1; lh_diag "wrong PIN $i: status $st" "$(cat "$lh_out")"; }
done
lh_result lockout/eight-wrong-pins-incorrect $bad
flags=$(lh_token_flags other)
grep -q 'user PIN count low' <<< "$flags" && ! grep -qE 'final user PIN try|user PIN locked' <<< "$flags"
lh_result lockout/flags-count-low $? "flags after 8 wrong PINs: '$flags'"
lh_check_fails lockout/ninth-wrong-pin p11 $O --login --pin wrong-pin -O
flags=$(lh_token_flags other)
grep -q 'final user PIN try' <<< "$flags"
lh_result lockout/flags-final-try $? "flags after 9 wrong PINs: '$flags'"
lh_check_fails lockout/tenth-wrong-pin p11 $O --login --pin wrong-pin -O
flags=$(lh_token_flags other)
grep -q 'user PIN locked' <<< "$flags"
lh_result lockout/flags-locked $? "flags after 10 wrong PINs: '$flags'"
lh_check_fails lockout/right-pin-refused p11 $O --login --pin "$PIN" -O
grep -q CKR_PIN_LOCKED "$lh_out"
lh_result lockout/right-pin-locked $? "expected CKR_PIN_LOCKED:" "$(cat "$lh_out")"
lh_check lockout/so-resets-pin p11 $O --login --so-pin "$SO" --init-pin --pin "$PIN"
flags=$(lh_token_flags other)
! grep -qE 'user PIN locked|user PIN count low|final user PIN try' <<< "$flags"
lh_result lockout/flags-cleared $? "flags after the SO reset: '$flags'"
lh_check lockout/login-after-reset p11 $O --login --pin "$PIN" -O
lh_check_output lockout/other-token-unaffected "label: *'pd'" p11 $T --login --pin "$PIN2" -O

lh_finish
