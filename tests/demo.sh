#!/bin/bash
# demo.sh - litehsm's main job in one run, told in plain words:
#
#   1. a token is made in a temporary directory (litehsm token init);
#   2. a root CA is made in it (litehsm ca init): its key never leaves the
#      token;
#   3. a server certificate is issued whose key is generated in the token
#      (litehsm ca server --key-in-token);
#   4. openssl s_server serves TLS with that key through the OpenSSL pkcs11
#      engine (key named by its PKCS#11 URI), and openssl s_client
#      connects and verifies the chain against the CA certificate;
#   5. a redis-master-key and a token key are made in the token, the token
#      key is wrapped under the master key (the blob could go to Redis),
#      unwrapped in a second process, and data encrypted under the
#      original key is decrypted with the unwrapped one;
#   6. the token file is checked to hold no key value and no label in
#      clear.
#
# Exits non-zero if any step fails.
#   usage: tests/demo.sh [path/to/litehsm-pkcs11.so]   (make demo)
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
module=${1:-${LH_MODULE:-$here/.libs/litehsm-pkcs11.so}}
tool=${LH_TOOL:-$(dirname "$module")/../tools/litehsm}
work=$(mktemp -d /tmp/litehsm-demo.XXXXXX)
server_pid=
cleanup () {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
step=0

say () { printf '%s\n' "$*"; }
fail () {
	say "  [$step] FAILED: $1"
	[ -n "${2:-}" ] && say "$2" | sed 's/^/        /'
	exit 1
}
run () {
	step=$((step + 1))
	local what=$1; shift
	if out=$("$@" 2>&1); then
		say "  [$step] ok: $what"
	else
		fail "$what" "$out"
	fi
}

[ -f "$module" ] || { say "demo: no module at $module; run make first" >&2; exit 1; }
[ -x "$tool" ] || { say "demo: no litehsm command at $tool; run make first" >&2; exit 1; }
for p in pkcs11-tool openssl; do
	command -v $p >/dev/null || { say "demo: $p is missing; run: sudo bash tests/deps-debian.sh" >&2; exit 1; }
done
enginesdir=$(openssl version -e | sed -n 's/^ENGINESDIR: "\(.*\)"$/\1/p')
[ -f "$enginesdir/pkcs11.so" ] || { say "demo: the OpenSSL pkcs11 engine is missing; run: sudo bash tests/deps-debian.sh" >&2; exit 1; }

# The module finds its tokens through this configuration; the PINs live
# in files only this user can read (never on a command line).
cat > "$work/litehsm.conf" <<CONF
token_dir = $work/tokens
CONF
export LITEHSM_CONF=$work/litehsm.conf LITEHSM_MODULE=$module
umask 077
openssl rand -hex 12 > "$work/so.pin"
openssl rand -hex 12 > "$work/user.pin"
pin=$(cat "$work/user.pin")
L="$tool --token demo --pin-file $work/user.pin"

say "litehsm demo: a PKCS#11 token in $work/tokens"
run "make token 'demo' with an SO PIN and a user PIN (litehsm token init)" \
	$tool token init --label demo --so-pin-file "$work/so.pin" --pin-file "$work/user.pin"

# 2-3: the CA and a server certificate, keys in the token.
run "make a root CA whose key is generated in the token (litehsm ca init)" \
	$L ca init --cn "litehsm demo root CA" --path "$work"
step=$((step + 1))
if ! out=$($L ca server --common-name=localhost,127.0.0.1 --key-in-token \
		--path "$work" 2>&1); then
	fail "issue a server certificate with its key in the token" "$out"
fi
uri=$(printf '%s\n' "$out" | grep -o 'pkcs11:[^ ]*' | head -1)
[ -n "$uri" ] || fail "the server key's PKCS#11 URI is printed" "$out"
say "  [$step] ok: issue a server certificate for localhost with its key in the token"
say "         key: $uri"
run "the certificate verifies against the CA" \
	openssl verify -CAfile "$work/rootCA.pem" "$work/server.pem"

# 4: TLS with the token key.
cat > "$work/openssl.cnf" <<CNF
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $enginesdir/pkcs11.so
MODULE_PATH = $module
PIN = $pin
init = 0
CNF
port=$(( 20000 + $$ % 20000 ))
OPENSSL_CONF=$work/openssl.cnf openssl s_server -engine pkcs11 -keyform engine \
	-key "$uri" -cert "$work/server.pem" -accept "127.0.0.1:$port" -naccept 1 \
	-quiet > "$work/s_server.out" 2>&1 &
server_pid=$!
step=$((step + 1))
for i in $(seq 1 50); do
	grep -q ACCEPT "$work/s_server.out" 2>/dev/null && break
	kill -0 "$server_pid" 2>/dev/null || break
	sleep 0.1
done
if ! out=$(echo "hello over TLS" | openssl s_client -connect "127.0.0.1:$port" \
		-servername localhost -CAfile "$work/rootCA.pem" -verify_return_error \
		-verify_hostname localhost 2>&1) ||
   ! printf '%s\n' "$out" | grep -q 'Verify return code: 0 (ok)'; then
	fail "openssl s_server (key in the token via the pkcs11 engine) serves TLS; s_client verifies the chain" \
		"$out$(cat "$work/s_server.out")"
fi
say "  [$step] ok: openssl s_server serves TLS with the token key; s_client verifies the chain"
wait "$server_pid" 2>/dev/null
server_pid=

# 5: the redis-master-key flow.
run "make redis-master-key in the token (an AES-256 wrapping key)" \
	$L secret generate redis-master-key --wrapping --bits 256
run "make a token key in the token (AES-256, wrappable, still sensitive)" \
	$L secret generate token-key --aes --bits 256 --extractable
run "wrap the token key under redis-master-key (a blob for Redis)" \
	sh -c "$L secret wrap token-key --with redis-master-key --base64 > '$work/token-key.blob'"
run "unwrap it in a second process as token-key-2" \
	sh -c "$L secret unwrap --with redis-master-key --as token-key-2 --aes --base64 < '$work/token-key.blob'"
# pkcs11-tool picks secret keys by CKA_ID (its --label is ignored for
# --encrypt/--decrypt): the ids are the secrets' version ids.
hexid () {
	$L secret show "$1" --json | sed -n 's/^ *"id": "\(.*\)",*$/\1/p' |
		head -1 | tr -d '\n' | od -An -tx1 | tr -d ' \n'
}
id1=$(hexid token-key)
id2=$(hexid token-key-2)
[ -n "$id1" ] && [ -n "$id2" ] || { step=$((step + 1)); fail "find the keys' ids" "token-key: '$id1', token-key-2: '$id2'"; }
head -c 1000 /dev/urandom > "$work/data"
iv=000102030405060708090a0b0c0d0e0f
P="pkcs11-tool --module $module --token-label demo --login --pin $pin"
run "encrypt data under the original token key (AES-CBC-PAD, in the token)" \
	$P --encrypt --id "$id1" -m AES-CBC-PAD --iv $iv \
	--input-file "$work/data" --output-file "$work/data.enc"
run "decrypt it with the unwrapped copy: the same key, never seen outside" \
	sh -c "$P --decrypt --id $id2 -m AES-CBC-PAD --iv $iv \
		--input-file '$work/data.enc' --output-file '$work/data.dec' &&
		cmp -s '$work/data' '$work/data.dec'"
run "the key values cannot be read (sensitive)" sh -c \
	"! $P --read-object --type secrkey --id $id1 -o '$work/x' 2>/dev/null"

# 6: nothing in clear on disk.
run "the token file holds no label in clear" sh -c \
	"! grep -q -a -F redis-master-key '$work'/tokens/* && ! grep -q -a -F token-key '$work'/tokens/*"
echo wrong-pin > "$work/wrong.pin"
run "a wrong PIN is refused (exit code 3)" sh -c \
	"$tool --token demo secret list --pin-file '$work/wrong.pin' >/dev/null 2>&1; test \$? = 3"
say "litehsm demo: all $step steps passed"
