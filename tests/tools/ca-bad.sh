#!/bin/bash
# ca-bad.sh - every refusal of litehsm ca the issue lists (a CSR with a bad
# signature, a name that is neither a DNS name nor an IP address, such as
# 192.168.1.*, an unknown --oid field, a validity longer than the CA's, a
# missing or locked CA, a wrong PIN, an output directory that does not
# exist or is not writable) and the other bad options: each must exit with
# its code and exactly one stderr line naming the problem, write no file
# (no partial or temporary one either), and change nothing in the token:
# no key, no certificate, no index entry ("ca list --json" and every
# object, before and after).  Then --force replacing a CA, and a locked
# user PIN, last.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ca-lib.sh"

lh_litehsm_only "uses litehsm's configuration; ca-softhsm.sh covers SoftHSM2"

lt_pinfile so1 so-secret-cb1
lt_pinfile pin1 user-pin-cb1
printf 'wrong-pin-cb1\n' > "$lh_tmp/badpin"
PIN=user-pin-cb1
TOK=cb
S="--token $TOK --pin-file $lh_tmp/pin1"
d=$lh_tmp/o
e=$lh_tmp/empty
mkdir -p "$d" "$e" "$lh_tmp/short"

lt_ok setup/token token init --label $TOK --so-pin-file "$lh_tmp/so1" \
	--pin-file "$lh_tmp/pin1"
lt_ok setup/ca ca init --cn "Bad Input Root" --path "$d" $S
lt_ok setup/short-ca ca init --cn "Short CA" --days 30 --label short-ca \
	--path "$lh_tmp/short" $S
lt_ok setup/server ca server --common-name=ok.example.com --path "$d" $S
lt_ok setup/list ca list --json $S
serial=$(json "j['certificates'][0]['serial']")

# refusal NAME CODE TEXT ARGS...: lt_fails, then the token's objects, the
# index and the output directories (every file, hidden ones too, with its
# size) unchanged.
snap () {
	ca_snap "$1"
	find "$d" "$e" "$lh_tmp/ro" -printf '%p %s\n' 2>&1 | sort >> "$1"
}
refusal () {
	local name=$1
	snap "$lh_tmp/before"
	lt_fails "$@"
	snap "$lh_tmp/after"
	lt_same "$name-changes-nothing" "$lh_tmp/before" "$lh_tmp/after"
}

# ---- names and subjects ------------------------------------------------------------------

refusal names/ip-wildcard 2 'X.509 has no wildcard' \
	ca server '--common-name=myserver,192.168.1.*' --path "$d" --name w $S
lt_fails names/ip-wildcard-explains 2 'list each address' \
	ca server '--common-name=192.168.1.*' --path "$d" --name w $S
refusal names/not-a-name 2 'neither a DNS name nor an IP address' \
	ca server --common-name=my_server! --path "$d" --name w $S
refusal names/empty-item 2 'empty name' \
	ca server --common-name=a.example,,b.example --path "$d" --name w $S
refusal names/no-common-name 2 'no --common-name' ca server --path "$d" --name w $S
refusal names/bare-wildcard 2 'neither a DNS name' \
	ca server --common-name='*.com' --path "$d" --name w $S
refusal oid/unknown-field 2 'unknown field "XX" in --oid' \
	ca client --oid=C:DE,XX:foo --path "$d" --name w $S
refusal oid/empty-value 2 'the field CN in --oid is empty' \
	ca client --oid=CN: --path "$d" --name w $S
refusal oid/not-key-value 2 'is not KEY:VALUE' \
	ca client --oid=backup --path "$d" --name w $S
refusal oid/bad-country 2 'two-letter country code' \
	ca client --oid=C:Germany,CN:x --path "$d" --name w $S

# ---- validity, CA -------------------------------------------------------------------------

refusal days/beyond-ca 2 'would outlast the CA certificate' \
	ca server --common-name=x.example --ca short-ca --days 31 --path "$d" --name w $S
refusal days/default-beyond-ca 2 'would outlast the CA certificate' \
	ca client --ca short-ca --path "$d" --name w $S
refusal days/intermediate-beyond-parent 2 'would outlast the CA certificate' \
	ca init --cn Sub --intermediate --parent short-ca --label sub --days 40 \
	--path "$d" $S
