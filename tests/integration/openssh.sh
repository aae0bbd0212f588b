#!/bin/bash
# openssh.sh - issue 6, OpenSSH: ssh-keygen -D lists the token's RSA and EC
# public keys in authorized_keys form, and they are the keys made in the
# token (pkcs11-tool --keypairgen, exported and converted with ssh-keygen
# -i); a private ssh-agent loads them with ssh-add -s (the PIN comes from
# an SSH_ASKPASS program, as a script would give it; a wrong PIN is
# refused), ssh-add -l/-L list them, a signature made through the agent
# (ssh-keygen -Y sign -U) verifies with ssh-keygen -Y verify and fails on
# other data, and ssh-add -e unloads them.
#
# ssh-agent is set-group-id on Debian, so the dynamic linker drops
# LD_PRELOAD from its environment and its ssh-pkcs11-helper (the process
# that loads the module) would start without the ASan runtime: in the ASan
# build SSH_PKCS11_HELPER names a wrapper that preloads it.
. "$(dirname "$0")/lib.sh"
lh_need ssh-keygen openssh-client
lh_need ssh-agent openssh-client
lh_need ssh-add openssh-client
lh_need pkcs11-tool opensc
lh_need openssl openssl

TL=ssh
li_token $TL

# -- the keys the token holds, in OpenSSH form ------------------------------
for k in rsa ec; do
	li_pub_pem $TL $k "$lh_tmp/$k.pub.pem" &&
		ssh-keygen -i -m PKCS8 -f "$lh_tmp/$k.pub.pem" > "$lh_tmp/$k.pub" 2> "$lh_out"
	lh_result "token/$k-public-key" $? "$(cat "$lh_out")"
done
# has_key FILE KEY: FILE has a line with KEY's type and base64 blob.
has_key () {
	local want
	want=$(awk '{ print $1, $2; exit }' "$lh_tmp/$2.pub")
	[ -n "$want" ] && awk '{ print $1, $2 }' "$1" | grep -qxF "$want"
}

# -- ssh-keygen -D -----------------------------------------------------------
lh_check_output keygen-D/lists-keys '^ssh-rsa AAAA' lh_client ssh-keygen -D "$LH_MODULE"
cp "$lh_out" "$lh_tmp/keygen-D.out"
has_key "$lh_tmp/keygen-D.out" rsa
lh_result keygen-D/rsa-is-token-key $? "$(cat "$lh_tmp/keygen-D.out")"
has_key "$lh_tmp/keygen-D.out" ec
lh_result keygen-D/ec-is-token-key $? "$(cat "$lh_tmp/keygen-D.out")"
n=$(grep -cE '^(ssh-|ecdsa-)' "$lh_tmp/keygen-D.out")
lh_result keygen-D/two-keys "$([ "$n" = 2 ]; echo $?)" "expected 2 keys, got $n:" \
	"$(cat "$lh_tmp/keygen-D.out")"

# -- ssh-agent ----------------------------------------------------------------
sock=$lh_tmp/agent.sock
moddir=$(dirname "$(readlink -f "$LH_MODULE")")
if [ -n "$lh_asan_rt" ]; then
	helper=
	for f in /usr/lib/openssh/ssh-pkcs11-helper /usr/libexec/openssh/ssh-pkcs11-helper \
		/usr/libexec/ssh-pkcs11-helper; do
		[ -x "$f" ] && { helper=$f; break; }
	done
	cat > "$lh_tmp/pkcs11-helper" <<EOF
#!/bin/sh
LD_PRELOAD='$lh_asan_rt' ASAN_OPTIONS='${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0:halt_on_error=0' exec '${helper:-/usr/lib/openssh/ssh-pkcs11-helper}' "\$@"
EOF
	chmod 755 "$lh_tmp/pkcs11-helper"
	export SSH_PKCS11_HELPER=$lh_tmp/pkcs11-helper
fi
# -P: the agent loads PKCS#11 modules from this directory only.
lh_spawn "$lh_tmp/agent.out" ssh-agent -D -a "$sock" -P "$moddir/*"
agent=$lh_last_pid
li_wait_socket "$sock" "$agent"
lh_result agent/started $? "$(cat "$lh_tmp/agent.out")"
export SSH_AUTH_SOCK=$sock

