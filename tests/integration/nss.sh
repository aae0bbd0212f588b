#!/bin/bash
# nss.sh - issue 6, NSS (libnss3-tools): modutil -add registers the module
# in a new NSS database and modutil -list shows its token; certutil -L -h
# <token> lists the token's certificates (logged in with a PIN file, and
# without a PIN once the module is marked FRIENDLY, as browsers do for
# public certificates), the certificate NSS reads back is the one written,
# certutil -K lists the token's keys, and a wrong PIN is refused.  NSS signs
# with the token: certutil -S generates a key pair in the token and issues
# its certificate signed by the token's RSA key (checked by openssl verify
# -check_ss_sig), and NSS's TLS server selfserv serves with the token's RSA
# key (TLS 1.3: RSA-PSS; TLS 1.2: PKCS#1) and EC key, on 127.0.0.1, to
# openssl s_client, which verifies the chain.
. "$(dirname "$0")/lib.sh"
lh_need certutil libnss3-tools
lh_need modutil libnss3-tools
lh_need selfserv libnss3-tools
lh_need pkcs11-tool opensc
li_need_engine

TL=nss
li_token $TL
# (two subjects: NSS gives every certificate of a subject the same nickname)
li_cert $TL rsa "litehsm nss rsa" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1"
li_cert $TL ec "litehsm nss ec" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1"

db=sql:$lh_tmp/nssdb
mkdir -p "$lh_tmp/nssdb"
printf '%s\n' "$PIN" > "$lh_tmp/pin"
printf 'wrong-pin\n' > "$lh_tmp/badpin"
chmod 600 "$lh_tmp/pin" "$lh_tmp/badpin"

# nss PROGRAM ARGS...: an NSS tool that loads the module.  NSS exits with
# 255 for an ordinary failure, which lh_check_fails would take for a crash:
# it becomes 1.
nss () {
	local st
	lh_client "$@"
	st=$?
	[ $st -eq 255 ] && return 1
	return $st
}

lh_check nssdb/create certutil -N -d "$db" --empty-password
lh_check_output modutil/add 'added to database' \
	nss modutil -dbdir "$db" -add litehsm -libfile "$LH_MODULE" -force
lh_check_output modutil/list-token "^ *Token Name: $TL *\$" \
	nss modutil -dbdir "$db" -list litehsm
grep -qE '^ *User Pin: Initialized' "$lh_out"
lh_result modutil/list-user-pin-initialized $? "$(cat "$lh_out")"

# -- certificates and keys ----------------------------------------------------------
lh_check_output certutil/L-lists-rsa-cert "^$TL:rsa +u,u,u\$" \
	nss certutil -L -d "$db" -h $TL -f "$lh_tmp/pin"
grep -qE "^$TL:ec +u,u,u\$" "$lh_out"
lh_result certutil/L-lists-ec-cert $? "$(cat "$lh_out")"
for k in rsa ec; do
	lh_check "certutil/L-$k-pem" nss certutil -L -d "$db" -h $TL -n $TL:$k -a \
		-f "$lh_tmp/pin"
	openssl x509 -in "$lh_out" -outform DER -out "$lh_tmp/$k.nss.der" > /dev/null 2>&1 &&
		cmp -s "$lh_tmp/$k.der" "$lh_tmp/$k.nss.der"
	lh_result "certutil/L-$k-is-token-certificate" $? \
		"NSS read another certificate than the one written:" "$(cat "$lh_out")"
done

lh_check_output certutil/K-lists-rsa-key '^< *[0-9]+> rsa +01 +rsa$' \
	nss certutil -K -d "$db" -h $TL -f "$lh_tmp/pin"
grep -qE '^< *[0-9]+> ec +02 +ec$' "$lh_out"
lh_result certutil/K-lists-ec-key $? "$(cat "$lh_out")"
lh_check_fails certutil/K-wrong-pin-refused nss certutil -K -d "$db" -h $TL \
	-f "$lh_tmp/badpin"
