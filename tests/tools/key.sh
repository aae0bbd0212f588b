#!/bin/bash
# key.sh - litehsm key (issue 5, item 6; item 7 for export-cert's file):
# import of every key file format openssl makes (traditional RSA/EC PEM,
# PKCS#8 PEM and DER, encrypted PKCS#8 PEM and DER, encrypted traditional
# PEM, PKCS#12 with and without a password, a PEM holding key and
# certificate), each checked in the token: a sensitive, never-extractable
# private key (pkcs11-tool's listing, and CKA_VALUE / the RSA private
# components answering CKR_ATTRIBUTE_SENSITIVE to a raw C_GetAttributeValue)
# whose signature, made in the token with pkcs11-tool, verifies with openssl
# against the original file's public key.  Then --remove-source, a TLS
# server (openssl s_server with the pkcs11 engine) on an imported key,
# key list/generate/delete/export-cert, and the same imports into SoftHSM2
# with --module.  Every refusal is checked for its exit code, its one
# stderr line, that the token's objects did not change and that the
# source file is still there.
. "$(dirname "$0")/lib.sh"
lh_need openssl openssl
lh_need pkcs11-tool opensc
lh_need python3 python3

lt_pinfile so1 so-secret-k1
lt_pinfile pin1 user-pin-k1
PIN=user-pin-k1
PASS=pfx-pass-k1
lt_secret "$PASS"
printf '%s\n' "$PASS" > "$lh_tmp/pass"
printf 'wrong-pin-k1\n' > "$lh_tmp/badpin"
printf 'not-the-password\n' > "$lh_tmp/wrongpass"
S="--token k --pin-file $lh_tmp/pin1"
d=$lh_tmp/in
mkdir -p "$d"
# under 1025 bytes: pkcs11-tool signs that in one C_Sign, which SoftHSM's
# EdDSA needs
head -c 1000 /dev/urandom > "$lh_tmp/data"
openssl dgst -sha256 -binary "$lh_tmp/data" > "$lh_tmp/data.sha256"
# the interpreter itself: a version manager's shim can take a second to start
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
[ -x "$PY" ] || PY=python3

# ---- helpers -----------------------------------------------------------------------

# objs_snap FILE [MODULE TOKEN]: every object of the token (class, label,
# id); a listing that failed is a test failure, so that two equal error
# messages never pass for "nothing changed".
objs_snap () {
	rawp11 objs "${2:-$LH_MODULE}" "${3:-k}" > "$1" 2>&1
	if ! grep -qE '^[0-9]+ ' "$1" || grep -qvE '^[0-9]+ ' "$1"; then
		lh_not_ok "objects-listed" "cannot list the objects:" "$(cat "$1")"
	fi
}

# out_py EXPR: EXPR over the last stdout as JSON (j).
out_py () {
	"$PY" -c "import json,sys; j = json.load(sys.stdin); print($1)" \
		< "$lt_out" 2>/dev/null
}

# kl_py EXPR [ARGS]: EXPR over "key list --json" (j; k: label -> entry).
kl_py () {
	local expr=$1
	shift
	"$lt_tool" key list --json ${*:-$S} 2>/dev/null | "$PY" -c "
import json, sys
j = json.load(sys.stdin)
k = {x['label']: x for x in j['keys']}
print($expr)" 2>/dev/null
}

# refusal NAME CODE TEXT ARGS...: lt_fails, the token's objects unchanged and
# every file given with --in still there, unchanged.
refusal () {
	local name=$1 a prev= f
	objs_snap "$lh_tmp/before"
	: > "$lh_tmp/inputs"
	for a in "$@"; do
		if [ "$prev" = --in ] && [ -f "$a" ]; then
			cp "$a" "$lh_tmp/copy.$(wc -l < "$lh_tmp/inputs")"
			echo "$a" >> "$lh_tmp/inputs"
		fi
		prev=$a
	done
	lt_fails "$@"
	objs_snap "$lh_tmp/after"
	lt_same "$name-changes-nothing" "$lh_tmp/before" "$lh_tmp/after"
	f=0
	while read -r a; do
		cmp -s "$a" "$lh_tmp/copy.$f" || { lh_not_ok "$name-source-kept" "$a changed or is gone"; return; }
		f=$((f + 1))
	done < "$lh_tmp/inputs"
	[ $f -gt 0 ] && lh_ok "$name-source-kept"
	return 0
}

