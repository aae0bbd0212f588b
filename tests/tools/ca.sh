#!/bin/bash
# ca.sh - litehsm ca (issue 5, items 1-5 and 7), the way a new user would
# try it: seed 002's steps (sm_ssl_cert ca / server / client) with
# "litehsm ca": a root CA whose key stays in the token, a server
# certificate for myserver,myserver.domain.com,*.serverdomain.com, one for
# a second storage server with --path, clients with and without --oid,
# each accepted by "openssl verify -CAfile rootCA.pem", and a mutual-TLS
# handshake between openssl s_server and s_client with those files.  Then
# seed 004's client file set (PEM, PKCS#8 DER and PEM, PKCS#12) read back
# by openssl; a --key-in-token server key serving TLS through the OpenSSL
# pkcs11 engine; the CA key's private values answering
# CKR_ATTRIBUTE_SENSITIVE; RSA, Ed25519 and intermediate CAs; ca sign of a
# CSR; list, revoke, crl (checked by openssl verify -crl_check) and renew;
# and signing through CKM_ECDSA / CKM_RSA_PKCS over a digest made by the
# tool when the token lacks the hash-and-sign mechanisms.
# The refusals are in ca-bad.sh, SoftHSM2 in ca-softhsm.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ca-lib.sh"

lh_litehsm_only "uses litehsm's configuration; ca-softhsm.sh covers SoftHSM2"

lt_pinfile so1 so-secret-ca1
lt_pinfile pin1 user-pin-ca1
PIN=user-pin-ca1
TOK=ca
S="--token $TOK --pin-file $lh_tmp/pin1"
d=$lh_tmp/sesam
mkdir -p "$d/ca" "$d/ssl" "$d/x.509" "$d/rds" "$d/pg" "$d/tok" "$d/more"

lt_ok token/init token init --label $TOK --so-pin-file "$lh_tmp/so1" \
	--pin-file "$lh_tmp/pin1"

# verify NAME CAFILE CERT [ARGS]: openssl verify accepts CERT.
verify () {
	lh_check_output "$1" ': OK$' openssl verify -CAfile "$2" "${@:4}" "$3"
}

# ---- seed 002: sm_ssl_cert ca / server / client ------------------------------------------

lt_ok seed002/ca ca init --cn "SEP sesam Root CA" --path "$d/ca" $S
lt_has seed002/ca-says-token 'in token "ca"'
verify seed002/ca-verifies "$d/ca/rootCA.pem" "$d/ca/rootCA.pem"
openssl x509 -in "$d/ca/rootCA.pem" -noout -text > "$lh_tmp/ca.txt" 2>&1
grep -A1 'Basic Constraints: critical' "$lh_tmp/ca.txt" | grep -q 'CA:TRUE' &&
	grep -A1 'Key Usage: critical' "$lh_tmp/ca.txt" | grep -q 'Certificate Sign, CRL Sign' &&
	grep -q 'Subject Key Identifier' "$lh_tmp/ca.txt" &&
	grep -q 'Authority Key Identifier' "$lh_tmp/ca.txt"
lh_result seed002/ca-extensions $? "$(cat "$lh_tmp/ca.txt")"
sensitive ca-key litehsm-ca ec

lt_ok seed002/server ca server \
	'--common-name=myserver,myserver.domain.com,*.serverdomain.com' --path "$d/ssl" $S
verify seed002/server-verifies "$d/ca/rootCA.pem" "$d/ssl/server.pem" \
	-purpose sslserver
check seed002/server-key-0600 "$(stat -c %a "$d/ssl/server.key")" 600
check seed002/server-cert-0644 "$(stat -c %a "$d/ssl/server.pem")" 644
openssl x509 -in "$d/ssl/server.pem" -noout -subject -serial \
	-ext subjectAltName,extendedKeyUsage > "$lh_tmp/srv.txt" 2>&1
