# ca-lib.sh - shared by the tests of litehsm ca (tests/tools/ca*.sh);
# sourced after lib.sh, never run on its own.  Gives:
#
#   ca_snap FILE [ARGS]: the token's objects and "ca list --json"
#   sensitive NAME LABEL KIND [MODULE TOKEN]: the private key LABEL is
#     sensitive and never extractable (pkcs11-tool) and its private
#     values answer CKR_ATTRIBUTE_SENSITIVE
#   free_port: a TCP port nobody listens on
#   wait_listen LOGFILE: wait (5 s) until an s_server logs ACCEPT
# (rawp11 and check are in lib.sh.)
#
# Needs $PIN (the user PIN), $TOK (token label) and $S (tool options).

lh_need openssl openssl
lh_need pkcs11-tool opensc
lh_need python3 python3

# ca_snap FILE [TOOL ARGS]: the token's objects (kind, label, id, as
# pkcs11-tool lists them: a C program, quicker than the Python client,
# which matters for the many refusals) and the CA's index.
ca_snap () {
	local f=$1
	shift
	{
		lh_client pkcs11-tool --module "${CA_MODULE:-$LH_MODULE}" \
			--token-label "$TOK" --login --pin "$PIN" --list-objects 2>&1 |
			grep -E '^[A-Z][a-z]+ [A-Za-z ]*[Oo]bject|label:|ID:' |
			sed 's/^Data object [0-9]*/Data object/'
		"$lt_tool" ca list --json ${*:-$S}
	} > "$f" 2>&1
}

sensitive () {
	local name=$1 label=$2 kind=$3 mod=${4:-$LH_MODULE} tok=${5:-$TOK} attrs
	lh_run lh_client pkcs11-tool --module "$mod" --token-label "$tok" --login \
		--pin "$PIN" --list-objects --type privkey
	awk -v want="$label" '
		/^Private Key Object/ { lab = "" }
		/^ *label: / { lab = $0; sub(/^ *label: +/, "", lab) }
		/^ *Access: / && lab == want { print; exit }' "$lh_out" > "$lh_tmp/access"
	grep -q 'sensitive' "$lh_tmp/access" && grep -q 'never extractable' "$lh_tmp/access" &&
		! grep -qE '(^|[:,] )extractable' "$lh_tmp/access"
	lh_result "$name/pkcs11-tool-sensitive" $? "pkcs11-tool shows:" "$(cat "$lh_out")"
	case $kind in
	rsa) attrs="0x123 0x124 0x125 0x126 0x127 0x128" ;;  # d, p, q, dP, dQ, qInv
	*) attrs="0x11" ;;                                  # CKA_VALUE
	esac
	rawp11 sens "$mod" "$tok" "$label" $attrs > "$lh_tmp/sens" 2>&1
	! grep -qv 'rv=0x11$' "$lh_tmp/sens" && [ -s "$lh_tmp/sens" ]
	lh_result "$name/value-sensitive" $? "want CKR_ATTRIBUTE_SENSITIVE (0x11):" \
		"$(cat "$lh_tmp/sens")"
}

free_port () {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_listen () {
	local i
	for i in $(seq 50); do
		grep -q ACCEPT "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# stop PID: end a server started with lh_spawn.
stop () {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# json EXPR: EXPR over the last stdout parsed as JSON (lt_py, never empty
# silently: "(none)" when there is no such value).
json () {
	local v
	v=$(lt_py "$1")
	printf '%s\n' "${v:-(none)}"
}
