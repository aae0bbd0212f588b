#!/bin/bash
# nginx.sh - issue 6, nginx: HTTPS served with a server key that stays in
# the token, and mutual TLS where curl presents a client key from the token.
#
# The token is made with pkcs11-tool (--init-token, --init-pin); the CA and
# both certificates come from litehsm ca (init; server and client with
# --key-in-token, so no key file is ever written).  nginx, started on a free
# port of 127.0.0.1 and stopped by its PID, has two servers:
#   - plain TLS: curl --cacert rootCA.pem gets the page, six times over
#     (the two workers, forked after the master loaded the key, sign in
#     the token), and refuses the server when it trusts another CA;
#   - mutual TLS (ssl_verify_client on, ssl_client_certificate rootCA.pem):
#     curl, and openssl s_client, with the client key from the token get
#     the page and nginx sees the client's subject; without a client
#     certificate, or with one from another CA, nginx answers 400; a wrong
#     PIN stops the client before it sends anything.
# In the ASan build nginx runs with the ASan runtime preloaded (it loads
# the module), but curl cannot load the module there: curl links
# libp11-kit (through GnuTLS), whose constructor and destructor deadlock
# on glibc's locale lock under a preloaded ASan runtime, so the curl
# engine checks are skipped there and openssl s_client does the same.
#
# How the engine keys are named (the syntax that works with Debian 12's
# nginx 1.22, curl 7.88, libp11 0.4.12 and OpenSSL 3.0):
#   nginx: ssl_certificate_key "engine:pkcs11:<URI>?pin-value=<PIN>";
#     nginx gives the engine no way to ask for a PIN, so it is in the URI,
#     in nginx.conf (mode 0600, in the private temp dir).  nginx calls
#     ENGINE_by_id("pkcs11") but never ENGINE_init: the engine section of
#     OPENSSL_CONF must have init = 1 (else "engine routines::not
#     initialised").  The key is loaded by the master; the workers are
#     forked, and libp11 calls C_Initialize again in each one and logs in
#     with the PIN it kept.  nginx clears the workers' environment, so
#     "env LITEHSM_CONF;" is needed for the module to find the same tokens
#     there (without it: CKR_SLOT_ID_INVALID, and libp11 0.4.12 then waits
#     forever in the handshake).
#   curl: engine = pkcs11, key-type = ENG, key = "<URI>?pin-value=<PIN>",
#     cert = client.pem, read from a curl config file (-K, mode 0600) so that
#     the PIN is not on the command line (curl --engine pkcs11 --key-type
#     ENG --key URI --pass PIN does the same).
. "$(dirname "$0")/lib.sh"
lh_need nginx nginx
lh_need curl curl
lh_need pkcs11-tool opensc
li_need_engine

lt_tool=${LH_BUILDDIR:-.}/tools/litehsm
if [ ! -x "$lt_tool" ]; then
	lh_not_ok tool "$lt_tool is not built (run through make check)"
	lh_finish
fi
LITEHSM_MODULE=$LH_MODULE
export LITEHSM_MODULE

TL=web
umask 077
printf '%s\n' "$PIN" > "$lh_tmp/pin"

# lhs ARGS...: the litehsm tool on the token, detached from any terminal.
lhs () {
	timeout -k 5 "${LH_TIMEOUT:-120}" setsid -w "$lt_tool" --token $TL \
		--pin-file "$lh_tmp/pin" "$@"
}

# key_uri: the URI printed by "litehsm ca ... --key-in-token" (in $lh_out).
key_uri () {
	sed -n 's/^ *key in token "[^"]*": *\(pkcs11:.*\)$/\1/p' "$lh_out"
}

lh_init_token $TL "$SO" "$PIN"
lh_result token/init-with-pkcs11-tool $?

# -- the CA and the certificates: keys in the token ---------------------------
pki=$lh_tmp/pki
mkdir -p "$pki"
lh_check ca/init lhs ca init --cn "litehsm nginx test CA" --path "$pki"
lh_check ca/server-key-in-token lhs ca server --common-name 127.0.0.1,localhost \
	--key-in-token --label nginx-server --path "$pki"
server_uri=$(key_uri)
lh_check ca/client-key-in-token lhs ca client --oid CN:nginx-client,O:litehsm \
	--key-in-token --label nginx-client --path "$pki"
client_uri=$(key_uri)
[ -n "$server_uri" ] && [ -n "$client_uri" ] && [ -s "$pki/server.pem" ] &&
	[ -s "$pki/client.pem" ] && [ ! -e "$pki/server.key" ] && [ ! -e "$pki/client.key" ]
lh_result ca/certificates-only "$?" "want server.pem, client.pem, two URIs, no key files:" \
	"server: $server_uri" "client: $client_uri" "$(ls -l "$pki")"
for k in nginx-server nginx-client; do
	lh_check_output "ca/$k-never-extractable" 'Access: *sensitive, always sensitive, never extractable' \
		p11 --token-label $TL --login --pin "$PIN" -O --type privkey --label $k
done