grep -q 'subject=CN = myserver$' "$lh_tmp/srv.txt" &&
	grep -q 'DNS:myserver, DNS:myserver.domain.com, DNS:\*.serverdomain.com$' "$lh_tmp/srv.txt" &&
	grep -q 'TLS Web Server Authentication' "$lh_tmp/srv.txt"
lh_result seed002/server-names $? "$(cat "$lh_tmp/srv.txt")"
serial=$(sed -n 's/^serial=//p' "$lh_tmp/srv.txt")
[ ${#serial} -ge 16 ]
lh_result seed002/serial-64-bits $? "serial $serial"
openssl x509 -in "$d/ssl/server.pem" -noout -pubkey > "$lh_tmp/srv.certpub" 2>&1
openssl pkey -in "$d/ssl/server.key" -pubout > "$lh_tmp/srv.keypub" 2>&1
cmp -s "$lh_tmp/srv.certpub" "$lh_tmp/srv.keypub"
lh_result seed002/server-key-matches $? "server.key is not the certificate's key"

lt_ok seed002/rds-server ca server --common-name=rds1.domain.com,192.168.1.10 \
	--path "$d/rds" $S
verify seed002/rds-verifies "$d/ca/rootCA.pem" "$d/rds/server.pem"
openssl x509 -in "$d/rds/server.pem" -noout -ext subjectAltName 2>&1 |
	grep -q 'DNS:rds1.domain.com, IP Address:192.168.1.10$'
lh_result seed002/rds-ip-name $? "$(openssl x509 -in "$d/rds/server.pem" -noout -text 2>&1)"

lt_ok seed002/client ca client --path "$d/x.509" $S
verify seed002/client-verifies "$d/ca/rootCA.pem" "$d/x.509/client.pem" \
	-purpose sslclient
openssl x509 -in "$d/x.509/client.pem" -noout -subject -ext extendedKeyUsage \
	> "$lh_tmp/cl.txt" 2>&1
grep -q 'subject=CN = client$' "$lh_tmp/cl.txt" &&
	grep -q 'TLS Web Client Authentication' "$lh_tmp/cl.txt"
lh_result seed002/client-default-subject $? "$(cat "$lh_tmp/cl.txt")"

lt_ok seed002/client-oid ca client --name backup \
	--oid='C:DE,CN:backup-client,DQ:q1,GN:John,GQ:Jr,I:JS,L:Berlin,N:John Smith,O:Example\, Inc,OU:IT,P:jsmith,PC:10115,S:Smith,T:Admin' \
	--path "$d/x.509" $S
verify seed002/client-oid-verifies "$d/ca/rootCA.pem" "$d/x.509/backup.pem"
openssl x509 -in "$d/x.509/backup.pem" -noout -subject -nameopt RFC2253 \
	> "$lh_tmp/oid.txt" 2>&1
grep -qF 'subject=title=Admin,SN=Smith,postalCode=10115,pseudonym=jsmith,OU=IT,O=Example\, Inc,name=John Smith,L=Berlin,initials=JS,generationQualifier=Jr,GN=John,dnQualifier=q1,CN=backup-client,C=DE' "$lh_tmp/oid.txt"
lh_result seed002/client-oid-subject $? "$(cat "$lh_tmp/oid.txt")"

# ---- mutual TLS with the seed's files --------------------------------------------------

port=$(free_port)
lh_spawn "$lh_tmp/s_server.log" openssl s_server -www -accept "127.0.0.1:$port" \
	-cert "$d/ssl/server.pem" -key "$d/ssl/server.key" \
	-CAfile "$d/ca/rootCA.pem" -Verify 1 -verify_return_error
srv=$lh_last_pid
if wait_listen "$lh_tmp/s_server.log"; then
	printf 'GET / HTTP/1.0\r\n\r\n' | timeout 20 openssl s_client -ign_eof \
		-connect "127.0.0.1:$port" -servername myserver.domain.com \
		-verify_hostname myserver.domain.com -verify_return_error \
		-CAfile "$d/ca/rootCA.pem" -cert "$d/x.509/client.pem" \
		-key "$d/x.509/client.key" > "$lh_tmp/s_client.log" 2>&1
	grep -q 'Verify return code: 0 (ok)' "$lh_tmp/s_client.log"
	lh_result mtls/client-verifies-server $? "$(cat "$lh_tmp/s_client.log")"
	grep -q 'depth=0 CN = client' "$lh_tmp/s_server.log"
	lh_result mtls/server-verifies-client $? "$(cat "$lh_tmp/s_server.log")"
	# without a client certificate the server refuses (-Verify)
	printf 'GET / HTTP/1.0\r\n\r\n' | timeout 20 openssl s_client -ign_eof \
		-connect "127.0.0.1:$port" -CAfile "$d/ca/rootCA.pem" \
		> "$lh_tmp/s_client2.log" 2>&1
	! grep -q 'HTTP/1.0 200' "$lh_tmp/s_client2.log"
	lh_result mtls/no-client-cert-refused $? "$(cat "$lh_tmp/s_client2.log")"
else
	lh_not_ok mtls/server-started "$(cat "$lh_tmp/s_server.log")"
fi
stop "$srv"

# ---- seed 004: one client, every format ------------------------------------------------

lt_ok seed004/client ca client --oid CN:dbuser --format pem,pk8,pk8-pem,pfx \
	--path "$d/pg" $S
for f in client.pem client.key client.pk8 client.pem.pk8 client.pfx; do
	[ -s "$d/pg/$f" ] || lh_not_ok "seed004/file-$f" "missing"
done
check seed004/key-modes "$(stat -c %a "$d/pg/client.key" "$d/pg/client.pk8" \
	"$d/pg/client.pem.pk8" "$d/pg/client.pfx" | tr '\n' ' ')" "600 600 600 600 "
openssl x509 -in "$d/pg/client.pem" -noout -pubkey > "$lh_tmp/pg.pub" 2>&1
lh_check seed004/pk8-der-reads openssl pkey -inform DER -in "$d/pg/client.pk8" \
	-pubout -out "$lh_tmp/pk8.pub"
cmp -s "$lh_tmp/pg.pub" "$lh_tmp/pk8.pub"
lh_result seed004/pk8-is-the-key $? "client.pk8 is not the certificate's key"
lh_check_output seed004/pk8-pem-reads 'BEGIN PRIVATE KEY' cat "$d/pg/client.pem.pk8"
lh_check seed004/pk8-pem-parses openssl pkey -in "$d/pg/client.pem.pk8" -noout
lh_check_output seed004/pfx-reads 'BEGIN (EC )?PRIVATE KEY' \
	openssl pkcs12 -in "$d/pg/client.pfx" -passin pass: -nodes
check seed004/pfx-holds-cert-and-ca "$(grep -c 'BEGIN CERTIFICATE' "$lh_out")" 2
verify seed004/client-verifies "$d/ca/rootCA.pem" "$d/pg/client.pem"

printf 'pfx-pass-ca1\n' > "$lh_tmp/pfxpass"
lt_secret pfx-pass-ca1
lt_ok seed004/pfx-password ca client --oid CN:dbuser2 --name c2 --format pfx \
	--pfx-pass-file "$lh_tmp/pfxpass" --path "$d/pg" $S
lh_check seed004/pfx-password-opens openssl pkcs12 -in "$d/pg/c2.pfx" \
	-passin pass:pfx-pass-ca1 -nodes -noout
lh_check_fails seed004/pfx-empty-password-refused openssl pkcs12 \
	-in "$d/pg/c2.pfx" -passin pass: -nodes -noout
[ ! -e "$d/pg/c2.key" ]
lh_result seed004/pfx-only-no-pem-key $? "c2.key written without pem in --format"

# ---- a server key that stays in the token, serving TLS through the engine --------------

lt_ok token-key/server ca server --common-name=tls.example.com,127.0.0.1 \
	--key-in-token --chain --path "$d/tok" --json $S
uri=$(json "j['key_uri']")
case $uri in
pkcs11:*object=tls.example.com*type=private) lh_ok token-key/uri ;;
*) lh_not_ok token-key/uri "$uri" ;;
esac
check token-key/files "$(ls "$d/tok" | tr '\n' ' ')" "server-chain.pem server.pem "
check token-key/chain-file "$(grep -c 'BEGIN CERTIFICATE' "$d/tok/server-chain.pem")" 2
verify token-key/verifies "$d/ca/rootCA.pem" "$d/tok/server.pem"
sensitive token-key tls.example.com ec
rawp11 objs "$LH_MODULE" $TOK > "$lh_tmp/objs" 2>&1
check token-key/cert-in-token "$(grep -c '^1 tls.example.com ' "$lh_tmp/objs")" 1