# mk ARGS...: openssl ARGS, quietly; a failure is a test failure.
mk () {
	openssl "$@" > "$lh_tmp/openssl.out" 2>&1 ||
		lh_not_ok "setup/openssl-$1" "openssl $* failed:" "$(cat "$lh_tmp/openssl.out")"
}

# pub SRC: SRC.pub, the public key of the unencrypted key file SRC.
pub () {
	mk pkey -in "$1" -pubout -out "$1.pub"
}

# imp NAME KIND FORMAT ARGS...: "key import ARGS --label NAME --json" works
# and reports KIND and FORMAT.
imp () {
	local name=$1 kind=$2 format=$3
	shift 3
	lt_ok "import/$name" key import --label "$name" --json $S "$@" || return 0
	check "import/$name-format" "$(out_py 'j["format"]')" "$format"
	check "import/$name-kind" "$(out_py 'j["kind"]')" "$kind"
	check "import/$name-verified" "$(out_py 'j["verified"]')" True
}

# held NAME KIND PUB [MODULE TOKEN]: the token holds NAME's private key
# sensitive and never extractable (key list, pkcs11-tool, raw reads), and a
# signature pkcs11-tool makes with it verifies against PUB.
held () {
	local name=$1 kind=$2 pubf=$3 mod=${4:-$LH_MODULE} tok=${5:-k} id sig attrs
	local args="--module $mod --token $tok --pin-file $lh_tmp/pin1"
	check "held/$name-listed" "$(kl_py "(k['$name']['kind'], k['$name']['origin'], k['$name']['sensitive'], k['$name']['extractable'])" $args)" \
		"('$kind', 'imported', True, False)"
	lh_run lh_client pkcs11-tool --module "$mod" --token-label "$tok" --login \
		--pin "$PIN" --list-objects --type privkey
	awk -v want="$name" '
		/^Private Key Object/ { lab = "" }
		/^ *label: / { lab = $0; sub(/^ *label: +/, "", lab) }
		/^ *Access: / && lab == want { print; exit }' "$lh_out" > "$lh_tmp/access"
	grep -q sensitive "$lh_tmp/access" && ! grep -qE '(^|[:,] )extractable' "$lh_tmp/access"
	lh_result "held/$name-pkcs11-tool-sensitive" $? "pkcs11-tool shows:" "$(cat "$lh_out")"
	case $kind in
	rsa-*) attrs="0x123 0x124 0x125 0x126 0x127 0x128" ;;  # d, p, q, dP, dQ, qInv
	*) attrs="0x11" ;;                                     # CKA_VALUE
	esac
	rawp11 sens "$mod" "$tok" "$name" $attrs > "$lh_tmp/sens" 2>&1
	! grep -qv 'rv=0x11$' "$lh_tmp/sens" && [ -s "$lh_tmp/sens" ]
	lh_result "held/$name-value-sensitive" $? "want CKR_ATTRIBUTE_SENSITIVE (0x11):" "$(cat "$lh_tmp/sens")"
	id=$(kl_py "k['$name']['id']" $args)
	sig=$lh_tmp/$name.sig
	rm -f "$sig"
	case $kind in
	rsa-*)
		lh_check "held/$name-token-signs" lh_client pkcs11-tool --module "$mod" \
			--token-label "$tok" --login --pin "$PIN" --sign --mechanism SHA256-RSA-PKCS \
			--id "$id" -i "$lh_tmp/data" -o "$sig"
		lh_check_output "held/$name-signature-verifies" 'Verified OK' \
			openssl dgst -sha256 -verify "$pubf" -signature "$sig" "$lh_tmp/data" ;;
	ec-*)
		# CKM_ECDSA over the hash: SoftHSM 2.6 has no CKM_ECDSA_SHA256
		lh_check "held/$name-token-signs" lh_client pkcs11-tool --module "$mod" \
			--token-label "$tok" --login --pin "$PIN" --sign --mechanism ECDSA \
			--signature-format openssl --id "$id" -i "$lh_tmp/data.sha256" -o "$sig"
		lh_check_output "held/$name-signature-verifies" 'Signature Verified Successfully' \
			openssl pkeyutl -verify -pubin -inkey "$pubf" -in "$lh_tmp/data.sha256" \
			-sigfile "$sig" ;;
	ed25519)
		lh_check "held/$name-token-signs" lh_client pkcs11-tool --module "$mod" \
			--token-label "$tok" --login --pin "$PIN" --sign --mechanism EDDSA \
			--id "$id" -i "$lh_tmp/data" -o "$sig"
		lh_check_output "held/$name-signature-verifies" 'Signature Verified Successfully' \
			openssl pkeyutl -verify -pubin -inkey "$pubf" -rawin -in "$lh_tmp/data" \
			-sigfile "$sig" ;;
	esac
}

