#!/bin/bash
# crypto-p11tool.sh - issue 3, "Done when": GnuTLS p11tool generates RSA,
# ECDSA and Ed25519 keys in the token (--generate-privkey) and
# --test-sign passes on each: it signs with the token, verifies against
# the private key's parameters and against the public key in the token.
#
# GnuTLS 3.7 (Debian 12) asks for an Ed25519 key pair with CKM_EDDSA
# instead of CKM_EC_EDWARDS_KEY_PAIR_GEN, which no token accepts (SoftHSM2
# refuses it the same way); there the Ed25519 pair is made with pkcs11-tool
# and p11tool only tests it.  Ed25519 signs the message itself, so
# --test-sign needs --hash=SHA512 (its default SHA256 has no Ed25519 form).
. "$(dirname "$0")/lib.sh"
lh_need p11tool gnutls-bin
lh_need pkcs11-tool opensc

SO=so-secret-4
PIN=user-pin-4
TOK="pkcs11:token=sigtest"
export GNUTLS_SO_PIN=$SO GNUTLS_PIN=$PIN

lh_check token/initialize lh_p11tool --initialize "pkcs11:token=" --label=sigtest \
	--set-so-pin="$SO"
lh_check token/initialize-pin lh_p11tool --initialize-pin "$TOK" --set-pin="$PIN"

# gen NAME ARGS...: generate a key pair labelled NAME, public key to NAME.pub
gen () {
	local name=$1
	shift
	lh_check "generate/$name" lh_p11tool --login --generate-privkey "$@" \
		--label "$name" --outfile "$lh_tmp/$name.pub" "$TOK"
}

gen rsa rsa --bits 2048
gen ecdsa ecdsa --curve secp256r1
gen ecdsa384 ecdsa --curve secp384r1

lh_run lh_p11tool --login --generate-privkey ed25519 --label ed25519 \
	--outfile "$lh_tmp/ed25519.pub" "$TOK"
st=$?
if [ $st -eq 0 ]; then
	lh_ok generate/ed25519
else
	ver=$(p11tool --version 2>/dev/null | awk 'NR == 1 { print $2 }')
	case $ver in
	3.[0-7].*)
		if [ $st -lt 128 ] && grep -q 'unsupported feature' "$lh_out"; then
			lh_skip generate/ed25519 "GnuTLS $ver asks for CKM_EDDSA as the key-pair mechanism"
		else
			lh_not_ok generate/ed25519 "status $st" "$(cat "$lh_out")"
		fi ;;
	*)
		lh_not_ok generate/ed25519 "status $st" "$(cat "$lh_out")" ;;
	esac
	lh_check generate/ed25519-pkcs11-tool p11 --token-label sigtest --login --pin "$PIN" \
		--keypairgen --key-type EC:edwards25519 --label ed25519 --id ed
fi

# The private halves are sensitive and were never extractable.
lh_check list/privkeys lh_p11tool --login --list-privkeys "$TOK"
for k in rsa ecdsa ecdsa384 ed25519; do
	awk -v k="$k" '
		/^Object [0-9]+:/ { lab = "" }
		/^[[:space:]]*Label: / { lab = $0; sub(/^[[:space:]]*Label: /, "", lab) }
		/^[[:space:]]*Flags: / && lab == k && /CKA_SENSITIVE/ &&
			/CKA_NEVER_EXTRACTABLE/ { found = 1 }
		END { exit !found }' "$lh_out"
	lh_result "list/$k-sensitive" $? "$(cat "$lh_out")"
done

# test_sign NAME ARGS...: p11tool --test-sign must report all three steps.
test_sign () {
	local name=$1
	shift
	lh_check_output "test-sign/$name" 'Verifying against public key in the token\.\.\. ok' \
		lh_p11tool --login --test-sign "$@"
	grep -q 'Verifying against private key parameters... ok' "$lh_out" &&
		! grep -qiE 'failed|error' "$lh_out"
	lh_result "test-sign/$name-all-steps" $? "$(cat "$lh_out")"
}

test_sign rsa "$TOK;object=rsa;type=private"
test_sign rsa-sha512 --hash=SHA512 "$TOK;object=rsa;type=private"
test_sign rsa-pss --sign-params=RSA-PSS "$TOK;object=rsa;type=private"
test_sign ecdsa "$TOK;object=ecdsa;type=private"
test_sign ecdsa-sha384 --hash=SHA384 "$TOK;object=ecdsa;type=private"
test_sign ecdsa384 --hash=SHA384 "$TOK;object=ecdsa384;type=private"
test_sign ed25519 --hash=SHA512 "$TOK;object=ed25519;type=private"

# And the test can fail: a key generated for decryption only may not sign.
lh_check setup/decrypt-only-key lh_p11tool --login --generate-privkey ecdsa \
	--mark-decrypt --label nosign --outfile "$lh_tmp/nosign.pub" "$TOK"
if [ -z "$lh_asan_rt" ]; then
	lh_check_fails test-sign/refused-without-cka-sign \
		lh_p11tool --login --test-sign "$TOK;object=nosign;type=private"
else
	# Under the ASan runtime p11tool hangs in p11-kit's destructor when
	# it exits after a failed signature (SoftHSM2 too): ask pkcs11-tool.
	# (pkcs11-tool --sign finds its key by id only)
	echo data > "$lh_tmp/nosign.in"
	lh_run p11 --token-label sigtest --login --pin "$PIN" -O --type privkey
	id=$(awk '/^ *label: *nosign$/ { f = 1; next }
		f && /^ *ID:/ { print $2; exit }' "$lh_out")
	lh_check_fails test-sign/refused-without-cka-sign p11 --token-label sigtest \
		--login --pin "$PIN" --sign --id "${id:-00}" -m ECDSA-SHA256 \
		-i "$lh_tmp/nosign.in" -o "$lh_tmp/nosign.sig"
fi
grep -q CKR_KEY_FUNCTION_NOT_PERMITTED "$lh_out" || grep -q 'PKCS #11 error in key' "$lh_out"
lh_result test-sign/refused-rv $? "$(cat "$lh_out")"

lh_finish
