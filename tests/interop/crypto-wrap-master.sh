#!/bin/bash
# crypto-wrap-master.sh - issue 3, "Done when": an AES-256 data key wrapped
# under a token key "redis-master-key" with CKM_AES_KEY_WRAP_PAD can be
# kept outside the token (here a file, as an application keeps it in
# Redis) and unwrapped in another process's session, where it decrypts what
# the first process encrypted; the master key's CKA_VALUE can never be read.
#
# The master key is made as a user would, with pkcs11-tool (wrap/unwrap
# usage only, sensitive, not extractable); the two processes are
# tests/interop/lh-wrapkey (see its header).  Negative checks: another
# token's "redis-master-key" and a tampered blob do not unwrap, and every
# way we know to read, export or re-purpose the master key fails.
. "$(dirname "$0")/lib.sh"
lh_need pkcs11-tool opensc

tool=${LH_WRAPKEY:-${LH_BUILDDIR:-.}/tests/interop/lh-wrapkey}
if [ ! -x "$tool" ]; then
	lh_not_ok helper/built "no lh-wrapkey program at $tool (make check builds it)"
	lh_finish
fi
PLAINTEXT="the quick brown fox jumps over the lazy redis, 42 times"
SO=so-secret-6
PIN=user-pin-6
MK=redis-master-key

wk () {
	lh_client "$tool" "$@"
}

lh_init_token redis "$SO" "$PIN" || lh_not_ok token/init "see above"
lh_check master/keygen p11 --token-label redis --login --pin "$PIN" --keygen \
	--key-type AES:32 --label $MK --id 4d4b --usage-wrap --sensitive
lh_check_output master/listed "label: *$MK" p11 --token-label redis --login \
	--pin "$PIN" -O --type secrkey
grep -qE '^ *Usage: .*wrap, unwrap' "$lh_out" && ! grep -qE '^ *Usage: .*(encrypt|decrypt)' "$lh_out"
lh_result master/usage-wrap-only $? "$(cat "$lh_out")"
grep -qE '^ *Access: .*never extractable.*local' "$lh_out"
lh_result master/never-extractable-local $? "$(cat "$lh_out")"

# -- process 1 wraps, process 2 unwraps ---------------------------------------
lh_check wrap/first-process wk wrap redis "$PIN" $MK "$lh_tmp/datakey.bin"
lh_result wrap/blob-size "$([ "$(stat -c %s "$lh_tmp/datakey.bin" 2>/dev/null)" = 40 ]; echo $?)" \
	"RFC 5649 wrap of a 32-byte key is 40 bytes, got $(stat -c %s "$lh_tmp/datakey.bin" 2>&1)"
lh_check_output unwrap/second-process "^$PLAINTEXT\$" \
	wk unwrap redis "$PIN" $MK "$lh_tmp/datakey.bin"
lh_check_output unwrap/third-process "^$PLAINTEXT\$" \
	wk unwrap redis "$PIN" $MK "$lh_tmp/datakey.bin"

# The same label on another token is another key.
lh_init_token other "$SO" "$PIN" || lh_not_ok token/init-other "see above"
lh_check master/other-keygen p11 --token-label other --login --pin "$PIN" --keygen \
	--key-type AES:32 --label $MK --usage-wrap --sensitive
lh_check_fails unwrap/other-master-refused wk unwrap other "$PIN" $MK "$lh_tmp/datakey.bin"
grep -qE 'C_UnwrapKey.*rv 0x(110|40)$' "$lh_out"
lh_result unwrap/other-master-wrapped-key-invalid $? \
	"want CKR_WRAPPED_KEY_INVALID (0x110) or CKR_ENCRYPTED_DATA_INVALID (0x40):" "$(cat "$lh_out")"

cp "$lh_tmp/datakey.bin" "$lh_tmp/bad.bin"
cp "$lh_tmp/datakey.bin.ct" "$lh_tmp/bad.bin.ct"
lh_flip_byte "$lh_tmp/bad.bin" 17
lh_check_fails unwrap/tampered-refused wk unwrap redis "$PIN" $MK "$lh_tmp/bad.bin"
lh_check_fails unwrap/wrong-pin-refused wk unwrap redis wrong-pin $MK "$lh_tmp/datakey.bin"

# -- the master key's value never comes out --------------------------------------
lh_check_fails master/pkcs11-tool-read-refused p11 --token-label redis --login \
	--pin "$PIN" --read-object --type secrkey --label $MK -o "$lh_tmp/mk.out"
[ ! -s "$lh_tmp/mk.out" ]
lh_result master/pkcs11-tool-read-nothing $? "pkcs11-tool wrote the master key to a file"

lh_check master/attack wk attack redis "$PIN" $MK
attack=$(cat "$lh_out")
# expect NAME RV-REGEX: the attempt's line must match
expect () {
	grep -qE "^$1 rv=$2\$" "$lh_tmp/attack.out"
	lh_result "master/$1" $? "want rv $2:" "$attack"
}
printf '%s\n' "$attack" > "$lh_tmp/attack.out"
expect get-value 0x11                       # CKR_ATTRIBUTE_SENSITIVE
grep -qE '^get-value-len (-1|18446744073709551615)$' "$lh_tmp/attack.out"
lh_result master/get-value-unavailable-length $? "want CK_UNAVAILABLE_INFORMATION:" "$attack"
expect set-insensitive '0x(10|13|1b|d1)'    # read-only, value invalid, prohibited, inconsistent
expect set-extractable '0x(10|13|1b|d1)'
expect copy-insensitive '0x(10|13|1b|d1)'
expect wrap-master 0x6a                     # CKR_KEY_UNEXTRACTABLE
expect wrap-self '0x(6a|69)'                # unextractable / not wrappable
expect set-decrypt '0x(10|13|1b|d1)'        # strict policy: no decrypt on a wrapping key
expect decrypt-init '0x68'                  # CKR_KEY_FUNCTION_NOT_PERMITTED
expect encrypt-init '0x68'
expect get-value-again 0x11
grep -q '^generate-kek rv=0x0$' "$lh_tmp/attack.out"
lh_result master/attack-kek-made "$?" "the attack's own KEK could not be made:" "$attack"

lh_finish