# A CA and a client certificate that the server does not trust.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$lh_tmp/other-ca.key" -subj "/CN=another CA" -days 2 \
	-out "$lh_tmp/other-ca.pem" > "$lh_tmp/openssl.out" 2>&1 &&
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$lh_tmp/other.key" -subj "/CN=nginx-client" \
	-out "$lh_tmp/other.csr" >> "$lh_tmp/openssl.out" 2>&1 &&
openssl x509 -req -in "$lh_tmp/other.csr" -CA "$lh_tmp/other-ca.pem" \
	-CAkey "$lh_tmp/other-ca.key" -CAcreateserial -CAserial "$lh_tmp/other.srl" \
	-days 2 -out "$lh_tmp/other.pem" >> "$lh_tmp/openssl.out" 2>&1
lh_result setup/foreign-client-certificate $? "$(cat "$lh_tmp/openssl.out")"

# -- nginx ------------------------------------------------------------------------
port=$(li_free_port)
mport=$(li_free_port)
while [ "$mport" = "$port" ]; do mport=$(li_free_port); done
ng=$lh_tmp/nginx
mkdir -p "$ng/html" "$ng/tmp"
echo "hello from a litehsm key" > "$ng/html/index.html"
# nginx only initializes an engine that the configuration already did.
sed 's/^init = 0$/init = 1/' "$lh_tmp/engine.cnf" > "$lh_tmp/engine-nginx.cnf"
user=
[ "$(id -u)" = 0 ] && user="user root root;   # workers must reach the private token dir"
cat > "$ng/nginx.conf" <<EOF
# written by tests/integration/nginx.sh
$user
daemon off;
master_process on;
worker_processes 2;
pid $ng/nginx.pid;
error_log $ng/error.log info;
# the workers' C_Initialize after fork must find the same tokens
env LITEHSM_CONF;
events { worker_connections 64; }
http {
	access_log $ng/access.log;
	client_body_temp_path $ng/tmp/body;
	proxy_temp_path $ng/tmp/proxy;
	fastcgi_temp_path $ng/tmp/fastcgi;
	uwsgi_temp_path $ng/tmp/uwsgi;
	scgi_temp_path $ng/tmp/scgi;
	ssl_certificate $pki/server.pem;
	ssl_certificate_key "engine:pkcs11:$server_uri?pin-value=$PIN";
	root $ng/html;
	server {
		listen 127.0.0.1:$port ssl;
	}
	server {
		listen 127.0.0.1:$mport ssl;
		ssl_verify_client on;
		ssl_client_certificate $pki/rootCA.pem;
		location = /whoami {
			default_type text/plain;
			return 200 "client \$ssl_client_s_dn\n";
		}
	}
}
EOF
chmod 600 "$ng/nginx.conf"

lh_check nginx/config-test lh_client env OPENSSL_CONF="$lh_tmp/engine-nginx.cnf" \
	nginx -t -q -p "$ng" -e "$ng/error.log" -c "$ng/nginx.conf"
lh_spawn "$lh_tmp/nginx.out" env OPENSSL_CONF="$lh_tmp/engine-nginx.cnf" \
	nginx -p "$ng" -e "$ng/error.log" -c "$ng/nginx.conf"
nginx_pid=$lh_last_pid
li_wait_port "$port" "$nginx_pid" && li_wait_port "$mport" "$nginx_pid"
st=$?
lh_result nginx/started $st "$(cat "$lh_tmp/nginx.out" "$ng/error.log" 2>&1)"
[ $st -eq 0 ] || lh_finish

# c ARGS...: curl with a time limit, output in $lh_out (the body, then
# "status NNN" on a line of its own).  Without the engine curl never loads
# the module, so it runs as it is, without the ASan runtime.
c () {
	timeout -k 5 60 curl -sS --max-time 20 -w '\nstatus %{http_code}\n' "$@"
}
url=https://127.0.0.1:$port/
murl=https://127.0.0.1:$mport/

# -- HTTPS with the token's server key ------------------------------------------------
lh_check_output https/page '^hello from a litehsm key$' c --cacert "$pki/rootCA.pem" "$url"
ok=0
for i in 1 2 3 4 5 6; do
	lh_run c --cacert "$pki/rootCA.pem" "$url" && grep -q '^status 200$' "$lh_out" &&
		ok=$((ok + 1))
done
lh_result https/repeated-handshakes "$([ $ok = 6 ]; echo $?)" "$ok of 6 requests worked:" \
	"$(cat "$lh_out")"
lh_check_output https/localhost-name '^status 200$' c --cacert "$pki/rootCA.pem" \
	--resolve "localhost:$port:127.0.0.1" "https://localhost:$port/"
lh_check_fails https/other-ca-refused c --cacert "$lh_tmp/other-ca.pem" "$url"
grep -q 'SSL certificate problem' "$lh_out"
lh_result https/other-ca-certificate-problem $? "$(cat "$lh_out")"
openssl s_client -connect "127.0.0.1:$port" -CAfile "$pki/rootCA.pem" \
	-verify_return_error < /dev/null 2> /dev/null |
	openssl x509 -outform PEM > "$lh_tmp/served.pem" 2> /dev/null