# The PIN, as ssh-add asks for it: SSH_ASKPASS_REQUIRE=force makes ssh-add
# run the askpass program even without a terminal.
printf '%s\n' "$PIN" > "$lh_tmp/pin"
printf 'wrong-pin\n' > "$lh_tmp/badpin"
chmod 600 "$lh_tmp/pin" "$lh_tmp/badpin"
for f in pin badpin; do
	printf '#!/bin/sh\nexec cat "%s"\n' "$lh_tmp/$f" > "$lh_tmp/askpass-$f"
	chmod 700 "$lh_tmp/askpass-$f"
done
# add PINFILE ARGS...: ssh-add with the PIN of PINFILE.
add () {
	local f=$1
	shift
	SSH_ASKPASS=$lh_tmp/askpass-$f SSH_ASKPASS_REQUIRE=force DISPLAY=:0 \
		lh_client ssh-add "$@"
}

lh_check_fails agent/wrong-pin-refused add badpin -s "$LH_MODULE"
lh_check_output agent/no-keys-after-wrong-pin 'no identities' \
	sh -c 'ssh-add -l; [ $? -eq 1 ]'
lh_check agent/add-token add pin -s "$LH_MODULE"
lh_check_output agent/list '^2048 SHA256:.* rsa \(RSA\)$' ssh-add -l
grep -qE '^256 SHA256:.* ec \(ECDSA\)$' "$lh_out"
lh_result agent/list-ec $? "$(cat "$lh_out")"
lh_check agent/list-public ssh-add -L
cp "$lh_out" "$lh_tmp/agent-L.out"
has_key "$lh_tmp/agent-L.out" rsa
lh_result agent/rsa-is-token-key $? "$(cat "$lh_tmp/agent-L.out")"
has_key "$lh_tmp/agent-L.out" ec
lh_result agent/ec-is-token-key $? "$(cat "$lh_tmp/agent-L.out")"

# -- a signature through the agent -----------------------------------------------
head -c 2000 /dev/urandom > "$lh_tmp/data"
head -c 2000 /dev/urandom > "$lh_tmp/other"
# verify KEY DATA: ssh-keygen -Y verify of $lh_tmp/KEY.sig over DATA.
verify () {
	ssh-keygen -Y verify -f "$lh_tmp/allowed-$1" -I tester@litehsm.test \
		-n file -s "$lh_tmp/$1.sig" < "$2"
}
# verify_fails KEY DATA: as verify; ssh-keygen's 255 for "no" becomes 1, so
# that lh_check_fails does not take it for a crash.
verify_fails () {
	local st
	verify "$@"
	st=$?
	[ $st -eq 255 ] && return 1
	return $st
}
for k in rsa ec; do
	printf 'tester@litehsm.test %s\n' "$(awk '{ print $1, $2 }' "$lh_tmp/$k.pub")" \
		> "$lh_tmp/allowed-$k"
	cp "$lh_tmp/data" "$lh_tmp/$k"
	# -U: the private key is in the agent; -f names its public key
	lh_check "sign/$k-through-agent" lh_client ssh-keygen -Y sign -U \
		-f "$lh_tmp/$k.pub" -n file "$lh_tmp/$k"
	lh_check_output "sign/$k-verifies" '^Good "file" signature for tester@litehsm.test' \
		verify $k "$lh_tmp/data"
	lh_check_fails "sign/$k-other-data-refused" verify_fails $k "$lh_tmp/other"
	grep -q 'incorrect signature' "$lh_out"
	lh_result "sign/$k-other-data-incorrect" $? "$(cat "$lh_out")"
done

# -- unload -----------------------------------------------------------------------
lh_check agent/remove-token ssh-add -e "$LH_MODULE"
lh_check_output agent/no-keys-after-remove 'no identities' \
	sh -c 'ssh-add -l; [ $? -eq 1 ]'

li_stop "$agent"
! lh_sanitizer_ours "$lh_tmp/agent.out"
lh_result agent/no-sanitizer-report $? "$(cat "$lh_tmp/agent.out")"

lh_finish
