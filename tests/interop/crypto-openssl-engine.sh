#!/bin/bash
# crypto-openssl-engine.sh - issue 3, "Done when": with the OpenSSL pkcs11
# engine (libp11), token keys make a self-signed CA certificate
# (openssl req -x509 -key pkcs11:...) and sign a CSR whose key is a plain
# OpenSSL key (openssl x509 -req -CAkey pkcs11:...); both certificates pass
# openssl verify -check_ss_sig.  openssl pkeyutl -sign with a token key
# (PKCS#1 v1.5, PSS, ECDSA) verifies with the exported public key, and a
# tampered signature does not.  Done with an RSA-2048 and a P-256 CA key.
. "$(dirname "$0")/lib.sh"
lh_need openssl openssl
lh_need pkcs11-tool opensc

# The engine: libengine-pkcs11-openssl puts pkcs11.so into OpenSSL's
# engines directory.
engine=$(lh_engine)
if [ ! -f "$engine" ]; then
	lh_finished=1
	if [ "${CI:-}" = true ]; then
		echo "1..1"
		echo "not ok 1 - /$lh_name/need-engine: $engine not found (Debian package libengine-pkcs11-openssl)"
		exit 1
	fi
	echo "1..0 # SKIP $engine not found (install Debian package libengine-pkcs11-openssl)"
	exit 0
fi

SO=so-secret-5
PIN=user-pin-5
TL=enginetest

# OPENSSL_CONF loads the engine with MODULE_PATH = the module under test;
# only the commands that use the engine see it.
lh_engine_conf "$lh_tmp/openssl.cnf"
eng () {
	OPENSSL_CONF=$lh_tmp/openssl.cnf lh_client openssl "$@"
}

lh_init_token $TL "$SO" "$PIN" || lh_not_ok token/init "see above"
lh_check keys/rsa-keypairgen p11 --token-label $TL --login --pin "$PIN" \
	--keypairgen --key-type rsa:2048 --id 01 --label ca-rsa
lh_check keys/ec-keypairgen p11 --token-label $TL --login --pin "$PIN" \
	--keypairgen --key-type EC:prime256v1 --id 02 --label ca-ec

lh_check engine/loads-module eng engine -t -c pkcs11
grep -q available "$lh_out"
lh_result engine/available $? "$(cat "$lh_out")"

head -c 5000 /dev/urandom > "$lh_tmp/data"
openssl dgst -sha256 -binary "$lh_tmp/data" > "$lh_tmp/data.sha256"

# pubkey_pem KIND OUT: the public key of ca-KIND as PEM.  For EC it is
# built from CKA_EC_POINT: OpenSC 0.23's --read-object of an EC public
# key uses memory it has freed (AddressSanitizer stops it in the ASan run).
pubkey_pem () {
	local point spki
	if [ "$1" = rsa ]; then
		p11 --token-label $TL --read-object --type pubkey --label ca-rsa \
			-o "$2.der" > /dev/null 2>&1
	else
		lh_run p11 --token-label $TL -O --type pubkey --label ca-ec
		point=$(sed -n 's/^ *EC_POINT: *0441\([0-9a-f]\{130\}\)$/\1/p' "$lh_out")
		spki=3059301306072a8648ce3d020106082a8648ce3d030107034200$point
		[ -n "$point" ] && printf "$(printf '%s' "$spki" | sed 's/../\\x&/g')" > "$2.der"
	fi
	openssl pkey -pubin -inform DER -in "$2.der" -out "$2" > /dev/null 2>&1
}

# ca KIND: the whole CA round with the token key labelled ca-KIND.
ca () {
	local k=$1 key="pkcs11:token=$TL;object=ca-$1;type=private?pin-value=$PIN"
	local d=$lh_tmp/$1

	lh_check "$k/ca-certificate" eng req -new -x509 -engine pkcs11 -keyform engine \
		-key "$key" -sha256 -days 30 -subj "/CN=litehsm test CA $k" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" -out "$d-ca.pem"
	lh_check_output "$k/ca-verifies" ': OK$' \
		openssl verify -check_ss_sig -CAfile "$d-ca.pem" "$d-ca.pem"
	# the certificate carries the token's public key
	pubkey_pem "$k" "$d-pub.pem"
	openssl x509 -in "$d-ca.pem" -noout -pubkey > "$d-certpub.pem" 2>/dev/null
	[ -s "$d-pub.pem" ] && cmp -s "$d-pub.pem" "$d-certpub.pem"
	lh_result "$k/ca-holds-token-key" $? "certificate key differs from the token's public key"

	lh_check "$k/leaf-csr" openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		-nodes -keyout "$d-leaf.key" -subj "/CN=leaf.litehsm.test" -out "$d-leaf.csr"
	lh_check "$k/sign-csr" eng x509 -req -in "$d-leaf.csr" -CA "$d-ca.pem" \
		-engine pkcs11 -CAkeyform engine -CAkey "$key" -CAcreateserial \
		-CAserial "$d.srl" -sha256 -days 10 -out "$d-leaf.pem"
	lh_check_output "$k/leaf-verifies" ': OK$' \
		openssl verify -check_ss_sig -CAfile "$d-ca.pem" "$d-leaf.pem"
	# a certificate signed by another key must not verify: the check can fail
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$d-other.key" -subj "/CN=litehsm test CA $k" -days 2 \
		-out "$d-other.pem" > /dev/null 2>&1
	if [ -s "$d-leaf.pem" ]; then
		lh_check_fails "$k/leaf-refused-by-other-ca" \
			openssl verify -check_ss_sig -CAfile "$d-other.pem" "$d-leaf.pem"
	else
		lh_not_ok "$k/leaf-refused-by-other-ca" "no leaf certificate to check"
	fi

	# pkeyutl -sign with the token key, verified with the public key
	shift
	local mode
	for mode in "$@"; do
		local opts=(-pkeyopt digest:sha256) name=$k-$mode
		[ "$mode" = pss ] && opts+=(-pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32)
		lh_check "$name/pkeyutl-sign" eng pkeyutl -sign -engine pkcs11 -keyform engine \
			-inkey "$key" "${opts[@]}" -in "$lh_tmp/data.sha256" -out "$d-$mode.sig"
		lh_check_output "$name/pkeyutl-verify" 'Signature Verified Successfully' \
			openssl pkeyutl -verify -pubin -inkey "$d-pub.pem" "${opts[@]}" \
			-in "$lh_tmp/data.sha256" -sigfile "$d-$mode.sig"
		if [ ! -s "$d-$mode.sig" ]; then
			lh_not_ok "$name/pkeyutl-tampered-refused" "no signature to tamper with"
			continue
		fi
		cp "$d-$mode.sig" "$d-$mode.bad"
		lh_flip_byte "$d-$mode.bad" 30
		lh_check_fails "$name/pkeyutl-tampered-refused" \
			openssl pkeyutl -verify -pubin -inkey "$d-pub.pem" "${opts[@]}" \
			-in "$lh_tmp/data.sha256" -sigfile "$d-$mode.bad"
	done
}

ca rsa pkcs1 pss
ca ec ecdsa

lh_finish
