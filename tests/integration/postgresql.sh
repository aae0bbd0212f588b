#!/bin/bash
# postgresql.sh - issue 6, PostgreSQL 15: seed 004's mutual TLS without a
# client key file.  litehsm ca makes the CA and the server certificate
# (its key as the file server.key, mode 0600, which the server needs); the
# client keys are made in the token (litehsm ca client --key-in-token
# --oid CN:<db user>) and psql uses them through libpq's OpenSSL engine
# support.  The token is made with pkcs11-tool (--init-token, --init-pin).
#
# A private server (initdb in the temp dir, 127.0.0.1 on a free port, no
# unix socket, stopped by its PID) allows one thing only:
#     hostssl all all 127.0.0.1/32 cert clientcert=verify-full
# Checks: psql with the token key and client certificate logs in as the
# certificate's CN (SELECT current_user; pg_stat_ssl shows the client DN),
# with the key named in PGSSLKEY or as sslkey in the connection string;
# refused: no client certificate, a certificate for another CN, no TLS, a
# wrong PIN, a server certificate from another CA (verify-full).
#
# The syntax that works with Debian 12's libpq 15 and OpenSSL 3.0: when
# sslkey (or PGSSLKEY) contains a colon, libpq takes the part before the
# first colon as an engine name and passes the rest to
# ENGINE_load_private_key with no UI method, so:
#     sslkey=pkcs11:<PKCS#11 URI>?pin-value=<PIN>
# e.g. "pkcs11:pkcs11:token=pg;object=app;type=private?pin-value=1234";
# libpq calls ENGINE_init itself, so init = 0 in OPENSSL_CONF is enough.
# The PIN has to be in the URI (or PIN = in the engine section): here it is
# in PGSSLKEY, which only the user's own processes can read, rather than on
# psql's command line.
#
# Skipped in the ASan build: psql is the program that loads the module,
# and libpq links libp11-kit (through libldap and GnuTLS), whose
# constructor and destructor deadlock on glibc's locale lock when the ASan
# runtime is preloaded, whatever the module (psql --version alone hangs).
# The server never loads the module.  The plain build runs it.
#
# PostgreSQL refuses to run as root: as root the server runs as nobody
# (setpriv, so its PID is the postmaster's), in a directory nobody owns,
# with server.key given to nobody.  The server never loads the module.
. "$(dirname "$0")/lib.sh"
for d in /usr/lib/postgresql/*/bin; do
	[ -x "$d/initdb" ] && pgbin=$d
done
[ -n "${pgbin:-}" ] && PATH=$pgbin:$PATH
lh_need psql postgresql-client-15
lh_need initdb postgresql-15
lh_need postgres postgresql-15
lh_need pkcs11-tool opensc
lh_need setpriv util-linux
li_need_engine
li_skip_under_asan "psql (libpq) links libp11-kit, which deadlocks with a preloaded ASan runtime"

lt_tool=${LH_BUILDDIR:-.}/tools/litehsm
if [ ! -x "$lt_tool" ]; then
	lh_not_ok tool "$lt_tool is not built (run through make check)"
	lh_finish
fi
LITEHSM_MODULE=$LH_MODULE
export LITEHSM_MODULE
# only what each psql below is given
for v in $(env | sed -n 's/^\(PG[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
export PGCONNECT_TIMEOUT=20

TL=pg
DBUSER=app
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

# The server's user and directory.
pg=$lh_tmp/pg
mkdir -p "$pg"
as_server=()
if [ "$(id -u)" = 0 ]; then
	as_server=(setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups)
	chmod 711 "$lh_tmp"           # nobody may pass through, not list
	chown nobody: "$pg"
fi
chmod 700 "$pg"

lh_init_token $TL "$SO" "$PIN"
lh_result token/init-with-pkcs11-tool $?

# -- certificates -----------------------------------------------------------------
pki=$lh_tmp/pki
mkdir -p "$pki"
lh_check ca/init lhs ca init --cn "litehsm PostgreSQL test CA" --path "$pki"
lh_check ca/server lhs ca server --common-name 127.0.0.1,localhost --path "$pki"
[ "$(stat -c %a "$pki/server.key" 2>&1)" = 600 ]
lh_result ca/server-key-mode-0600 $? "$(ls -l "$pki" 2>&1)"
lh_check ca/client-key-in-token lhs ca client --oid CN:$DBUSER --key-in-token \
	--label pg-$DBUSER --name $DBUSER --path "$pki"
app_uri=$(key_uri)
lh_check ca/intruder-key-in-token lhs ca client --oid CN:intruder --key-in-token \
	--label pg-intruder --name intruder --path "$pki"
intruder_uri=$(key_uri)
[ -n "$app_uri" ] && [ -n "$intruder_uri" ] && [ -s "$pki/$DBUSER.pem" ] &&
	[ ! -e "$pki/$DBUSER.key" ] && [ ! -e "$pki/intruder.key" ]
lh_result ca/client-certificates-only "$?" "want two URIs and no client key files:" \
	"$DBUSER: $app_uri" "intruder: $intruder_uri" "$(ls -l "$pki")"
lh_check_output ca/client-key-never-extractable 'Access: *sensitive, always sensitive, never extractable' \
	p11 --token-label $TL --login --pin "$PIN" -O --type privkey --label pg-$DBUSER

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$lh_tmp/other-ca.key" -subj "/CN=another CA" -days 2 \
	-out "$lh_tmp/other-ca.pem" > "$lh_tmp/openssl.out" 2>&1
lh_result setup/other-ca $? "$(cat "$lh_tmp/openssl.out")"

# -- the server -----------------------------------------------------------------------
cp "$pki/server.pem" "$pki/server.key" "$pki/rootCA.pem" "$pg/"
[ ${#as_server[@]} -gt 0 ] && chown nobody: "$pg/server.pem" "$pg/server.key" "$pg/rootCA.pem"

# srv CMD ARGS...: run a server program as the server's user, in $pg.
srv () {
	(cd "$pg" && exec "${as_server[@]}" "$@")
}
lh_check server/initdb srv initdb -D "$pg/data" -U pgadmin --auth=reject -E UTF8 \
	-N --no-instructions
lh_check server/create-role sh -c "echo 'CREATE ROLE $DBUSER LOGIN;' |
	(cd '$pg' && exec ${as_server[*]} postgres --single -D '$pg/data' postgres)"
port=$(li_free_port)
cat > "$pg/pg_hba.conf" <<EOF
# written by tests/integration/postgresql.sh: TLS with a client certificate
# whose CN is the user name, and nothing else
hostssl all all 127.0.0.1/32 cert clientcert=verify-full
EOF
cat >> "$pg/data/postgresql.conf" <<EOF
# written by tests/integration/postgresql.sh
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = ''
hba_file = '$pg/pg_hba.conf'
ssl = on
ssl_cert_file = '$pg/server.pem'
ssl_key_file = '$pg/server.key'
ssl_ca_file = '$pg/rootCA.pem'
fsync = off
log_connections = on
EOF
[ ${#as_server[@]} -gt 0 ] && chown nobody: "$pg/pg_hba.conf"

# Not lh_spawn: the server does not load the module, so no ASan preload.
(cd "$pg" && exec "${as_server[@]}" postgres -D "$pg/data") \
	> "$lh_tmp/server.log" 2>&1 < /dev/null &
pg_pid=$!
lh_pids="$lh_pids $pg_pid"
li_wait_port "$port" "$pg_pid"
st=$?
lh_result server/started $st "$(cat "$lh_tmp/server.log")"
[ $st -eq 0 ] || lh_finish

# -- logging in with the token key ---------------------------------------------------------
conn="host=127.0.0.1 port=$port dbname=postgres user=$DBUSER sslmode=verify-full"
conn="$conn sslrootcert=$pki/rootCA.pem"
# q KEY CONNINFO SQL: psql with PGSSLKEY=KEY (none when empty).
q () {
	local key=$1
	shift
	if [ -n "$key" ]; then
		PGSSLKEY=$key OPENSSL_CONF=$lh_tmp/engine.cnf \
			lh_client psql -X -At -v ON_ERROR_STOP=1 "$1" -c "$2"
	else
		OPENSSL_CONF=$lh_tmp/engine.cnf \
			lh_client psql -X -At -v ON_ERROR_STOP=1 "$1" -c "$2"
	fi
}
app_key="pkcs11:$app_uri?pin-value=$PIN"

lh_check_output login/current-user "^$DBUSER\$" \
	q "$app_key" "$conn sslcert=$pki/$DBUSER.pem" 'SELECT current_user'
lh_check_output login/tls-client-dn "^t\\|/CN=$DBUSER\$" \
	q "$app_key" "$conn sslcert=$pki/$DBUSER.pem" \
	'SELECT ssl, client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()'
lh_check_output login/sslkey-in-conninfo "^$DBUSER\$" \
	q "" "$conn sslcert=$pki/$DBUSER.pem sslkey='$app_key'" 'SELECT current_user'
lh_check_output login/short-uri "^$DBUSER\$" \
	q "pkcs11:pkcs11:token=$TL;object=pg-$DBUSER;type=private?pin-value=$PIN" \
	"$conn sslcert=$pki/$DBUSER.pem" 'SELECT current_user'

# -- and nothing else ----------------------------------------------------------------------
lh_check_fails refused/no-client-certificate q "" "$conn" 'SELECT current_user'
grep -q 'connection requires a valid client certificate' "$lh_out"
lh_result refused/no-client-certificate-message $? "$(cat "$lh_out")"
lh_check_fails refused/other-cn q "pkcs11:$intruder_uri?pin-value=$PIN" \
	"$conn sslcert=$pki/intruder.pem" 'SELECT current_user'
grep -q "certificate authentication failed for user \"$DBUSER\"" "$lh_out"
lh_result refused/other-cn-message $? "$(cat "$lh_out")"
lh_check_fails refused/no-tls q "" \
	"host=127.0.0.1 port=$port dbname=postgres user=$DBUSER sslmode=disable" \
	'SELECT current_user'
grep -q 'no pg_hba.conf entry' "$lh_out"
lh_result refused/no-tls-message $? "$(cat "$lh_out")"
lh_check_fails refused/wrong-pin q "pkcs11:$app_uri?pin-value=wrong-pin" \
	"$conn sslcert=$pki/$DBUSER.pem" 'SELECT current_user'
grep -q 'could not read private SSL key.*PIN incorrect' "$lh_out"
lh_result refused/wrong-pin-no-key $? "$(cat "$lh_out")"
lh_check_fails refused/server-from-other-ca q "$app_key" \
	"host=127.0.0.1 port=$port dbname=postgres user=$DBUSER sslmode=verify-full sslrootcert=$lh_tmp/other-ca.pem sslcert=$pki/$DBUSER.pem" \
	'SELECT current_user'
grep -q 'certificate verify failed' "$lh_out"
lh_result refused/server-from-other-ca-message $? "$(cat "$lh_out")"
# the wrong PIN locked nothing
lh_check_output login/after-refusals "^$DBUSER\$" \
	q "$app_key" "$conn sslcert=$pki/$DBUSER.pem" 'SELECT current_user'

# -- stop -----------------------------------------------------------------------------------
# SIGINT: fast shutdown (the exit trap's TERM would wait for clients).
kill -INT "$pg_pid" 2> /dev/null
for i in $(seq 300); do
	kill -0 "$pg_pid" 2> /dev/null || break
	sleep 0.1
done
! kill -0 "$pg_pid" 2> /dev/null
lh_result server/stopped $? "$(tail -n 5 "$lh_tmp/server.log")"
li_stop "$pg_pid"
! grep -E '(PANIC|TRAP):' "$lh_tmp/server.log" > "$lh_tmp/errors" 2>&1
lh_result server/no-panic $? "$(cat "$lh_tmp/errors")"

lh_finish
