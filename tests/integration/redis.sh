#!/bin/bash
# redis.sh - issue 6, Redis: seed 001's Redis master key, with the master
# key in the token.  The token (made with pkcs11-tool --init-token and
# --init-pin) holds redis-master-key, an AES-256 key that only wraps,
# unwraps and derives (litehsm secret generate --wrapping), and a token
# key (an extractable AES-256 key, as the seed's dynamic token encryption
# key).  A private redis-server (127.0.0.1, a free port, no persistence,
# stopped by its PID) keeps what the application would keep there:
#   - the token key wrapped under redis-master-key (litehsm secret wrap
#     --base64), stored with redis-cli SET; another process reads it with
#     redis-cli GET, unwraps it into the token as token-key-2 (litehsm
#     secret unwrap --aes --base64) and decrypts with it what the first
#     process encrypted under token-key (pkcs11-tool, AES-CBC-PAD), and the
#     reverse;
#   - access-key data sealed with litehsm secret encrypt --with
#     redis-master-key, opened by another process with secret decrypt.
# Refused: a changed wrapped key or sealed blob, another wrapping key; a
# third AES key does not decrypt the data.  No plaintext (raw or base64)
# and no PIN is anywhere in Redis: every value, and a dump of the whole
# database (redis-cli --rdb, uncompressed), are searched for them.
#
# secret encrypt/decrypt derive a one-message key from KEY, which needs
# the derive usage: they cannot use an AES key such as token-key-2, hence
# pkcs11-tool for the data encrypted under the token key.
. "$(dirname "$0")/lib.sh"
lh_need redis-server redis-server
lh_need redis-cli redis-tools
lh_need pkcs11-tool opensc
lh_need base64 coreutils

lt_tool=${LH_BUILDDIR:-.}/tools/litehsm
if [ ! -x "$lt_tool" ]; then
	lh_not_ok tool "$lt_tool is not built (run through make check)"
	lh_finish
fi
LITEHSM_MODULE=$LH_MODULE
export LITEHSM_MODULE

TL=redis
MK=redis-master-key
TOKEN_TEXT="token 7f3a: user=alice; expires=2030-01-01; the dynamic token key protects me"
ACCESS_TEXT="access key AK-litehsm-demo secret=wJalrXUtnFEMI-K7MDENG-bPxRfiCY"
IV=000102030405060708090a0b0c0d0e0f
umask 077
printf '%s\n' "$PIN" > "$lh_tmp/pin"

# lhs ARGS...: the litehsm tool on the token, detached from any terminal.
lhs () {
	timeout -k 5 "${LH_TIMEOUT:-120}" setsid -w "$lt_tool" --token $TL \
		--pin-file "$lh_tmp/pin" "$@"
}

# key_id LABEL: the CKA_ID (hex) of the secret key labelled LABEL.
key_id () {
	p11 --token-label $TL --login --pin "$PIN" -O --type secrkey 2> /dev/null |
		awk -v want="$1" '
			/^ *label:/ { lab = $0; sub(/^ *label: */, "", lab) }
			/^ *ID:/ && lab == want { print $2; exit }'
}

# access LABEL: the "Access:" line of the secret key labelled LABEL.
access () {
	p11 --token-label $TL --login --pin "$PIN" -O --type secrkey 2> /dev/null |
		awk -v want="$1" '
			/^ *label:/ { lab = $0; sub(/^ *label: */, "", lab) }
			/^ *Access:/ && lab == want { print; exit }'
}

# aes DIRECTION LABEL IN OUT: pkcs11-tool AES-CBC-PAD (encrypt or decrypt)
# with the secret key labelled LABEL (pkcs11-tool finds secret keys by id).
aes () {
	local id
	id=$(key_id "$2")
	[ -n "$id" ] || { echo "no secret key labelled $2"; return 1; }
	p11 --token-label $TL --login --pin "$PIN" "--$1" --mechanism AES-CBC-PAD \
		--iv $IV --id "$id" --input-file "$3" --output-file "$4"
}

lh_init_token $TL "$SO" "$PIN"
lh_result token/init-with-pkcs11-tool $?

# -- the keys --------------------------------------------------------------------------
lh_check keys/master-generate lhs secret generate $MK --wrapping --bits 256
lh_check keys/token-key-generate lhs secret generate token-key --aes --bits 256 --extractable
a=$(access $MK)
case $a in *"never extractable"*) st=0 ;; *) st=1 ;; esac
lh_result keys/master-never-extractable $st "$a"
a=$(access token-key)
case $a in *"sensitive"*", extractable"*) st=0 ;; *) st=1 ;; esac
lh_result keys/token-key-sensitive-extractable $st "$a"