# ---- inputs, as openssl makes them ------------------------------------------------

mk genrsa -traditional -out "$d/rsa-trad.key" 2048
mk genrsa -out "$d/rsa-p8.pem" 3072                 # OpenSSL 3 writes PKCS#8
mk ecparam -name prime256v1 -genkey -out "$d/ec256.key"
mk genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$d/ec384.pem"
mk genpkey -algorithm ed25519 -out "$d/ed.pem"
mk genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$d/p8der.src"
mk pkcs8 -topk8 -nocrypt -in "$d/p8der.src" -outform DER -out "$d/client.pem.pk8"
mk genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/p8enc.src"
mk pkcs8 -topk8 -in "$d/p8enc.src" -passout "file:$lh_tmp/pass" -out "$d/p8enc.pem"
mk genpkey -algorithm ed25519 -out "$d/p8encder.src"
mk pkcs8 -topk8 -in "$d/p8encder.src" -passout "file:$lh_tmp/pass" -outform DER \
	-out "$d/p8enc.der"
mk genrsa -traditional -aes256 -passout "file:$lh_tmp/pass" -out "$d/rsa-enc.key" 2048
mk rsa -in "$d/rsa-enc.key" -passin "file:$lh_tmp/pass" -out "$d/rsa-enc.src"
for f in rsa-trad.key rsa-p8.pem ec256.key ec384.pem ed.pem p8der.src p8enc.src \
	p8encder.src rsa-enc.src; do
	pub "$d/$f"
done
# a CA, a certificate it issued and PKCS#12 files with the chain, as seed
# 004's client.pfx
mk req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/ca.key" \
	-subj "/CN=key test CA" -days 30 -out "$d/ca.pem"
mk req -new -newkey rsa:2048 -nodes -keyout "$d/pfx.src" -subj "/CN=pfx.example" \
	-out "$d/pfx.csr"
mk x509 -req -in "$d/pfx.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -set_serial 4097 \
	-days 10 -out "$d/pfx.crt"
mk pkcs12 -export -inkey "$d/pfx.src" -in "$d/pfx.crt" -certfile "$d/ca.pem" \
	-passout "file:$lh_tmp/pass" -out "$d/client.pfx"
mk req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/nopass.src" \
	-subj "/CN=nopass.example" -out "$d/nopass.csr"
mk x509 -req -in "$d/nopass.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -set_serial 4098 \
	-days 10 -out "$d/nopass.crt"
mk pkcs12 -export -inkey "$d/nopass.src" -in "$d/nopass.crt" -passout pass: \
	-out "$d/nopass.p12"
pub "$d/pfx.src"
pub "$d/nopass.src"
# a PEM file holding key and certificate (cat key cert > server.pem)
mk req -x509 -newkey rsa:2048 -nodes -keyout "$d/kc.src" -subj "/CN=localhost" \
	-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -days 2 -out "$d/kc.crt"
cat "$d/kc.src" "$d/kc.crt" > "$d/server-full.pem"
pub "$d/kc.src"

lt_ok setup/init token init --label k --so-pin-file "$lh_tmp/so1" --pin-file "$lh_tmp/pin1"

# ---- help ----------------------------------------------------------------------------

lt_ok help/key key --help
for c in import generate list delete export-cert; do
	lt_has "help/lists-$c" "^  $c "
done
for c in import generate list delete export-cert; do
	lt_ok "help/$c" key "$c" --help
	lt_has "help/$c-usage" "^Usage: litehsm key $c"
done

# ---- import: every format ----------------------------------------------------------

