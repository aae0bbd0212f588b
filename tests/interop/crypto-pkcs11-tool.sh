#!/bin/bash
# crypto-pkcs11-tool.sh - issue 3, "Done when": OpenSC's pkcs11-tool --test
# passes on a token holding an RSA-2048 and an EC P-256 key pair made with
# --keypairgen, and its sign/verify, encrypt/decrypt and wrap/unwrap
# commands work on litehsm keys, checked against OpenSSL where a result can
# be checked outside the token (signatures with the exported public key,
# AES with a key imported with --write-object, OAEP encrypted by OpenSSL).
. "$(dirname "$0")/lib.sh"
lh_need pkcs11-tool opensc
lh_need openssl openssl

SO=so-secret-3
PIN=user-pin-3
T="--token-label crypto"
L="$T --login --pin $PIN"
IV=000102030405060708090a0b0c0d0e0f

lh_init_token crypto "$SO" "$PIN" || lh_not_ok token/init "see above"

# -- keys ----------------------------------------------------------------------
lh_check keys/rsa-2048-keypairgen p11 $L --keypairgen --key-type rsa:2048 \
	--id 01 --label rsa
lh_check keys/ec-p256-keypairgen p11 $L --keypairgen --key-type EC:prime256v1 \
	--id 02 --label ec
lh_check_output keys/rsa-listed 'Private Key Object; RSA' p11 $L -O --type privkey
grep -qE '^Private Key Object; EC' "$lh_out"
lh_result keys/ec-listed $? "$(cat "$lh_out")"

# -- pkcs11-tool --test --------------------------------------------------------
# A token that does not claim CKF_HW gets no signature tests unless
# --allow-sw says software mechanisms count: run both.
for mode in plain allow-sw; do
	extra=
	[ $mode = allow-sw ] && extra=--allow-sw
	lh_run p11 $L --test $extra
	st=$?
	if [ $st -ne 0 ] || ! grep -q '^No errors' "$lh_out" ||
	   grep -v '^No errors' "$lh_out" | grep -qiE 'ERR:|error|failed|mismatch'; then
		lh_not_ok "test/$mode" "pkcs11-tool --test $extra: status $st" "$(cat "$lh_out")"
	else
		lh_ok "test/$mode"
	fi
done
# With --allow-sw the RSA signature mechanisms must really have been tried.
grep -qE 'SHA256-RSA-PKCS: OK' "$lh_out" && grep -qE 'RSA-PKCS-OAEP.*OK|^OK' "$lh_out"
lh_result test/allow-sw-covers-sign-and-oaep $? "$(cat "$lh_out")"

# -- public keys for OpenSSL ------------------------------------------------------
lh_check pubkey/read-rsa p11 $T --read-object --type pubkey --id 01 -o "$lh_tmp/rsa.der"
# OpenSC 0.23's --read-object of an EC public key uses memory it has freed
# (AddressSanitizer says so in the ASan run): make the SPKI from CKA_EC_POINT.
lh_check_output pubkey/read-ec '^ *EC_POINT: *0441' p11 $T -O --type pubkey --id 02
point=$(sed -n 's/^ *EC_POINT: *0441\([0-9a-f]\{130\}\)$/\1/p' "$lh_out")
spki=3059301306072a8648ce3d020106082a8648ce3d030107034200$point
printf "$(printf '%s' "$spki" | sed 's/../\\x&/g')" > "$lh_tmp/ec.der"
lh_check pubkey/rsa-to-pem openssl pkey -pubin -inform DER -in "$lh_tmp/rsa.der" \
	-out "$lh_tmp/rsa.pem"
lh_check pubkey/ec-to-pem openssl pkey -pubin -inform DER -in "$lh_tmp/ec.der" \
	-out "$lh_tmp/ec.pem"

head -c 3000 /dev/urandom > "$lh_tmp/data"

# sign_check NAME MECH ID OPENSSL-VERIFY-ARGS...: pkcs11-tool signs, then
# pkcs11-tool verifies, OpenSSL verifies with the exported public key, and
# a tampered signature is refused by the token.
sign_check () {
	local name=$1 mech=$2 id=$3 fmt=
	shift 3
	case $mech in ECDSA*) fmt="--signature-format openssl" ;; esac
	lh_check "sign/$name" p11 $L --sign --id "$id" -m "$mech" $fmt \
		-i "$lh_tmp/data" -o "$lh_tmp/$name.sig" || return
	lh_check_output "verify/$name-token" 'Signature is valid' \
		p11 $L --verify --id "$id" -m "$mech" $fmt -i "$lh_tmp/data" \
		--signature-file "$lh_tmp/$name.sig"
	lh_check_output "verify/$name-openssl" 'Verified OK' \
		openssl dgst "$@" -signature "$lh_tmp/$name.sig" "$lh_tmp/data"
	if [ ! -s "$lh_tmp/$name.sig" ]; then
		lh_not_ok "verify/$name-tampered-refused" "no signature to tamper with"
		return
	fi
	cp "$lh_tmp/$name.sig" "$lh_tmp/$name.bad"
	lh_flip_byte "$lh_tmp/$name.bad" 20
	# pkcs11-tool says "Invalid signature" (status 0) for
	# CKR_SIGNATURE_INVALID and fails on any other error code
	lh_check_output "verify/$name-tampered-refused" '^Invalid signature' \
		p11 $L --verify --id "$id" -m "$mech" $fmt -i "$lh_tmp/data" \
		--signature-file "$lh_tmp/$name.bad"
}

