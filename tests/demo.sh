#!/bin/bash
# demo.sh - litehsm's main job in one run, told in plain words: a token is
# made with OpenSC's pkcs11-tool, a user PIN is set, a certificate and a
# private secret are stored, GnuTLS's p11tool lists them, the secret is
# read back, and the token file is checked to hold neither the secret nor
# its label in clear.  Exits non-zero if any step fails.
#   usage: tests/demo.sh [path/to/litehsm-pkcs11.so]   (make demo)
set -u
module=${1:-${LH_MODULE:-$(dirname "$0")/../.libs/litehsm-pkcs11.so}}
work=$(mktemp -d /tmp/litehsm-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
step=0

say () { printf '%s\n' "$*"; }
run () {
	step=$((step + 1))
	local what=$1; shift
	if out=$("$@" 2>&1); then
		say "  [$step] ok: $what"
	else
		say "  [$step] FAILED: $what"
		say "$out" | sed 's/^/        /'
		exit 1
	fi
}

[ -f "$module" ] || { say "demo: no module at $module; run make first" >&2; exit 1; }
for p in pkcs11-tool p11tool openssl; do
	command -v $p >/dev/null || { say "demo: $p is missing; run: sudo bash tests/deps-debian.sh" >&2; exit 1; }
done

cat > "$work/litehsm.conf" <<CONF
token_dir = $work/tokens
CONF
export LITEHSM_CONF=$work/litehsm.conf
P="pkcs11-tool --module $module"
so=so-secret-$$
pin=user-pin-$$
secret="the redis master key is $(openssl rand -hex 16)"

say "litehsm demo: a PKCS#11 token in $work/tokens"
run "pkcs11-tool sees one free slot to make a token in" sh -c "$P -L | grep -q uninitialized"
run "make token 'demo' with an SO PIN (pkcs11-tool --init-token)" \
	$P --init-token --label demo --so-pin "$so"
run "set the user PIN as the SO (--init-pin)" \
	$P --token-label demo --login --login-type so --so-pin "$so" --init-pin --new-pin "$pin"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$work/k.pem" -subj /CN=demo.example -days 30 -outform DER \
	-out "$work/cert.der" 2>/dev/null
printf '%s' "$secret" > "$work/secret"
run "store a certificate (public object)" \
	$P --token-label demo --login --pin "$pin" --write-object "$work/cert.der" \
	--type cert --id 01 --label demo-cert
run "store a secret as a private data object" \
	$P --token-label demo --login --pin "$pin" --write-object "$work/secret" \
	--type data --label redis-master-key --private
run "GnuTLS p11tool lists the certificate and the secret" sh -c \
	"GNUTLS_PIN='$pin' p11tool --provider '$module' --login --list-all 'pkcs11:token=demo' | grep -q redis-master-key"
run "read the secret back in another process" sh -c \
	"$P --token-label demo --login --pin '$pin' --read-object --type data --label redis-master-key -o '$work/back' && cmp -s '$work/secret' '$work/back'"
run "without a login the private secret is invisible" sh -c \
	"! $P --token-label demo -O 2>/dev/null | grep -q redis-master-key"
db=$(ls "$work"/tokens/*.db | head -1)
run "the token file holds neither the secret nor its label in clear" sh -c \
	"! grep -q -a -F '$secret' '$work'/tokens/* && ! grep -q -a -F redis-master-key '$work'/tokens/*"
run "a wrong PIN is refused" sh -c "! $P --token-label demo --login --pin wrong-pin -O >/dev/null 2>&1"
run "the token reports the failed attempt (user PIN count low)" sh -c \
	"$P -L | grep -q 'user PIN count low'"
say "litehsm demo: all $step steps passed; token file: $db"