refusal days/not-a-number 2 'not a whole number' \
	ca server --common-name=x.example --days 0 --path "$d" --name w $S
refusal ca/missing 4 'no CA "nope" in token' \
	ca server --common-name=x.example --ca nope --path "$d" --name w $S
refusal ca/missing-parent 4 'no CA "nope" in token' \
	ca init --cn Sub --intermediate --parent nope --label sub --path "$d" $S
refusal ca/exists 1 'already has a CA (or key) labelled "litehsm-ca"' \
	ca init --cn Again --path "$e" $S
refusal ca/intermediate-needs-parent 2 '--intermediate needs --parent' \
	ca init --cn Sub --intermediate --label sub --path "$d" $S
refusal ca/label-with-slash 2 'cannot be a CA label' \
	ca init --cn Sub --label a/b --path "$d" $S
refusal ca/no-cn 2 'no --cn given' ca init --label z --path "$d" $S
refusal ca/token-missing 4 'nope' \
	ca server --common-name=x.example --path "$d" --name w --token nope \
	--pin-file "$lh_tmp/pin1"

# ---- PIN ------------------------------------------------------------------------------------

refusal pin/wrong 3 'PIN is incorrect' \
	ca server --common-name=x.example --path "$d" --name w --token $TOK \
	--pin-file "$lh_tmp/badpin"
lt_ok pin/good-again ca list $S     # resets the failure count

# ---- output directory and files ------------------------------------------------------------

refusal dir/missing 2 "$lh_tmp/nodir does not exist" \
	ca server --common-name=x.example --path "$lh_tmp/nodir" $S
refusal dir/missing-init 2 'does not exist' \
	ca init --cn New --label new-ca --path "$lh_tmp/nodir" $S
refusal dir/missing-intermediate 2 'does not exist' \
	ca init --cn New --label new-ca --intermediate --parent litehsm-ca \
	--path "$lh_tmp/nodir" $S
: > "$lh_tmp/afile"
refusal dir/not-a-directory 2 'is not a directory' \
	ca client --path "$lh_tmp/afile" $S
mkdir -p "$lh_tmp/ro"
chmod 555 "$lh_tmp/ro"
if [ "$(id -u)" -ne 0 ]; then
	refusal dir/not-writable 2 'is not writable' \
		ca server --common-name=x.example --path "$lh_tmp/ro" $S
elif command -v setpriv > /dev/null 2>&1; then
	# root writes anywhere: run the tool without CAP_DAC_OVERRIDE
	printf '#!/bin/sh\nexec setpriv --bounding-set -dac_override,-dac_read_search "%s" "$@"\n' \
		"$lt_tool" > "$lh_tmp/tool-nodac"
	chmod 755 "$lh_tmp/tool-nodac"
	real_tool=$lt_tool
	lt_tool=$lh_tmp/tool-nodac
	refusal dir/not-writable 2 'is not writable' \
		ca server --common-name=x.example --path "$lh_tmp/ro" $S
	lt_tool=$real_tool
else
	lh_skip dir/not-writable "running as root without setpriv"
fi
md5=$(md5sum < "$d/server.pem")
refusal files/exists 1 'server.pem already exists' \
	ca server --common-name=y.example --path "$d" $S
check files/exists-untouched "$(md5sum < "$d/server.pem")" "$md5"
lt_ok files/crl ca crl --path "$d" $S
refusal files/exists-crl 1 'litehsm-ca.crl.pem already exists' ca crl --path "$d" $S
refusal files/bad-name 2 'cannot be a file name' \
	ca server --common-name=x.example --path "$d" --name a/b $S

# ---- keys and formats ----------------------------------------------------------------------------

refusal key/unknown-kind 2 'unknown key kind "dsa"' \
	ca client --key dsa --path "$d" --name w $S
refusal key/in-token-no-files 2 'no key file (pk8, pk8-pem, pfx) can be written' \
	ca client --key-in-token --format pem,pfx --path "$d" --name w $S
refusal key/unknown-format 2 'unknown --format "zip"' \
	ca client --format pem,zip --path "$d" --name w $S
refusal key/label-needs-token 2 '--label names a key in the token' \
	ca client --label k --path "$d" --name w $S
refusal key/pass-without-pfx 2 'without a pfx file' \
	ca client --pfx-pass-file "$lh_tmp/pin1" --path "$d" --name w $S