sign_check rsa-sha256 SHA256-RSA-PKCS 01 -sha256 -verify "$lh_tmp/rsa.pem"
sign_check rsa-sha512 SHA512-RSA-PKCS 01 -sha512 -verify "$lh_tmp/rsa.pem"
sign_check rsa-pss-sha256 SHA256-RSA-PKCS-PSS 01 -sha256 -verify "$lh_tmp/rsa.pem" \
	-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32
sign_check ecdsa-sha256 ECDSA-SHA256 02 -sha256 -verify "$lh_tmp/ec.pem"
sign_check ecdsa-sha384 ECDSA-SHA384 02 -sha384 -verify "$lh_tmp/ec.pem"

# Raw CKM_ECDSA over a hash computed outside.
openssl dgst -sha256 -binary "$lh_tmp/data" > "$lh_tmp/data.sha256"
lh_check sign/ecdsa-raw p11 $L --sign --id 02 -m ECDSA --signature-format openssl \
	-i "$lh_tmp/data.sha256" -o "$lh_tmp/raw.sig"
lh_check_output verify/ecdsa-raw-openssl 'Verified OK' \
	openssl dgst -sha256 -verify "$lh_tmp/ec.pem" -signature "$lh_tmp/raw.sig" "$lh_tmp/data"

# -- RSA OAEP: OpenSSL encrypts to the public key, the token decrypts -----------
head -c 48 /dev/urandom > "$lh_tmp/secret"
if openssl pkeyutl -encrypt -pubin -inkey "$lh_tmp/rsa.pem" -in "$lh_tmp/secret" \
	-out "$lh_tmp/oaep.bin" -pkeyopt rsa_padding_mode:oaep \
	-pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 > "$lh_out" 2>&1; then
	lh_check decrypt/rsa-oaep-sha256 p11 $L --decrypt --id 01 -m RSA-PKCS-OAEP \
		--hash-algorithm SHA256 --mgf MGF1-SHA256 -i "$lh_tmp/oaep.bin" \
		-o "$lh_tmp/secret.out"
	cmp -s "$lh_tmp/secret" "$lh_tmp/secret.out"
	lh_result decrypt/rsa-oaep-same-bytes $? "OAEP decryption gave other bytes"
else
	lh_not_ok decrypt/rsa-oaep-sha256 "openssl pkeyutl -encrypt failed" "$(cat "$lh_out")"
fi
openssl pkeyutl -encrypt -pubin -inkey "$lh_tmp/rsa.pem" -in "$lh_tmp/secret" \
	-out "$lh_tmp/v15.bin" > /dev/null 2>&1
lh_check decrypt/rsa-pkcs1 p11 $L --decrypt --id 01 -m RSA-PKCS \
	-i "$lh_tmp/v15.bin" -o "$lh_tmp/secret.v15"
cmp -s "$lh_tmp/secret" "$lh_tmp/secret.v15"
lh_result decrypt/rsa-pkcs1-same-bytes $? "PKCS#1 v1.5 decryption gave other bytes"

# -- AES --------------------------------------------------------------------------
# A known key imported as a secret-key object: the token must encrypt
# exactly as OpenSSL does.  The 3000-byte input makes pkcs11-tool go
# multi-part, 1 KiB per C_EncryptUpdate into a 1 KiB buffer.
head -c 32 /dev/urandom > "$lh_tmp/aes.key"
KEYHEX=$(od -An -tx1 -v "$lh_tmp/aes.key" | tr -d ' \n')
lh_check aes/import p11 $L --write-object "$lh_tmp/aes.key" --type secrkey \
	--key-type AES:32 --id 20 --label aes-known --usage-decrypt
lh_check aes/encrypt-cbc-pad p11 $L --encrypt --id 20 -m AES-CBC-PAD --iv $IV \
	-i "$lh_tmp/data" -o "$lh_tmp/aes.ct"
openssl enc -aes-256-cbc -K "$KEYHEX" -iv $IV -in "$lh_tmp/data" -out "$lh_tmp/aes.ref" 2>/dev/null
[ -s "$lh_tmp/aes.ct" ] && cmp -s "$lh_tmp/aes.ct" "$lh_tmp/aes.ref"
lh_result aes/cbc-pad-same-as-openssl $? "ciphertext differs from openssl enc -aes-256-cbc"
lh_check aes/decrypt-cbc-pad p11 $L --decrypt --id 20 -m AES-CBC-PAD --iv $IV \
	-i "$lh_tmp/aes.ref" -o "$lh_tmp/aes.pt"