engine=$(lh_engine)
if [ -f "$engine" ]; then
	lh_engine_conf "$lh_tmp/openssl.cnf"
	port=$(free_port)
	OPENSSL_CONF=$lh_tmp/openssl.cnf lh_spawn "$lh_tmp/engine.log" openssl s_server \
		-www -accept "127.0.0.1:$port" -engine pkcs11 -keyform engine \
		-key "$uri?pin-value=$PIN" -cert "$d/tok/server.pem"
	srv=$lh_last_pid
	if wait_listen "$lh_tmp/engine.log"; then
		printf 'GET / HTTP/1.0\r\n\r\n' | timeout 20 openssl s_client -ign_eof \
			-connect "127.0.0.1:$port" -verify_hostname tls.example.com \
			-verify_return_error -CAfile "$d/ca/rootCA.pem" \
			> "$lh_tmp/engine-client.log" 2>&1
		grep -q 'Verify return code: 0 (ok)' "$lh_tmp/engine-client.log" &&
			grep -q 'HTTP/1.0 200' "$lh_tmp/engine-client.log"
		lh_result token-key/engine-tls $? "$(cat "$lh_tmp/engine-client.log")" \
			"server:" "$(cat "$lh_tmp/engine.log")"
	else
		lh_not_ok token-key/engine-started "$(cat "$lh_tmp/engine.log")"
	fi
	stop "$srv"