# -- Redis --------------------------------------------------------------------------------
rd=$lh_tmp/redis
mkdir -p "$rd"
port=$(li_free_port)
# Not lh_spawn: the server does not load the module, so no ASan preload.
(cd "$rd" && exec redis-server --bind 127.0.0.1 --port "$port" --save '' \
	--appendonly no --dir "$rd" --rdbcompression no --daemonize no \
	--protected-mode yes --logfile '') > "$lh_tmp/redis.log" 2>&1 < /dev/null &
redis_pid=$!
lh_pids="$lh_pids $redis_pid"
li_wait_port "$port" "$redis_pid"
st=$?
lh_result redis/started $st "$(cat "$lh_tmp/redis.log")"
[ $st -eq 0 ] || lh_finish

# rc ARGS...: redis-cli on the private server.
rc () {
	timeout -k 5 30 redis-cli -h 127.0.0.1 -p "$port" "$@"
}
lh_check_output redis/ping '^PONG$' rc PING

# -- process 1: wrap the token key, encrypt with it, seal the access key, store --------------
printf '%s' "$TOKEN_TEXT" > "$lh_tmp/token.txt"
printf '%s' "$ACCESS_TEXT" > "$lh_tmp/access.txt"
store_wrapped () {
	local blob
	blob=$(lhs secret wrap token-key --with $MK --base64) || return 1
	printf '%s\n' "$blob" > "$lh_tmp/wrapped.b64"
	rc SET aspera:token-key "$blob" | grep -qx OK
}
lh_check store/wrapped-token-key store_wrapped
lh_result store/wrapped-is-40-bytes \
	"$([ "$(base64 -d "$lh_tmp/wrapped.b64" 2> /dev/null | wc -c)" = 40 ]; echo $?)" \
	"RFC 5649 wrap of a 32-byte key is 40 bytes: $(cat "$lh_tmp/wrapped.b64")"
store_encrypted () {
	aes encrypt token-key "$lh_tmp/token.txt" "$lh_tmp/token.enc" || return 1
	rc SET aspera:token:ciphertext "$(base64 -w0 < "$lh_tmp/token.enc")" | grep -qx OK &&
	rc SET aspera:token:iv $IV | grep -qx OK
}
lh_check store/data-encrypted-under-token-key store_encrypted
store_sealed () {
	lhs secret encrypt --with $MK < "$lh_tmp/access.txt" > "$lh_tmp/access.bin" || return 1
	rc SET aspera:access-key "$(base64 -w0 < "$lh_tmp/access.bin")" | grep -qx OK
}
lh_check store/access-key-sealed store_sealed

# -- process 2: read back, unwrap, decrypt ------------------------------------------------------
unwrap_from_redis () {
	rc --raw GET aspera:token-key | lhs secret unwrap --with $MK --as "$1" --aes --base64
}
lh_check read/unwrap-token-key unwrap_from_redis token-key-2
a=$(access token-key-2)
case $a in *"sensitive"*) case $a in *", extractable"*) st=1 ;; *) st=0 ;; esac ;; *) st=1 ;; esac
lh_result read/unwrapped-sensitive-not-extractable $st "$a"
decrypt_from_redis () {
	rc --raw GET aspera:token:ciphertext | base64 -d > "$lh_tmp/token.enc2" &&
	aes decrypt "$1" "$lh_tmp/token.enc2" "$lh_tmp/token.dec"
}
lh_check read/decrypt-with-unwrapped-key decrypt_from_redis token-key-2
cmp -s "$lh_tmp/token.txt" "$lh_tmp/token.dec"
lh_result read/same-plaintext $? "got: $(cat "$lh_tmp/token.dec" 2>&1)"
# the reverse: token-key-2 encrypts, token-key decrypts
lh_check read/encrypt-with-unwrapped-key aes encrypt token-key-2 "$lh_tmp/token.txt" \
	"$lh_tmp/reverse.enc"
lh_check read/decrypt-with-original-key aes decrypt token-key "$lh_tmp/reverse.enc" \
	"$lh_tmp/reverse.dec"
cmp -s "$lh_tmp/token.txt" "$lh_tmp/reverse.dec"
lh_result read/reverse-same-plaintext $? "got: $(cat "$lh_tmp/reverse.dec" 2>&1)"
open_from_redis () {
	rc --raw GET aspera:access-key | base64 -d | lhs secret decrypt --with $MK
}
lh_check_output read/access-key-opened "^$ACCESS_TEXT\$" open_from_redis

