#!/bin/bash
# p11-kit-remote.sh - issue 6, p11-kit remoting: what tests/interop/
# p11-kit.sh (p11-kit server + p11-kit-client.so listing the token and
# reading a data object) leaves out: keys used through the socket.  A
# "p11-kit server" exports the token on a unix socket; pkcs11-tool, a
# second process loading only p11-kit-client.so, lists the token's key
# objects, signs with the RSA key (SHA256-RSA-PKCS, and RSA-PKCS-PSS over a
# SHA-256 hash) and the EC key (ECDSA over a hash) - OpenSSL verifies each
# signature with the public key read from the token directly - generates a
# key pair that then is in the token, and gets CKR_PIN_INCORRECT back for a
# wrong PIN.
#
# p11-kit 0.24 (Debian 12) does not carry the mechanisms that hash inside
# the token for ECDSA and PSS (CKM_ECDSA_SHA256, CKM_SHA256_RSA_PKCS_PSS)
# over RPC: its client leaves them out of the mechanism list.  Hence the
# hashed-outside forms above.
. "$(dirname "$0")/lib.sh"
lh_need p11-kit p11-kit
lh_need pkcs11-tool opensc
lh_need openssl openssl

client=
dir=$(pkg-config --variable=p11_module_path p11-kit-1 2>/dev/null)
for f in "$dir/p11-kit-client.so" /usr/lib/*/pkcs11/p11-kit-client.so \
	/usr/lib/pkcs11/p11-kit-client.so; do
	[ -f "$f" ] && { client=$f; break; }
done
if [ -z "$client" ]; then
	lh_finished=1
	if [ "${CI:-}" = true ]; then
		echo "1..1"
		echo "not ok 1 - /$lh_name/need-client: p11-kit-client.so not found (Debian package p11-kit-modules)"
		exit 1
	fi
	echo "1..0 # SKIP p11-kit-client.so not found (install Debian package p11-kit-modules)"
	exit 0
fi

TL=remote
li_token $TL
for k in rsa ec; do
	li_pub_pem $TL $k "$lh_tmp/$k.pub"
	lh_result "token/$k-public-key" $?
done

sock=$lh_tmp/p11-kit.sock
lh_spawn "$lh_tmp/server.out" p11-kit server -f -n "$sock" --provider "$LH_MODULE" \
	"pkcs11:token=$TL"
server=$lh_last_pid
li_wait_socket "$sock" "$server"
lh_result server/started $? "$(cat "$lh_tmp/server.out")"

# remote ARGS...: pkcs11-tool through p11-kit-client.so only.
remote () {
	P11_KIT_SERVER_ADDRESS="unix:path=$sock" \
		lh_client pkcs11-tool --module "$client" "$@"
}
R="--token-label $TL --login --pin $PIN"

lh_check_output client/lists-token "^ *token label *: $TL\$" remote -L
lh_check_output client/lists-rsa-key '^Private Key Object; RSA' remote $R -O
grep -qE '^Private Key Object; EC' "$lh_out"
lh_result client/lists-ec-key $? "$(cat "$lh_out")"
[ "$(grep -cE '^ *label: *(rsa|ec)$' "$lh_out")" = 4 ]
lh_result client/lists-four-key-objects $? "$(cat "$lh_out")"

head -c 3000 /dev/urandom > "$lh_tmp/data"
openssl dgst -sha256 -binary "$lh_tmp/data" > "$lh_tmp/data.sha256"

lh_check sign/rsa-pkcs1 remote $R --sign --id 01 -m SHA256-RSA-PKCS \
	-i "$lh_tmp/data" -o "$lh_tmp/pkcs1.sig"
lh_check_output sign/rsa-pkcs1-verifies 'Verified OK' openssl dgst -sha256 \
	-verify "$lh_tmp/rsa.pub" -signature "$lh_tmp/pkcs1.sig" "$lh_tmp/data"

lh_check sign/rsa-pss remote $R --sign --id 01 -m RSA-PKCS-PSS \
	--hash-algorithm SHA256 --mgf MGF1-SHA256 --salt-len 32 \
	-i "$lh_tmp/data.sha256" -o "$lh_tmp/pss.sig"
lh_check_output sign/rsa-pss-verifies 'Signature Verified Successfully' \
	openssl pkeyutl -verify -pubin -inkey "$lh_tmp/rsa.pub" -pkeyopt digest:sha256 \
	-pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32 \
	-in "$lh_tmp/data.sha256" -sigfile "$lh_tmp/pss.sig"

lh_check sign/ecdsa remote $R --sign --id 02 -m ECDSA --signature-format openssl \
	-i "$lh_tmp/data.sha256" -o "$lh_tmp/ecdsa.sig"
lh_check_output sign/ecdsa-verifies 'Verified OK' openssl dgst -sha256 \
	-verify "$lh_tmp/ec.pub" -signature "$lh_tmp/ecdsa.sig" "$lh_tmp/data"

# a signature over other data must not verify: the check can fail
head -c 3000 /dev/urandom > "$lh_tmp/other"
lh_check_fails sign/other-data-refused openssl dgst -sha256 \
	-verify "$lh_tmp/rsa.pub" -signature "$lh_tmp/pkcs1.sig" "$lh_tmp/other"

lh_check keygen/through-client remote $R --keypairgen --key-type EC:prime256v1 \
	--id 03 --label made-remotely
lh_check_output keygen/in-token "^ *label: *made-remotely\$" \
	p11 --token-label $TL --login --pin "$PIN" -O --type privkey

lh_check_fails pin/wrong-pin-refused remote --token-label $TL --login --pin wrong-pin -O
grep -q CKR_PIN_INCORRECT "$lh_out"
lh_result pin/wrong-pin-incorrect $? "$(cat "$lh_out")"

li_stop "$server"
! lh_sanitizer_ours "$lh_tmp/server.out"
lh_result server/no-sanitizer-report $? "$(cat "$lh_tmp/server.out")"

lh_finish