else
	lh_skip token-key/engine-tls "$engine not found (Debian package libengine-pkcs11-openssl)"
fi

lt_ok token-key/rsa-client ca client --oid CN:rsa-client --key-in-token \
	--key rsa-2048 --label rsa-client --path "$d/tok" --name rsa-client $S
verify token-key/rsa-client-verifies "$d/ca/rootCA.pem" "$d/tok/rsa-client.pem"
sensitive token-key-rsa rsa-client rsa

# ---- other CA kinds and an intermediate --------------------------------------------------

mkdir -p "$d/rsa" "$d/ed" "$d/sub"
lt_ok rsa-ca/init ca init --cn "RSA Root" --key rsa-2048 --label rsa-ca \
	--path "$d/rsa" $S
sensitive rsa-ca rsa-ca rsa
lt_ok rsa-ca/server ca server --common-name=rsa.example.com --ca rsa-ca \
	--path "$d/rsa" $S
verify rsa-ca/server-verifies "$d/rsa/rootCA.pem" "$d/rsa/server.pem"
lh_check_output rsa-ca/sha256-rsa 'sha256WithRSAEncryption' \
	openssl x509 -in "$d/rsa/server.pem" -noout -text

lt_ok ed-ca/init ca init --cn "Ed25519 Root" --key ed25519 --label ed-ca \
	--path "$d/ed" $S