imp rsa-trad rsa-2048 "traditional RSA PEM" --in "$d/rsa-trad.key"
held rsa-trad rsa-2048 "$d/rsa-trad.key.pub"
imp rsa-p8 rsa-3072 "PKCS#8 PEM" --in "$d/rsa-p8.pem"
held rsa-p8 rsa-3072 "$d/rsa-p8.pem.pub"
imp ec256 ec-p256 "traditional EC PEM" --in "$d/ec256.key"
held ec256 ec-p256 "$d/ec256.key.pub"
imp ec384 ec-p384 "PKCS#8 PEM" --in "$d/ec384.pem"
held ec384 ec-p384 "$d/ec384.pem.pub"
imp ed ed25519 "PKCS#8 PEM" --in "$d/ed.pem"
held ed ed25519 "$d/ed.pem.pub"
imp p8enc ec-p256 "encrypted PKCS#8 PEM" --in "$d/p8enc.pem" --pass-file "$lh_tmp/pass"
held p8enc ec-p256 "$d/p8enc.src.pub"
imp p8encder ed25519 "encrypted PKCS#8 DER" --in "$d/p8enc.der" --pass-file "$lh_tmp/pass"
held p8encder ed25519 "$d/p8encder.src.pub"
imp rsa-enc rsa-2048 "traditional RSA PEM" --in "$d/rsa-enc.key" --pass-file "$lh_tmp/pass"
held rsa-enc rsa-2048 "$d/rsa-enc.src.pub"
imp pfx rsa-2048 "PKCS#12" --in "$d/client.pfx" --pass-file "$lh_tmp/pass"
held pfx rsa-2048 "$d/pfx.src.pub"
check import/pfx-certificate "$(out_py '(j["certificate"], j["chain"])')" "('CN=pfx.example', 1)"
imp nopass ec-p256 "PKCS#12" --in "$d/nopass.p12"
held nopass ec-p256 "$d/nopass.src.pub"
check import/nopass-certificate "$(out_py '(j["certificate"], j["chain"])')" "('CN=nopass.example', 0)"
imp keycert rsa-2048 "PKCS#8 PEM" --in "$d/server-full.pem"
held keycert rsa-2048 "$d/kc.src.pub"
check import/keycert-certificate "$(out_py 'j["certificate"]')" "CN=localhost"

# PKCS#8 DER, and the name from the file: client.pem.pk8 -> "client"
lt_ok import/p8der-default-name key import --in "$d/client.pem.pk8" $S
lt_has import/p8der-format '^Imported rsa-2048 key "client" from .*\(PKCS#8 DER\)'
lt_has import/p8der-verified '^The token signed a random challenge'
lt_has import/p8der-uri '^pkcs11:.*token=k;object=client;id=.*;type=private$'
held client rsa-2048 "$d/p8der.src.pub"

# --cert: the certificate from its own file
mk req -x509 -key "$d/ec384.pem" -subj "/CN=ec384.example" -days 5 -out "$d/ec384.crt"
lt_ok import/cert-option key import --in "$d/ec384.pem" --cert "$d/ec384.crt" --label ec384 \
	--force $S
lt_has import/cert-option-replaced 'replacing the old one'
check import/cert-option-listed "$(kl_py "k['ec384']['certificate']['subject']")" "CN=ec384.example"

# what a PKCS#12's chain became
objs_snap "$lh_tmp/objs"
grep -q '^1 pfx-chain-1 ' "$lh_tmp/objs"
lh_result import/pfx-chain-stored $? "$(cat "$lh_tmp/objs")"
check import/pfx-three-objects "$(grep -c ' pfx ' "$lh_tmp/objs")" 3

if openssl list -providers -provider legacy > /dev/null 2>&1; then
	mk genrsa -out "$d/legacy.src" 2048
	mk req -x509 -key "$d/legacy.src" -subj "/CN=legacy" -days 2 -out "$d/legacy.crt"
	mk pkcs12 -export -legacy -inkey "$d/legacy.src" -in "$d/legacy.crt" \
		-passout "file:$lh_tmp/pass" -out "$d/legacy.pfx"
	imp legacy rsa-2048 "PKCS#12" --in "$d/legacy.pfx" --pass-file "$lh_tmp/pass"
else
	lh_skip import/legacy "OpenSSL's legacy provider is not installed"
fi

# ---- import: refusals ------------------------------------------------------------------