cmp -s "$lh_tmp/data" "$lh_tmp/aes.pt"
lh_result aes/cbc-pad-round-trip $? "decryption gave other bytes"
head -c 2048 "$lh_tmp/data" > "$lh_tmp/data2k"
lh_check aes/encrypt-ecb p11 $L --encrypt --id 20 -m AES-ECB -i "$lh_tmp/data2k" \
	-o "$lh_tmp/ecb.ct"
openssl enc -aes-256-ecb -nopad -K "$KEYHEX" -in "$lh_tmp/data2k" -out "$lh_tmp/ecb.ref" 2>/dev/null
[ -s "$lh_tmp/ecb.ct" ] && cmp -s "$lh_tmp/ecb.ct" "$lh_tmp/ecb.ref"
lh_result aes/ecb-same-as-openssl $? "ciphertext differs from openssl enc -aes-256-ecb"

# A generated key: round trip only (its value never leaves the token).
lh_check aes/keygen p11 $L --keygen --key-type AES:32 --id 21 --label aes-gen \
	--sensitive --usage-decrypt
lh_check aes/encrypt-generated p11 $L --encrypt --id 21 -m AES-CBC-PAD --iv $IV \
	-i "$lh_tmp/data" -o "$lh_tmp/gen.ct"
lh_check aes/decrypt-generated p11 $L --decrypt --id 21 -m AES-CBC-PAD --iv $IV \
	-i "$lh_tmp/gen.ct" -o "$lh_tmp/gen.pt"
[ -s "$lh_tmp/gen.pt" ] && cmp -s "$lh_tmp/data" "$lh_tmp/gen.pt"
lh_result aes/generated-round-trip $? "decryption gave other bytes"
lh_check_fails aes/generated-value-unreadable p11 $L --read-object --type secrkey \
	--id 21 -o "$lh_tmp/gen.value"

# -- wrap / unwrap (AES key wrap with padding: no name in OpenSC 0.23) ---------
lh_check wrap/kek-keygen p11 $L --keygen --key-type AES:32 --id 30 --label kek \
	--usage-wrap --sensitive
lh_check wrap/data-key-keygen p11 $L --keygen --key-type AES:32 --id 31 \
	--label wrapped-key --extractable --sensitive --usage-decrypt
lh_check wrap/wrap-kwp p11 $L --wrap --id 30 --application-id 31 -m 0x210A \
	-o "$lh_tmp/wrapped.bin"
lh_result wrap/blob-is-40-bytes "$([ "$(stat -c %s "$lh_tmp/wrapped.bin" 2>/dev/null)" = 40 ]; echo $?)" \
	"RFC 5649 wrap of a 32-byte key is 40 bytes, got $(stat -c %s "$lh_tmp/wrapped.bin" 2>&1)"
lh_check wrap/wrap-kw p11 $L --wrap --id 30 --application-id 31 -m AES-KEY-WRAP \
	-o "$lh_tmp/wrapped-kw.bin"
# Strict policy: an unwrapped key is never less sensitive than it was;
# pkcs11-tool asks for CKA_SENSITIVE false unless --sensitive is given.
lh_check_fails wrap/unwrap-insensitive-refused p11 $L --unwrap --id 30 -m 0x210A \
	-i "$lh_tmp/wrapped.bin" --key-type AES: --application-id 32 --application-label unwrapped
grep -q CKR_TEMPLATE_INCONSISTENT "$lh_out"
lh_result wrap/unwrap-insensitive-rv $? "$(cat "$lh_out")"
lh_check wrap/unwrap-kwp p11 $L --unwrap --id 30 -m 0x210A -i "$lh_tmp/wrapped.bin" \
	--key-type AES: --application-id 32 --application-label unwrapped --sensitive
lh_check wrap/unwrap-kw p11 $L --unwrap --id 30 -m AES-KEY-WRAP \
	-i "$lh_tmp/wrapped-kw.bin" --key-type AES: --application-id 33 \
	--application-label unwrapped-kw --sensitive
# (under 1 KiB: pkcs11-tool makes that one C_Encrypt call)
head -c 500 "$lh_tmp/data" > "$lh_tmp/data500"
for id in 31 32 33; do
	lh_check wrap/encrypt-with-$id p11 $L --encrypt --id $id -m AES-CBC-PAD --iv $IV \
		-i "$lh_tmp/data500" -o "$lh_tmp/w$id.ct"
done
[ -s "$lh_tmp/w31.ct" ] && cmp -s "$lh_tmp/w31.ct" "$lh_tmp/w32.ct" &&
	cmp -s "$lh_tmp/w31.ct" "$lh_tmp/w33.ct"
lh_result wrap/unwrapped-keys-encrypt-the-same $? \
	"the unwrapped keys encrypt differently from the original"
# The KEK is neither extractable nor wrappable by itself.
lh_check_fails wrap/kek-not-wrappable p11 $L --wrap --id 30 --application-id 30 \
	-m 0x210A -o "$lh_tmp/self.bin"

lh_finish