grep -q SEC_ERROR_BAD_PASSWORD "$lh_out"
lh_result certutil/K-wrong-pin-bad-password $? "$(cat "$lh_out")"

# Public certificates without a PIN: not until the module is "friendly".
lh_check_fails certutil/L-needs-login-by-default nss certutil -L -d "$db" -h $TL
lh_check modutil/friendly nss modutil -dbdir "$db" -default litehsm \
	-mechanisms FRIENDLY -force
lh_check_output certutil/L-without-pin "^$TL:rsa +u,u,u\$" \
	nss certutil -L -d "$db" -h $TL

# -- NSS signs with the token -------------------------------------------------------
# certutil -S: a P-256 key pair generated in the token (-h), its certificate
# signed by the token's RSA key (-c), both stored in the token.
head -c 64 /dev/urandom > "$lh_tmp/noise"
lh_check certutil/S-issue nss certutil -S -d "$db" -h $TL -f "$lh_tmp/pin" \
	-z "$lh_tmp/noise" -n leaf -s "CN=leaf.litehsm.test" -c $TL:rsa -t ,, \
	-k ec -q nistp256 -Z SHA256 -m 1001 -v 12 --keyUsage digitalSignature
lh_check certutil/S-leaf-pem nss certutil -L -d "$db" -h $TL -n $TL:leaf -a \
	-f "$lh_tmp/pin"
cp "$lh_out" "$lh_tmp/leaf.pem"
lh_check_output certutil/S-leaf-verifies ': OK$' \
	openssl verify -check_ss_sig -CAfile "$lh_tmp/rsa.pem" "$lh_tmp/leaf.pem"
lh_check_output certutil/S-key-in-token '^Private Key Object; EC' \
	p11 --token-label $TL --login --pin "$PIN" -O --type privkey
[ "$(grep -c '^Private Key Object' "$lh_out")" = 3 ]
lh_result certutil/S-three-private-keys $? "$(cat "$lh_out")"
lh_check_output certutil/S-cert-in-token '^ *label: *leaf$' \
	p11 --token-label $TL -O --type cert

# selfserv: a TLS server whose RSA and EC keys are the token's.
port=$(li_free_port)
lh_spawn "$lh_tmp/selfserv.out" selfserv -d "$db" -f "$lh_tmp/pin" -p "${port:-0}" \
	-n $TL:rsa -e $TL:ec -V tls1.2:tls1.3
server=$lh_last_pid
li_wait_port "${port:-0}" "$server"
lh_result selfserv/listening $? "port '$port':" "$(cat "$lh_tmp/selfserv.out")"
cat "$lh_tmp/rsa.pem" "$lh_tmp/ec.pem" > "$lh_tmp/cas.pem"
# tls NAME ERE S_CLIENT-ARGS...: a handshake that verifies the server.
tls () {
	local name=$1 re=$2
	shift 2
	lh_check_output "selfserv/$name" "$re" timeout 30 openssl s_client \
		-connect "127.0.0.1:$port" -servername localhost -verify_return_error \
		-CAfile "$lh_tmp/cas.pem" -brief "$@"
	grep -q '^Verification: OK' "$lh_out"
	lh_result "selfserv/$name-verified" $? "$(cat "$lh_out")"
}
tls tls13-rsa-pss '^Signature type: RSA-PSS' -tls1_3 -sigalgs rsa_pss_rsae_sha256
tls tls12-rsa-pkcs1 '^Signature type: RSA$' -tls1_2 -sigalgs RSA+SHA256
tls tls13-ecdsa '^Signature type: ECDSA' -tls1_3 -sigalgs ECDSA+SHA256
li_stop "$server"
! lh_sanitizer_ours "$lh_tmp/selfserv.out"
lh_result selfserv/no-sanitizer-report $? "$(cat "$lh_tmp/selfserv.out")"

lh_finish