printf 'this is not a key\n' > "$d/notakey.txt"
mk x509 -in "$d/ca.pem" -outform DER -out "$d/ca.der"
cat "$d/ec256.key" "$d/rsa-p8.pem" > "$d/two.pem"
: > "$d/empty.key"
mk genpkey -algorithm x25519 -out "$d/x25519.pem"
mk genrsa -out "$d/fresh.key" 2048
cat "$d/fresh.key" "$d/kc.crt" > "$d/fresh-wrongcert.pem"

refusal bad/not-a-key 2 "holds no private key" key import --in "$d/notakey.txt" $S
refusal bad/csr 2 'holds no private key (only "CERTIFICATE REQUEST")' \
	key import --in "$d/pfx.csr" --label x $S
refusal bad/certificate 2 "is a certificate, not a private key" \
	key import --in "$d/ca.der" --label x $S
refusal bad/empty 2 "is empty" key import --in "$d/empty.key" $S
refusal bad/two-keys 2 "holds more than one private key" key import --in "$d/two.pem" $S
refusal bad/x25519 2 "does not import" key import --in "$d/x25519.pem" $S
refusal bad/pfx-wrong-password 2 "wrong password" \
	key import --in "$d/client.pfx" --label x --pass-file "$lh_tmp/wrongpass" $S
refusal bad/pfx-no-password 2 "give its password with --pass-file" \
	key import --in "$d/client.pfx" --label x $S
refusal bad/p8-wrong-password 2 "wrong password" \
	key import --in "$d/p8enc.pem" --label x --pass-file "$lh_tmp/wrongpass" $S
refusal bad/p8der-wrong-password 2 "wrong password" \
	key import --in "$d/p8enc.der" --label x --pass-file "$lh_tmp/wrongpass" $S
refusal bad/p8-no-password 2 "is an encrypted PKCS#8 key" \
	key import --in "$d/p8enc.pem" --label x $S
refusal bad/trad-wrong-password 2 "wrong password" \
	key import --in "$d/rsa-enc.key" --label x --pass-file "$lh_tmp/wrongpass" $S
refusal bad/cert-mismatch 2 "does not match the key" \
	key import --in "$d/fresh.key" --cert "$d/ca.pem" $S
refusal bad/pem-cert-mismatch 2 "does not match the key" \
	key import --in "$d/fresh-wrongcert.pem" $S
refusal bad/existing-name 1 'a key named "ec256" already exists' \
	key import --in "$d/fresh.key" --label ec256 $S
refusal bad/existing-name-remove-source 1 "already exists" \
	key import --in "$d/fresh.key" --label ec256 --remove-source $S
refusal bad/same-key-other-name 1 'this key is already in token "k" as "ec256"' \
	key import --in "$d/ec256.key" --label ec256-again $S
refusal bad/missing-file 2 "No such file or directory" \
	key import --in "$d/missing.key" $S
refusal bad/wrong-pin 3 "PIN is incorrect" \
	key import --in "$d/fresh.key" --token k --pin-file "$lh_tmp/badpin"
refusal bad/wrong-password-remove-source 2 "wrong password" \
	key import --in "$d/p8enc.pem" --label x --pass-file "$lh_tmp/wrongpass" \
	--remove-source $S
refusal bad/no-in 2 "needs --in FILE" key import $S
refusal bad/chain-name 2 "looks like the label of a chain certificate" \
	key import --in "$d/fresh.key" --label web-chain-2 $S
refusal bad/directory 2 "not a regular file" key import --in "$d" $S
refusal bad/pin-on-command-line 2 "PINs are never taken from the command line" \
	key import --in "$d/fresh.key" --pin "$PIN" --token k

# --force: another key under an existing name replaces it, and only it
old_id=$(kl_py "k['ec256']['id']")
lt_ok force/replace key import --in "$d/fresh.key" --label ec256 --force $S
check force/new-key "$(kl_py "(k['ec256']['kind'], k['ec256']['id'] != '$old_id')")" \
	"('rsa-2048', True)"
objs_snap "$lh_tmp/objs"
check force/two-objects "$(grep -c ' ec256 ' "$lh_tmp/objs")" 2
# the same file again with --force: one key, the same id
lt_ok force/same-key key import --in "$d/fresh.key" --label ec256 --force $S
objs_snap "$lh_tmp/objs"
check force/same-key-two-objects "$(grep -c ' ec256 ' "$lh_tmp/objs")" 2