lt_ok ed-ca/client ca client --ca ed-ca --key ed25519 --path "$d/ed" $S
verify ed-ca/client-verifies "$d/ed/rootCA.pem" "$d/ed/client.pem"
lh_check_output ed-ca/ed25519 'Signature Algorithm: ED25519' \
	openssl x509 -in "$d/ed/client.pem" -noout -text

lt_ok sub-ca/init ca init --cn "Sub CA" --intermediate --parent litehsm-ca \
	--label sub-ca --path "$d/sub" $S
verify sub-ca/verifies "$d/ca/rootCA.pem" "$d/sub/sub-ca.pem"
lt_ok sub-ca/server ca server --common-name=leaf.example.com --ca sub-ca --chain \
	--path "$d/sub" $S
verify sub-ca/leaf-with-chain "$d/ca/rootCA.pem" "$d/sub/server.pem" \
	-untrusted "$d/sub/server-chain.pem"
check sub-ca/chain-file "$(grep -c 'BEGIN CERTIFICATE' "$d/sub/server-chain.pem")" 3
lt_ok sub-ca/listed-by-parent ca list --json $S
check sub-ca/parent-index "$(json "[c['profile'] for c in j['certificates'] if c['subject'] == 'CN=Sub CA']")" "['ca']"

# ---- ca sign: a request made elsewhere ------------------------------------------------------

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$d/more/pg.key" -subj '/CN=postgresql.corp.domain.com' \
	-out "$d/more/pg.csr" > /dev/null 2>&1
lt_ok sign/server ca sign --csr "$d/more/pg.csr" --profile server --name pg \
	--path "$d/more" $S
verify sign/verifies "$d/ca/rootCA.pem" "$d/more/pg.pem" -purpose sslserver
lh_check_output sign/cn-as-name 'DNS:postgresql.corp.domain.com$' \
	openssl x509 -in "$d/more/pg.pem" -noout -ext subjectAltName
openssl req -new -newkey rsa:2048 -nodes -keyout "$d/more/u.key" -subj '/CN=db_user' \
	-outform DER -out "$d/more/u.der" > /dev/null 2>&1
lt_ok sign/client-der ca sign --csr "$d/more/u.der" --profile client --name u \
	--san u.example.com --path "$d/more" $S
lh_check_output sign/san-override 'DNS:u.example.com$' \
	openssl x509 -in "$d/more/u.pem" -noout -ext subjectAltName
verify sign/client-verifies "$d/ca/rootCA.pem" "$d/more/u.pem" -purpose sslclient

# ---- list, revoke, crl, renew --------------------------------------------------------------

lt_ok list/text ca list $S
lt_has list/text-server 'server +valid .*CN=myserver'
lt_ok list/json ca list --json $S
lt_json list/json-valid
srv_serial=$(json "[c['serial'] for c in j['certificates'] if c['subject'] == 'CN=myserver'][0]")
check list/server-entry "$(json "[(c['profile'], c['status'], c['names']) for c in j['certificates'] if c['serial'] == '$srv_serial']")" \
	"[('server', 'valid', ['myserver', 'myserver.domain.com', '*.serverdomain.com'])]"
check list/count "$(json "len(j['certificates'])")" 11
cl_serial=$(json "[c['serial'] for c in j['certificates'] if c['subject'] == 'CN=client'][0]")
tok_serial=$(json "[c['serial'] for c in j['certificates'] if c['subject'] == 'CN=tls.example.com'][0]")

lt_ok revoke/server ca revoke "$srv_serial" --reason keyCompromise $S
lt_has revoke/says 'Revoked certificate'
lt_ok revoke/listed ca list --json $S
check revoke/status "$(json "[(c['status'], c['reason']) for c in j['certificates'] if c['serial'] == '$srv_serial']")" \
	"[('revoked', 'keyCompromise')]"
lt_ok crl/write ca crl --path "$d/ca" $S
lh_check_output crl/signed-by-ca 'verify OK' openssl crl -in "$d/ca/litehsm-ca.crl.pem" \
	-CAfile "$d/ca/rootCA.pem" -noout
