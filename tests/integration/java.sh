#!/bin/bash
# java.sh - issue 6, Java: with a SunPKCS11 configuration naming the module
# and the token's slot, keytool -list -storetype PKCS11 shows the token's
# RSA and EC keys as PrivateKeyEntry with the certificates made for them
# (same SHA-256 fingerprints as the files written into the token), with
# both ways of naming the provider (-addprovider SunPKCS11, Java 9+, and
# -providerClass sun.security.pkcs11.SunPKCS11); a wrong PIN is refused.
# jarsigner signs a jar with each token key (-keystore NONE -storetype
# PKCS11): jarsigner -verify accepts it, OpenSSL verifies the signature
# block against the token's certificate, and a jar changed after signing
# is refused.
#
# The key pairs are made with pkcs11-tool, the certificates by the OpenSSL
# pkcs11 engine and written into the token with pkcs11-tool.  In the ASan
# build the JVM runs with the ASan runtime preloaded (lh_client) and with
# ASan's SIGSEGV handler off: the JVM uses SIGSEGV itself.
. "$(dirname "$0")/lib.sh"
lh_need java openjdk-17-jre-headless
lh_need keytool openjdk-17-jre-headless
lh_need jarsigner openjdk-17-jdk-headless
lh_need jar openjdk-17-jdk-headless
lh_need pkcs11-tool opensc
li_need_engine

TL=java
li_token $TL
li_cert $TL rsa "litehsm java rsa"
li_cert $TL ec "litehsm java ec"

slot=$(li_slot_id $TL)
lh_result config/slot-id "$([ -n "$slot" ]; echo $?)" "no slot holds token $TL:" \
	"$(p11 -L 2>&1)"
cfg=$lh_tmp/sunpkcs11.cfg
cat > "$cfg" <<EOF
name = litehsm
library = $LH_MODULE
slot = ${slot:-0}
EOF

# Small, quick JVMs: the machine running the tests may be busy.
jopts=(-J-XX:+UseSerialGC -J-XX:TieredStopAtLevel=1 -J-Xshare:auto)
# jtool PROGRAM ARGS...: keytool or jarsigner, loading the module.
jtool () {
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0:allow_user_segv_handler=1" \
		lh_client "$@" "${jopts[@]}"
}
p11args=(-storetype PKCS11 -addprovider SunPKCS11 -providerArg "$cfg")

# -- keytool --------------------------------------------------------------------
lh_check_output keytool/list 'Your keystore contains 2 entries' \
	jtool keytool -list -v "${p11args[@]}" -storepass "$PIN"
cp "$lh_out" "$lh_tmp/keytool.out"
grep -q '^Keystore provider: SunPKCS11-litehsm$' "$lh_tmp/keytool.out"
lh_result keytool/provider-sunpkcs11 $? "$(cat "$lh_tmp/keytool.out")"
# entry ALIAS FIELD: the value of FIELD in ALIAS's entry of keytool -list -v.
entry () {
	awk -v alias="$1" -v field="$2" '
		/^Alias name: / { a = $0; sub(/^Alias name: /, "", a) }
		{ line = $0; sub(/^[ \t]+/, "", line) }
		a == alias && index(line, field) == 1 {
			print substr(line, length(field) + 1); exit }' "$lh_tmp/keytool.out" |
	tr -d ' \t'
}
for k in rsa ec; do
	[ "$(entry $k 'Entry type:')" = PrivateKeyEntry ]
	lh_result "keytool/$k-private-key-entry" $? "$(cat "$lh_tmp/keytool.out")"
	want=$(openssl x509 -in "$lh_tmp/$k.pem" -noout -fingerprint -sha256 2>/dev/null |
		sed 's/^.*=//')
	got=$(entry $k 'SHA256:')
	[ -n "$want" ] && [ "$got" = "$want" ]
	lh_result "keytool/$k-certificate-is-token-certificate" $? \
		"keytool: '$got', certificate written: '$want'"
done
grep -q 'Subject Public Key Algorithm: 256-bit EC (secp256r1) key' "$lh_tmp/keytool.out"
lh_result keytool/ec-key-p256 $? "$(cat "$lh_tmp/keytool.out")"

lh_check_output keytool/list-provider-class '^rsa, PrivateKeyEntry' \
	jtool keytool -list -storetype PKCS11 -providerClass sun.security.pkcs11.SunPKCS11 \
	-providerArg "$cfg" -storepass "$PIN"
grep -q '^ec, PrivateKeyEntry' "$lh_out"
lh_result keytool/list-provider-class-ec $? "$(cat "$lh_out")"

# (-debug: keytool prints the exception's causes, down to the CKR_*)
lh_check_fails keytool/wrong-pin-refused \
	jtool keytool -list -debug "${p11args[@]}" -storepass wrong-pin
grep -q 'PKCS11Exception: CKR_PIN_INCORRECT' "$lh_out"
lh_result keytool/wrong-pin-reported $? "$(cat "$lh_out")"

# -- jarsigner ----------------------------------------------------------------------
mkdir -p "$lh_tmp/jar"
printf 'signed by a litehsm key\n' > "$lh_tmp/jar/hello.txt"
lh_check jar/create jar cf "$lh_tmp/t.jar" -C "$lh_tmp/jar" hello.txt
sigblock () { case $1 in rsa) echo RSA ;; ec) echo EC ;; esac; }
for k in rsa ec; do
	lh_check "jarsigner/$k-sign" jtool jarsigner -keystore NONE "${p11args[@]}" \
		-storepass "$PIN" -signedjar "$lh_tmp/$k.jar" "$lh_tmp/t.jar" $k
	lh_check_output "jarsigner/$k-verify" '^jar verified\.' \
		jarsigner -verify "$lh_tmp/$k.jar"
	# The PKCS#7 signature over META-INF/K.SF, checked by OpenSSL.
	b=$(sigblock $k)
	rm -rf "$lh_tmp/x-$k" && mkdir -p "$lh_tmp/x-$k"
	(cd "$lh_tmp/x-$k" && jar xf "$lh_tmp/$k.jar") > /dev/null 2>&1
	lh_check_output "jarsigner/$k-openssl-verifies" 'Verification successful' \
		openssl cms -verify -inform DER -in "$lh_tmp/x-$k/META-INF/$b.$b" \
		-content "$lh_tmp/x-$k/META-INF/$b.SF" -binary -purpose any \
		-CAfile "$lh_tmp/$k.pem" -out /dev/null
	# the same jar with hello.txt changed after signing
	cp "$lh_tmp/$k.jar" "$lh_tmp/$k-changed.jar"
	printf 'changed\n' > "$lh_tmp/x-$k/hello.txt"
	(cd "$lh_tmp/x-$k" && jar uf "$lh_tmp/$k-changed.jar" hello.txt) > /dev/null 2>&1
	lh_check_fails "jarsigner/$k-changed-jar-refused" \
		jarsigner -verify "$lh_tmp/$k-changed.jar"
	grep -q 'digest error for hello.txt' "$lh_out"
	lh_result "jarsigner/$k-changed-jar-digest-error" $? "$(cat "$lh_out")"
done

lh_finish