# ---- key list -------------------------------------------------------------------------

lt_ok list/text key list $S
lt_has list/text-pfx '^pfx \(rsa-2048, imported\)$'
lt_has list/text-certificate '^  certificate: CN=pfx.example, until .*, and 1 chain certificate$'
lt_has list/text-uri '^  uri: +pkcs11:.*;token=k;object=pfx;id='
lt_ok list/json key list --json $S
lt_json list/json-valid
check list/json-kinds "$(kl_py "[(x['label'], x['kind'], x['curve'], x['bits']) for x in j['keys'] if x['label'] in ('ec384', 'ed', 'rsa-p8')]")" \
	"[('ec384', 'ec-p384', 'P-384', 384), ('ed', 'ed25519', None, 255), ('rsa-p8', 'rsa-3072', None, 3072)]"
check list/json-sorted "$(kl_py "[x['label'] for x in j['keys']] == sorted(x['label'] for x in j['keys'])")" True
check list/json-all-sensitive "$(kl_py "all(x['sensitive'] and not x['extractable'] for x in j['keys'])")" True
check list/json-not-after "$(kl_py "k['pfx']['certificate']['not_after'][:2] + k['pfx']['certificate']['not_after'][-1]")" "20Z"
check list/json-no-cert "$(kl_py "k['ed']['certificate']")" None

# ---- key generate -----------------------------------------------------------------------

lt_ok gen/default key generate --label g1 $S
lt_has gen/default-kind '^Generated ec-p256 key "g1" in token "k":$'
lt_has gen/default-uri '^pkcs11:.*;token=k;object=g1;id=.*;type=private$'
check gen/listed "$(kl_py "(k['g1']['kind'], k['g1']['origin'], k['g1']['extractable'])")" \
	"('ec-p256', 'generated', False)"
lt_ok gen/ed25519 key generate --label g2 --key ed25519 --json $S
check gen/ed25519-json "$(out_py '(j["type"], j["replaced"])')" "('ed25519', False)"
lt_ok gen/rsa-tls key generate --label g3 --key rsa-2048 --tls $S
lh_run p11 --token-label k --login --pin "$PIN" --list-objects --type privkey
awk '/^Private Key Object/ { lab = "" } /label: *g3$/ { lab = "g3" }
	/Usage:/ && lab == "g3" { print; exit }' "$lh_out" | grep -q 'decrypt, sign'
lh_result gen/rsa-tls-decrypts $? "$(cat "$lh_out")"
g1=$(kl_py "k['g1']['id']")
refusal gen/existing 1 'a key labelled "g1" already exists' key generate --label g1 $S
lt_ok gen/force key generate --label g1 --key ec-p384 --force $S
lt_has gen/force-replaced 'replacing the old one'
check gen/force-new "$(kl_py "(k['g1']['kind'], k['g1']['id'] != '$g1')")" "('ec-p384', True)"
refusal gen/bad-kind 2 "rsa-1024" key generate --label g9 --key rsa-1024 $S
refusal gen/tls-not-rsa 2 "--tls is for RSA keys" key generate --label g9 --tls $S
refusal gen/no-label 2 "needs --label NAME" key generate $S

# ---- key export-cert --------------------------------------------------------------------