lh_check_output crl/lists-serial "Serial Number: $srv_serial" \
	openssl crl -in "$d/ca/litehsm-ca.crl.pem" -noout -text
lh_run openssl verify -crl_check -CAfile "$d/ca/rootCA.pem" \
	-CRLfile "$d/ca/litehsm-ca.crl.pem" "$d/ssl/server.pem"
grep -q 'certificate revoked' "$lh_out"
lh_result crl/revoked-refused $? "$(cat "$lh_out")"
verify crl/others-accepted "$d/ca/rootCA.pem" "$d/x.509/client.pem" -crl_check \
	-CRLfile "$d/ca/litehsm-ca.crl.pem"

md5=$(md5sum < "$d/x.509/client.key")
lt_ok renew/client ca renew "$cl_serial" --path "$d/x.509" --force --json $S
new=$(json "j['serial']")
[ "$new" != "$cl_serial" ] && [ -n "$new" ]
lh_result renew/new-serial $? "old $cl_serial new $new"
check renew/key-untouched "$(md5sum < "$d/x.509/client.key")" "$md5"
openssl x509 -in "$d/x.509/client.pem" -noout -pubkey > "$lh_tmp/cl.certpub" 2>&1
openssl pkey -in "$d/x.509/client.key" -pubout > "$lh_tmp/cl.keypub" 2>&1
cmp -s "$lh_tmp/cl.certpub" "$lh_tmp/cl.keypub"
lh_result renew/same-key $? "the renewed certificate holds another key"
verify renew/verifies "$d/ca/rootCA.pem" "$d/x.509/client.pem"
lt_ok renew/old-still-valid ca list --json $S
check renew/old-status "$(json "[c['status'] for c in j['certificates'] if c['serial'] == '$cl_serial']")" "['valid']"

lt_ok renew/token-key ca renew "$tok_serial" --revoke-old --path "$d/tok" --force $S
lt_has renew/token-key-says 'now revoked'
verify renew/token-key-verifies "$d/ca/rootCA.pem" "$d/tok/server.pem"
lt_ok renew/token-key-list ca list --json $S
check renew/token-key-old-revoked "$(json "[(c['status'], c['reason']) for c in j['certificates'] if c['serial'] == '$tok_serial']")" \
	"[('revoked', 'superseded')]"
rawp11 objs "$LH_MODULE" $TOK > "$lh_tmp/objs" 2>&1
check renew/token-cert-replaced "$(grep -c '^1 tls.example.com ' "$lh_tmp/objs")" 1
check renew/token-key-same "$(grep -c '^3 tls.example.com ' "$lh_tmp/objs")" 1

# ---- a token without the hash-and-sign mechanisms -----------------------------------------

cp "$LITEHSM_CONF" "$lh_tmp/fallback.conf"
echo "disable_mechanisms = CKM_ECDSA_SHA256, CKM_SHA256_RSA_PKCS" >> "$lh_tmp/fallback.conf"
mkdir -p "$d/fb"
LITEHSM_CONF=$lh_tmp/fallback.conf lt_ok fallback/ec-ca ca init --cn "Fallback EC" \
	--label fb-ca --path "$d/fb" $S
verify fallback/ec-ca-verifies "$d/fb/rootCA.pem" "$d/fb/rootCA.pem"
LITEHSM_CONF=$lh_tmp/fallback.conf lt_ok fallback/rsa-ca ca server \
	--common-name=fb.example.com --ca rsa-ca --path "$d/fb" $S
verify fallback/rsa-verifies "$d/rsa/rootCA.pem" "$d/fb/server.pem"

# nothing but the files asked for: no temporary files anywhere
find "$d" -name '.*' -type f > "$lh_tmp/tmpfiles"
[ ! -s "$lh_tmp/tmpfiles" ]
lh_result files/no-temporaries $? "$(cat "$lh_tmp/tmpfiles")"

lh_finish