# -- refusals -----------------------------------------------------------------------------------
lh_check keys/other-aes-generate lhs secret generate other-key --aes --bits 256
if aes decrypt other-key "$lh_tmp/token.enc" "$lh_tmp/other.dec" > "$lh_out" 2>&1; then
	! cmp -s "$lh_tmp/token.txt" "$lh_tmp/other.dec"
	lh_result refused/other-key-no-plaintext $? "another AES key decrypted the data"
else
	lh_ok refused/other-key-no-plaintext
fi
# change one byte of the wrapped key and of the sealed blob, in Redis
base64 -d "$lh_tmp/wrapped.b64" > "$lh_tmp/bad-wrapped" 2> /dev/null
lh_flip_byte "$lh_tmp/bad-wrapped" 20
rc SET aspera:bad-token-key "$(base64 -w0 < "$lh_tmp/bad-wrapped")" > /dev/null
cp "$lh_tmp/access.bin" "$lh_tmp/bad-access"
lh_flip_byte "$lh_tmp/bad-access" 40
rc SET aspera:bad-access-key "$(base64 -w0 < "$lh_tmp/bad-access")" > /dev/null
unwrap_bad () {
	rc --raw GET aspera:bad-token-key | lhs secret unwrap --with $MK --as token-key-3 --aes --base64
}
lh_check_fails refused/changed-wrapped-key unwrap_bad
[ -z "$(key_id token-key-3)" ]
lh_result refused/changed-wrapped-key-no-object $? "token-key-3 exists"
open_bad () {
	rc --raw GET aspera:bad-access-key | base64 -d |
		lhs secret decrypt --with $MK > "$lh_tmp/bad-access.out"
}
lh_check_fails refused/changed-sealed-blob open_bad
[ ! -s "$lh_tmp/bad-access.out" ]
lh_result refused/changed-sealed-blob-nothing-written $? "$(cat "$lh_tmp/bad-access.out")"
lh_check keys/other-master-generate lhs secret generate other-master --wrapping --bits 256
unwrap_other () {
	rc --raw GET aspera:token-key | lhs secret unwrap --with other-master --as token-key-4 --aes --base64
}
lh_check_fails refused/other-wrapping-key unwrap_other
open_other () {
	rc --raw GET aspera:access-key | base64 -d | lhs secret decrypt --with other-master
}
lh_check_fails refused/other-master-cannot-open open_other

# -- nothing in clear in Redis --------------------------------------------------------------------
# needles: each plaintext and PIN, and their base64 at each of the three
# alignments (the characters that come from whole 3-byte groups of the
# string only), so that base64 inside a longer value is found too
needles=$lh_tmp/needles
: > "$needles"
for s in "$TOKEN_TEXT" "$ACCESS_TEXT" "$PIN"; do
	printf '%s\n' "$s" >> "$needles"
	for k in 0 1 2; do
		g1=$(( (k + 2) / 3 ))               # first group that is all s
		g2=$(( (k + ${#s}) / 3 ))           # one past the last one
		[ $g2 -gt $((g1 + 6)) ] && g2=$((g1 + 6))
		printf '%*s%s' $k "" "$s" | base64 -w0 |
			cut -c$((4 * g1 + 1))-$((4 * g2)) >> "$needles"
	done
done
all_values () {
	local k
	rc --scan | sort > "$lh_tmp/keys" || return 1
	while read -r k; do
		printf '%s = ' "$k"
		rc --raw GET "$k"
	done < "$lh_tmp/keys"
}
lh_check redis/read-every-value all_values
cp "$lh_out" "$lh_tmp/values"
n=$(wc -l < "$lh_tmp/keys")
lh_result redis/holds-the-values "$([ "$n" = 6 ]; echo $?)" "want 6 keys, got $n:" \
	"$(cat "$lh_tmp/values")"
! grep -aoF -f "$needles" "$lh_tmp/values" > "$lh_tmp/found"
lh_result redis/no-plaintext-in-values $? "found in Redis:" "$(cat "$lh_tmp/found")"
lh_check redis/dump rc --rdb "$rd/dump.rdb"
grep -aqF "$(head -n 1 "$lh_tmp/wrapped.b64")" "$rd/dump.rdb"
lh_result redis/dump-readable $? "the stored wrapped key is not in the dump as written"
! grep -aoF -f "$needles" "$rd/dump.rdb" > "$lh_tmp/found"
lh_result redis/no-plaintext-in-dump $? "found in the dump:" "$(cat "$lh_tmp/found")"

# -- stop -----------------------------------------------------------------------------------------
li_stop "$redis_pid"
! kill -0 "$redis_pid" 2> /dev/null
lh_result redis/stopped $?

lh_finish