fp () {
	openssl x509 -noout -fingerprint -sha256 -inform "${2:-PEM}" -in "$1" 2>&1
}
lt_ok export/stdout key export-cert pfx $S
cp "$lt_out" "$lh_tmp/exp.pem"
check export/stdout-same "$(fp "$lh_tmp/exp.pem")" "$(fp "$d/pfx.crt")"
lt_ok export/out key export-cert pfx --out "$lh_tmp/pfx.der" --der $S
check export/der-same "$(fp "$lh_tmp/pfx.der" DER)" "$(fp "$d/pfx.crt")"
check export/mode "$(stat -c %a "$lh_tmp/pfx.der")" 644
cp "$lh_tmp/pfx.der" "$lh_tmp/pfx.der.copy"
refusal export/no-overwrite 1 "already exists" key export-cert nopass --out "$lh_tmp/pfx.der" $S
cmp -s "$lh_tmp/pfx.der" "$lh_tmp/pfx.der.copy"
lh_result export/no-overwrite-kept $?
lt_ok export/force key export-cert nopass --out "$lh_tmp/pfx.der" --force $S
check export/force-replaced "$(fp "$lh_tmp/pfx.der")" "$(fp "$d/nopass.crt")"
lt_ok export/chain key export-cert pfx --chain --out "$lh_tmp/chain.pem" $S
check export/chain-two "$(grep -c 'BEGIN CERTIFICATE' "$lh_tmp/chain.pem")" 2
lh_check_output export/chain-verifies ': OK$' openssl verify -CAfile "$d/ca.pem" "$lh_tmp/chain.pem"
refusal export/no-cert 4 'key "ed" has no certificate' key export-cert ed $S
refusal export/no-key 4 'no key named "nosuch"' key export-cert nosuch $S
refusal export/der-chain 2 "--chain needs PEM" key export-cert pfx --der --chain $S
refusal export/no-dir 2 "of --out does not exist" key export-cert pfx --out "$lh_tmp/nodir/x.pem" $S
[ ! -e "$lh_tmp/nodir" ]
lh_result export/no-dir-nothing-made $?

# ---- key delete ---------------------------------------------------------------------------

refusal delete/no-tty 2 "no terminal to ask on" key delete pfx $S
refusal delete/missing 4 'no key named "nosuch"' key delete nosuch --yes $S
lt_ok delete/yes key delete pfx --yes $S
lt_has delete/said 'Deleted key "pfx"'
objs_snap "$lh_tmp/objs"
! grep -qE ' pfx(-chain-1)? ' "$lh_tmp/objs"
lh_result delete/all-objects-gone $? "$(cat "$lh_tmp/objs")"
check delete/others-kept "$(kl_py "'nopass' in k and 'ec384' in k and 'pfx' not in k")" True
# a private key another tool stored alone (no public key, no certificate)
mk genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -outform DER -out "$d/bare.der"
lh_check delete/bare-written p11 --token-label k --login --pin "$PIN" --write-object \
	"$d/bare.der" --type privkey --id 99 --label bare --usage-sign
check delete/bare-listed "$(kl_py "(k['bare']['kind'], k['bare']['id'], k['bare']['certificate'])")" \
	"('ec-p256', '99', None)"
lt_ok delete/bare key delete bare --yes $S
check delete/bare-gone "$(kl_py "'bare' in k")" False
# the file can come back in
imp pfx rsa-2048 "PKCS#12" --in "$d/client.pfx" --pass-file "$lh_tmp/pass"

# ---- --remove-source and a TLS server on an imported key ------------------------------------
# A token of its own: the OpenSSL pkcs11 engine of Debian 12 (libp11 0.4.12)
# cannot enumerate the keys of a token that holds an Ed25519 key.

lt_ok tls/init token init --label tls --so-pin-file "$lh_tmp/so1" --pin-file "$lh_tmp/pin1"
mkdir -p "$lh_tmp/srv"
cp "$d/server-full.pem" "$lh_tmp/srv/server.pem"
lt_ok tls/import-remove-source key import --in "$lh_tmp/srv/server.pem" --remove-source \
	--token tls --pin-file "$lh_tmp/pin1"
lt_has tls/remove-said '^Removed .*/server.pem\.  Copies may remain in backups'
uri=$(tail -n 1 "$lt_out")
[ ! -e "$lh_tmp/srv/server.pem" ]
lh_result tls/source-removed $?
lt_ok tls/export-cert key export-cert server --out "$lh_tmp/srv/server.crt" \
	--token tls --pin-file "$lh_tmp/pin1"

engine=$(lh_engine)
if [ -f "$engine" ]; then
	lh_engine_conf "$lh_tmp/openssl.cnf"
	OPENSSL_CONF=$lh_tmp/openssl.cnf lh_spawn "$lh_tmp/s_server.out" \
		openssl s_server -engine pkcs11 -keyform engine -key "$uri?pin-value=$PIN" \
		-cert "$lh_tmp/srv/server.crt" -accept 127.0.0.1:0 -naccept 1 -www
	port=
	for i in $(seq 1 100); do
		port=$(sed -n 's/^ACCEPT .*:\([0-9][0-9]*\)$/\1/p' "$lh_tmp/s_server.out")
		[ -n "$port" ] && break
		kill -0 "$lh_last_pid" 2>/dev/null || break
		sleep 0.2
	done
	if [ -n "$port" ]; then
		lh_run timeout 30 openssl s_client -connect "127.0.0.1:$port" \
			-CAfile "$lh_tmp/srv/server.crt" -verify_return_error -verify_hostname localhost
		grep -q 'Verify return code: 0 (ok)' "$lh_out" && grep -qE 'Cipher is TLS' "$lh_out"
		lh_result tls/handshake $? "$(cat "$lh_out")" "server:" "$(cat "$lh_tmp/s_server.out")"
	else
		lh_not_ok tls/server-started "$(cat "$lh_tmp/s_server.out")"
	fi
