#!/bin/bash
# p11tool.sh - GnuTLS p11tool drives the module: --initialize a token on the
# free slot (p11tool selects it by its blank label, "pkcs11:token="), set
# the user PIN, write a certificate and a secret key, --list-tokens,
# --list-all with and without login (PINs from GNUTLS_PIN / GNUTLS_SO_PIN as
# a script would pass them), export, rename and delete, a wrong PIN.
. "$(dirname "$0")/lib.sh"
lh_need p11tool gnutls-bin
lh_need openssl openssl

SO=so-secret-1
PIN=user-pin-1
TOK="pkcs11:token=pt"
export GNUTLS_SO_PIN=$SO GNUTLS_PIN=$PIN

lh_check token/initialize lh_p11tool --initialize "pkcs11:token=" --label=pt --set-so-pin="$SO"
lh_check_output token/list-tokens '^[[:space:]]*Label: pt$' lh_p11tool --list-tokens
grep -qE 'Flags:.*uPIN uninitialized' "$lh_out"
lh_result token/flags-upin-uninitialized $? "$(cat "$lh_out")"
lh_check_output token/list-token-urls '^pkcs11:.*token=pt(;|$)' lh_p11tool --list-token-urls

lh_check pin/initialize-pin lh_p11tool --initialize-pin "$TOK" --set-pin="$PIN"
lh_check_no_output pin/flags-upin-set 'uPIN uninitialized' lh_p11tool --list-tokens

lh_make_cert c || lh_diag "openssl req failed: $(cat "$lh_tmp/openssl.out")"
lh_check cert/write lh_p11tool --login --write "$TOK" --load-certificate "$lh_tmp/c.pem" \
	--label=c --id=01
lh_check secret/write lh_p11tool --login --write "$TOK" \
	--secret-key=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f \
	--label=sk --id=02

lh_check_output list/cert-without-login '^[[:space:]]*Label: c$' lh_p11tool --list-all "$TOK"
grep -qE '^[[:space:]]*Label: sk$' "$lh_out"
[ $? -ne 0 ]
lh_result list/secret-hidden-without-login $? "$(cat "$lh_out")"
grep -qE 'URL: pkcs11:.*token=pt;id=%01;object=c;type=cert' "$lh_out"
lh_result list/cert-url $? "$(cat "$lh_out")"

lh_check_output list/secret-after-login '^[[:space:]]*Label: sk$' lh_p11tool --login --list-all "$TOK"
grep -qE '^[[:space:]]*Label: c$' "$lh_out"
lh_result list/cert-after-login $? "$(cat "$lh_out")"
grep -qE 'Flags:.*CKA_PRIVATE.*CKA_SENSITIVE' "$lh_out"
lh_result list/secret-private-sensitive $? "$(cat "$lh_out")"
lh_check_output list/all-certs 'Label: c$' lh_p11tool --list-all-certs "$TOK"

lh_check cert/export lh_p11tool --export "$TOK;object=c" --outder --outfile="$lh_tmp/c.out"
cmp "$lh_tmp/c.der" "$lh_tmp/c.out" > /dev/null 2>&1
lh_result cert/export-same-bytes $? "exported certificate differs from the written one"
lh_check_output cert/info 'Label: c$' lh_p11tool --info "$TOK;object=c"

GNUTLS_PIN=wrong-pin lh_check_fails pin/wrong-pin-refused lh_p11tool --login --list-all "$TOK"
grep -qiE 'wrong (pin|password)' "$lh_out"
lh_result pin/wrong-pin-reported $? "$(cat "$lh_out")"
lh_check pin/right-pin-after-wrong lh_p11tool --login --list-all "$TOK"

lh_check cert/set-label lh_p11tool --login --set-label=c2 "$TOK;object=c"
lh_check_output cert/renamed 'Label: c2$' lh_p11tool --list-all "$TOK"
lh_check cert/delete lh_p11tool --login --delete "$TOK;object=c2"
lh_check_no_output cert/gone 'Label: c2?$' lh_p11tool --login --list-all "$TOK"
grep -qE '^[[:space:]]*Label: sk$' "$lh_out"
lh_result secret/still-there $? "$(cat "$lh_out")"

lh_run lh_p11tool --generate-random=32 "$TOK" --outfile="$lh_tmp/rand"
[ -f "$lh_tmp/rand" ] && [ "$(wc -c < "$lh_tmp/rand")" -ge 32 ]
lh_result random/generate $? "$(cat "$lh_out")"

lh_check token2/initialize lh_p11tool --initialize "pkcs11:token=" --label=pt2 --set-so-pin="$SO"
lh_check_output token2/listed '^[[:space:]]*Label: pt2$' lh_p11tool --list-tokens
grep -qE '^[[:space:]]*Label: pt$' "$lh_out"
lh_result token2/first-still-listed $? "$(cat "$lh_out")"

lh_finish