refusal key/token-label-exists 1 'a key labelled "litehsm-ca" already exists' \
	ca server --common-name=x.example --key-in-token --label litehsm-ca \
	--path "$d" --name w $S

# ---- certificate requests ---------------------------------------------------------------------

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$lh_tmp/r.key" -subj '/CN=r.example.com' -outform DER \
	-out "$lh_tmp/r.der" > /dev/null 2>&1
# flip a bit of the signature (the last bytes of the DER)
python3 -c "
import sys
d = bytearray(open(sys.argv[1], 'rb').read()); d[-3] ^= 1
open(sys.argv[2], 'wb').write(d)" "$lh_tmp/r.der" "$lh_tmp/bad.der"
refusal csr/bad-signature 2 'the signature of the certificate request' \
	ca sign --csr "$lh_tmp/bad.der" --profile server --path "$d" --name w $S
refusal csr/not-a-request 2 'is not a certificate request' \
	ca sign --csr "$d/server.pem" --profile server --path "$d" --name w $S
refusal csr/missing 2 'cannot read the certificate request' \
	ca sign --csr "$lh_tmp/none.csr" --profile server --path "$d" --name w $S
refusal csr/no-profile 2 'no --profile given' \
	ca sign --csr "$lh_tmp/r.der" --path "$d" --name w $S
refusal csr/bad-profile 2 'unknown --profile "ca"' \
	ca sign --csr "$lh_tmp/r.der" --profile ca --path "$d" --name w $S

# ---- index: revoke, renew ------------------------------------------------------------------------

refusal index/revoke-not-serial 2 'is not a serial number' ca revoke xyz $S
refusal index/revoke-unknown 4 'no certificate with serial 0ABC' ca revoke abc $S
refusal index/renew-unknown 4 'no certificate with serial' \
	ca renew 1234 --path "$d" $S
refusal index/bad-reason 2 'unknown revocation reason "stolen"' \
	ca revoke "$serial" --reason stolen $S
lt_ok index/revoke ca revoke "$serial" --reason superseded $S
refusal index/revoke-twice 1 'is already revoked' ca revoke "$serial" $S
refusal index/renew-revoked 1 "certificate $serial is revoked" \
	ca renew "$serial" --path "$d" --force $S

# nothing left behind by any of the refusals
find "$lh_tmp" -path "$lh_tmp/tokens" -prune -o -name '.*' -type f -print > "$lh_tmp/tmpfiles"
[ ! -s "$lh_tmp/tmpfiles" ]
lh_result files/no-temporaries $? "$(cat "$lh_tmp/tmpfiles")"
[ ! -e "$d/w.pem" ] && [ ! -e "$d/w.key" ]
lh_result files/none-written $? "$(ls -la "$d")"

# ---- --force replaces a CA, its index and its key ---------------------------------------------

mkdir -p "$lh_tmp/new"
lt_ok force/short-ca-issues ca server --common-name=s.example --ca short-ca --days 10 \
	--path "$lh_tmp/new" $S
lt_ok force/replace ca init --cn "Short CA 2" --label short-ca --force --path "$lh_tmp/new" $S
lt_ok force/index-cleared ca list --ca short-ca --json $S
check force/index-empty "$(json "(j['subject'], len(j['certificates']))")" "('CN=Short CA 2', 0)"
rawp11 objs "$LH_MODULE" $TOK > "$lh_tmp/objs" 2>&1
check force/one-key "$(grep -c '^3 short-ca ' "$lh_tmp/objs")" 1
check force/one-cert "$(grep -c '^1 short-ca ' "$lh_tmp/objs")" 1
check force/no-temporary-label "$(grep -c '~new' "$lh_tmp/objs")" 0
lh_check_output force/new-cert-written ': OK$' \
	openssl verify -CAfile "$lh_tmp/new/rootCA.pem" "$lh_tmp/new/rootCA.pem"

# ---- a locked PIN, last --------------------------------------------------------------------------

for i in 1 2 3; do
	lt ca list --token $TOK --pin-file "$lh_tmp/badpin"
done
lt_fails pin/locked 3 'locked' ca server --common-name=x.example --path "$d" \
	--name w $S
[ ! -e "$d/w.pem" ] && [ ! -e "$d/w.key" ]
lh_result pin/locked-no-files $? "$(ls -la "$d")"

lh_finish
