#!/bin/bash
# gnutls.sh - issue 6, GnuTLS: what tests/interop/p11tool.sh and
# crypto-p11tool.sh (p11tool --list-all, --generate-privkey, --test-sign)
# leave out: certtool with pkcs11: keys.  For an RSA-2048 and a P-256 key
# made in the token, certtool --generate-self-signed makes a CA
# certificate (and, for RSA, an RSA-PSS one) that openssl verify
# -check_ss_sig accepts and that holds the token's public key;
# certtool --generate-request makes a CSR signed by the token key that
# openssl req -verify accepts; certtool --generate-certificate issues a
# certificate for a plain key's CSR with the token CA key, which verifies
# against the CA and not against another one.
#
# Skipped in the ASan build: with the ASan runtime preloaded, Debian 12's
# certtool --provider hangs at exit in libp11-kit's destructor (a
# freelocale() that waits for glibc's locale lock), whatever the module -
# SoftHSM2's too.  The plain build runs it.
. "$(dirname "$0")/lib.sh"
lh_need certtool gnutls-bin
lh_need pkcs11-tool opensc
lh_need openssl openssl
li_skip_under_asan "certtool --provider hangs at exit in libp11-kit's destructor (SoftHSM2 too)"

TL=gnutls
li_token $TL
export GNUTLS_PIN=$PIN

# ct ARGS...: certtool on the module under test, never asking.
ct () {
	lh_client certtool --provider "$LH_MODULE" "$@" < /dev/null
}

cat > "$lh_tmp/ca.tmpl" <<EOF
cn = "litehsm certtool CA"
serial = 1
expiration_days = 30
ca
cert_signing_key
crl_signing_key
EOF
cat > "$lh_tmp/leaf.tmpl" <<EOF
cn = "leaf.litehsm.test"
dns_name = "leaf.litehsm.test"
expiration_days = 10
tls_www_server
signing_key
EOF

# Another CA, whose key is not the token's.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$lh_tmp/other.key" -subj "/CN=litehsm certtool CA" -days 2 \
	-out "$lh_tmp/other.pem" > /dev/null 2>&1
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$lh_tmp/plain.key" -subj "/CN=leaf.litehsm.test" \
	-out "$lh_tmp/plain.csr" > /dev/null 2>&1

for k in rsa ec; do
	key="pkcs11:token=$TL;object=$k;type=private"
	li_pub_pem $TL $k "$lh_tmp/$k.pub"
	lh_result "$k/token-public-key" $?

	lh_check "$k/self-signed" ct --generate-self-signed --load-privkey "$key" \
		--template "$lh_tmp/ca.tmpl" --outfile "$lh_tmp/$k-ca.pem"
	lh_check_output "$k/self-signed-verifies" ': OK$' \
		openssl verify -check_ss_sig -CAfile "$lh_tmp/$k-ca.pem" "$lh_tmp/$k-ca.pem"
	openssl x509 -in "$lh_tmp/$k-ca.pem" -noout -pubkey > "$lh_tmp/$k-ca.pub" 2>/dev/null
	[ -s "$lh_tmp/$k.pub" ] && cmp -s "$lh_tmp/$k.pub" "$lh_tmp/$k-ca.pub"
	lh_result "$k/self-signed-holds-token-key" $? \
		"certificate key differs from the token's public key"

	lh_check "$k/request" ct --generate-request --load-privkey "$key" \
		--template "$lh_tmp/leaf.tmpl" --outfile "$lh_tmp/$k.csr"
	lh_check_output "$k/request-verifies" 'verify OK' \
		openssl req -in "$lh_tmp/$k.csr" -verify -noout
	openssl req -in "$lh_tmp/$k.csr" -noout -pubkey > "$lh_tmp/$k-csr.pub" 2>/dev/null
	[ -s "$lh_tmp/$k.pub" ] && cmp -s "$lh_tmp/$k.pub" "$lh_tmp/$k-csr.pub"
	lh_result "$k/request-holds-token-key" $? "CSR key differs from the token's public key"

	lh_check "$k/issue" ct --generate-certificate --load-request "$lh_tmp/plain.csr" \
		--load-ca-certificate "$lh_tmp/$k-ca.pem" --load-ca-privkey "$key" \
		--template "$lh_tmp/leaf.tmpl" --outfile "$lh_tmp/$k-leaf.pem"
	lh_check_output "$k/issued-verifies" ': OK$' \
		openssl verify -check_ss_sig -CAfile "$lh_tmp/$k-ca.pem" "$lh_tmp/$k-leaf.pem"
	if [ -s "$lh_tmp/$k-leaf.pem" ]; then
		lh_check_fails "$k/issued-refused-by-other-ca" \
			openssl verify -check_ss_sig -CAfile "$lh_tmp/other.pem" "$lh_tmp/$k-leaf.pem"
	else
		lh_not_ok "$k/issued-refused-by-other-ca" "no certificate to check"
	fi
done

# RSA-PSS signatures by the token's RSA key.
key="pkcs11:token=$TL;object=rsa;type=private"
lh_check rsa-pss/self-signed ct --generate-self-signed --load-privkey "$key" \
	--sign-params RSA-PSS --template "$lh_tmp/ca.tmpl" --outfile "$lh_tmp/pss-ca.pem"
lh_check_output rsa-pss/signature-algorithm 'Signature Algorithm: rsassaPss' \
	openssl x509 -in "$lh_tmp/pss-ca.pem" -noout -text
lh_check_output rsa-pss/self-signed-verifies ': OK$' \
	openssl verify -check_ss_sig -CAfile "$lh_tmp/pss-ca.pem" "$lh_tmp/pss-ca.pem"

lh_finish