cmp -s <(openssl x509 -in "$pki/server.pem" -outform PEM 2>/dev/null) "$lh_tmp/served.pem"
lh_result https/serves-ca-issued-certificate $? "the served certificate is not server.pem"

# -- mutual TLS: the client key in the token -----------------------------------------------
lh_check_output mtls/no-certificate-400 '^status 400$' c --cacert "$pki/rootCA.pem" "$murl"
grep -q 'No required SSL certificate was sent' "$lh_out"
lh_result mtls/no-certificate-message $? "$(cat "$lh_out")"
lh_check_output mtls/other-ca-client-400 '^status 400$' c --cacert "$pki/rootCA.pem" \
	--key "$lh_tmp/other.key" --cert "$lh_tmp/other.pem" "$murl"

# openssl s_client with the engine (in both builds).
# sc PATH [KEY-URI]: GET PATH over mutual TLS with the token's client key.
sc () {
	printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$1" |
		li_eng s_client -quiet -connect "127.0.0.1:$mport" -engine pkcs11 \
		-keyform engine -key "${2:-$client_uri?pin-value=$PIN}" \
		-cert "$pki/client.pem" -CAfile "$pki/rootCA.pem" -verify_return_error
}
lh_check_output mtls/s_client-token-key '^hello from a litehsm key$' sc /
lh_check_output mtls/s_client-server-sees-client '^client .*CN=nginx-client' sc /whoami
lh_check_fails mtls/s_client-wrong-pin-refused sc / "$client_uri?pin-value=wrong-pin"

# curl with the engine, in the plain build only: curl links libp11-kit
# (through GnuTLS), whose constructor and destructor deadlock on glibc's
# locale lock when the ASan runtime is preloaded (tests/interop/p11-kit.sh).
# client.cfg holds the key's URI with the PIN; -K keeps both off curl's
# command line.
cat > "$lh_tmp/client.cfg" <<EOF
engine = pkcs11
key-type = ENG
key = "$client_uri?pin-value=$PIN"
cert = "$pki/client.pem"
EOF
sed "s/?pin-value=.*\"$/?pin-value=wrong-pin\"/" "$lh_tmp/client.cfg" > "$lh_tmp/wrong.cfg"
# ce ARGS...: curl with the engine configured on the module under test.
ce () {
	OPENSSL_CONF=$lh_tmp/engine.cnf lh_client curl -sS --max-time 20 \
		-w '\nstatus %{http_code}\n' "$@"
}
curl_tests () {
	lh_check_output mtls/curl-token-key '^status 200$' ce --cacert "$pki/rootCA.pem" \
		-K "$lh_tmp/client.cfg" "$murl"
	grep -q '^hello from a litehsm key$' "$lh_out"
	lh_result mtls/curl-page "$?" "$(cat "$lh_out")"
	lh_check_output mtls/curl-server-sees-client '^client .*CN=nginx-client' \
		ce --cacert "$pki/rootCA.pem" -K "$lh_tmp/client.cfg" "${murl}whoami"
	lh_check_output mtls/curl-pass-option '^status 200$' ce --cacert "$pki/rootCA.pem" \
		--engine pkcs11 --key-type ENG --key "$client_uri" --pass "$PIN" \
		--cert "$pki/client.pem" "$murl"
	lh_check_fails mtls/curl-wrong-pin-refused ce --cacert "$pki/rootCA.pem" \
		-K "$lh_tmp/wrong.cfg" "$murl"
	grep -q 'failed to load private key' "$lh_out"
	lh_result mtls/curl-wrong-pin-no-key $? "$(cat "$lh_out")"
}
if [ -z "$lh_asan_rt" ]; then
	curl_tests
else
	for t in curl-token-key curl-page curl-server-sees-client curl-pass-option \
		curl-wrong-pin-refused curl-wrong-pin-no-key; do
		lh_skip "mtls/$t" "under ASan: curl links libp11-kit, which deadlocks with a preloaded ASan runtime"
	done
fi
# the wrong PINs must not have locked anything: the right one still works
lh_check_output mtls/right-pin-after-wrong '^client .*CN=nginx-client' sc /whoami

# -- stop -------------------------------------------------------------------------
workers=$(ps -o pid= --ppid "$nginx_pid" 2> /dev/null)
li_stop "$nginx_pid"
left=
for w in $nginx_pid $workers; do
	kill -0 "$w" 2> /dev/null && left="$left $w"
done
for w in $left; do kill -KILL "$w" 2> /dev/null; done
lh_result nginx/stopped-with-workers "$([ -z "$left" ]; echo $?)" \
	"still running after TERM:$left"
! grep -E '\[(emerg|alert|crit)\]' "$ng/error.log" > "$lh_tmp/errors" 2>&1
lh_result nginx/no-errors-logged $? "$(cat "$lh_tmp/errors")"
! lh_sanitizer_ours "$lh_tmp/nginx.out"
lh_result nginx/no-sanitizer-report $? "$(cat "$lh_tmp/nginx.out")"

lh_finish