else
	lh_skip tls/handshake "$engine not found (Debian package libengine-pkcs11-openssl)"
fi

# ---- the same with SoftHSM2 (--module) ----------------------------------------------------------

softhsm=
for f in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so; do
	[ -f "$f" ] && softhsm=$f && break
done
if [ -n "$lh_is_softhsm" ]; then
	lh_skip softhsm/all "the whole script ran against SoftHSM2"
elif [ -z "$softhsm" ] || ! command -v softhsm2-util > /dev/null 2>&1; then
	lh_skip softhsm/all "SoftHSM2 not found (Debian package softhsm2)"
else
	mkdir -p "$lh_tmp/sh"
	printf 'directories.tokendir = %s\nobjectstore.backend = file\n' "$lh_tmp/sh" \
		> "$lh_tmp/softhsm2.conf"
	SOFTHSM2_CONF=$lh_tmp/softhsm2.conf
	export SOFTHSM2_CONF
	lh_check softhsm/init softhsm2-util --init-token --free --label sh \
		--so-pin so-secret-k1 --pin "$PIN"
	H="--module $softhsm --token sh --pin-file $lh_tmp/pin1"
	lt_ok softhsm/import-rsa key import --in "$d/rsa-trad.key" --label rsa $H
	held rsa rsa-2048 "$d/rsa-trad.key.pub" "$softhsm" sh
	lt_ok softhsm/import-ec key import --in "$d/ec384.pem" --label ec --cert "$d/ec384.crt" $H
	held ec ec-p384 "$d/ec384.pem.pub" "$softhsm" sh
	lt_ok softhsm/import-ed key import --in "$d/p8enc.der" --pass-file "$lh_tmp/pass" \
		--label ed $H
	held ed ed25519 "$d/p8encder.src.pub" "$softhsm" sh
	lt_ok softhsm/import-pfx key import --in "$d/client.pfx" --pass-file "$lh_tmp/pass" \
		--label pfx $H
	held pfx rsa-2048 "$d/pfx.src.pub" "$softhsm" sh
	lt_ok softhsm/list key list --json $H
	check softhsm/list-certs "$(out_py "sorted((x['label'], x['certificate'] and x['certificate']['subject'], x['chain']) for x in j['keys'])")" \
		"[('ec', 'CN=ec384.example', 0), ('ed', None, 0), ('pfx', 'CN=pfx.example', 1), ('rsa', None, 0)]"
	lt_ok softhsm/export-chain key export-cert pfx --chain $H
	check softhsm/export-chain-two "$(grep -c 'BEGIN CERTIFICATE' "$lt_out")" 2
	objs_snap "$lh_tmp/sh-before" "$softhsm" sh
	lt_fails softhsm/wrong-password 2 "wrong password" key import --in "$d/client.pfx" \
		--pass-file "$lh_tmp/wrongpass" --label x $H
	lt_fails softhsm/existing 1 "already exists" key import --in "$d/fresh.key" \
		--label rsa $H
	objs_snap "$lh_tmp/sh-after" "$softhsm" sh
	lt_same softhsm/refusals-change-nothing "$lh_tmp/sh-before" "$lh_tmp/sh-after"
	lt_ok softhsm/generate key generate --label gen --key ed25519 $H
	lt_ok softhsm/delete key delete pfx --yes $H
	objs_snap "$lh_tmp/sh-objs" "$softhsm" sh
	! grep -qE ' pfx(-chain-1)? ' "$lh_tmp/sh-objs"
	lh_result softhsm/delete-all-gone $? "$(cat "$lh_tmp/sh-objs")"
fi

lh_finish
