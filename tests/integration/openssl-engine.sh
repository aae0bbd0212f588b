#!/bin/bash
# openssl-engine.sh - issue 6, OpenSSL pkcs11 engine: what
# tests/interop/crypto-openssl-engine.sh (self-signed CA from a token key,
# x509 -req with a token CA key over a plain key's CSR, pkeyutl sign and
# verify) leaves out: a CSR whose key is in the token.  For the token's
# RSA-2048 key (PKCS#1 v1.5 and RSA-PSS) and P-256 key, openssl req -new
# -key pkcs11:... makes a CSR that openssl req -verify accepts and that
# holds the token's public key; the token's CA key (RSA) signs it with
# x509 -req, and openssl verify -check_ss_sig accepts the certificate, so
# the whole chain was signed by keys that never left the token.
. "$(dirname "$0")/lib.sh"
lh_need pkcs11-tool opensc
li_need_engine

TL=engine
li_token $TL
lh_check engine/loads-module li_eng engine -t -c pkcs11
li_cert $TL rsa "litehsm engine CA"
uri () {
	echo "pkcs11:token=$TL;object=$1;type=private?pin-value=$PIN"
}

# csr NAME KEY [REQ-ARGS...]
csr () {
	local name=$1 k=$2
	shift 2
	lh_check "$name/csr" li_eng req -new -engine pkcs11 -keyform engine \
		-key "$(uri "$k")" -subj "/CN=$name.litehsm.test" -sha256 "$@" \
		-out "$lh_tmp/$name-leaf.csr"
	lh_check_output "$name/csr-verifies" 'verify OK' \
		openssl req -in "$lh_tmp/$name-leaf.csr" -verify -noout
	li_pub_pem $TL "$k" "$lh_tmp/$k.pub"
	openssl req -in "$lh_tmp/$name-leaf.csr" -noout -pubkey > "$lh_tmp/$name-csr.pub" 2>/dev/null
	[ -s "$lh_tmp/$k.pub" ] && cmp -s "$lh_tmp/$k.pub" "$lh_tmp/$name-csr.pub"
	lh_result "$name/csr-holds-token-key" $? "CSR key differs from the token's public key"

	lh_check "$name/signed-by-token-ca" li_eng x509 -req -in "$lh_tmp/$name-leaf.csr" \
		-CA "$lh_tmp/rsa.pem" -engine pkcs11 -CAkeyform engine -CAkey "$(uri rsa)" \
		-CAcreateserial -CAserial "$lh_tmp/ca.srl" -sha256 -days 10 \
		-out "$lh_tmp/$name-leaf.pem"
	lh_check_output "$name/certificate-verifies" ': OK$' \
		openssl verify -check_ss_sig -CAfile "$lh_tmp/rsa.pem" "$lh_tmp/$name-leaf.pem"
}

csr rsa rsa
csr rsa-pss rsa -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32
grep -q 'rsassaPss' <(openssl req -in "$lh_tmp/rsa-pss-leaf.csr" -noout -text 2>&1)
lh_result rsa-pss/csr-signature-is-pss $?
csr ec ec

lh_finish
