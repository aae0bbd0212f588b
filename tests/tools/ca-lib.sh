# ca-lib.sh - shared by the tests of litehsm ca (tests/tools/ca*.sh);
# sourced after lib.sh, never run on its own.  Gives:
#
#   $lh_tmp/p11.py, run through rawp11 MODE MODULE TOKEN ARGS: a raw
#   PKCS#11 client (Python ctypes) for what no packaged tool shows:
#     objs                every object of the token: "class label id-hex"
#     sens LABEL TYPE...  C_GetAttributeValue of each attribute TYPE on
#                         the private key LABEL: "TYPE rv=0x.."
#   ca_snap FILE [ARGS]: the token's objects and "ca list --json"
#   check NAME GOT WANT
#   sensitive NAME LABEL KIND [MODULE TOKEN]: the private key LABEL is
#     sensitive and never extractable (pkcs11-tool) and its private
#     values answer CKR_ATTRIBUTE_SENSITIVE
#   free_port: a TCP port nobody listens on
#   wait_listen LOGFILE: wait (5 s) until an s_server logs ACCEPT
#
# Needs $PIN (the user PIN), $TOK (token label) and $S (tool options).

cat > "$lh_tmp/p11.py" <<'EOF'
import ctypes as C, sys
UL = C.c_ulong
class A(C.Structure):
    _fields_ = [("type", UL), ("p", C.c_void_p), ("n", UL)]
mode, mod, token, pin = sys.argv[1:5]
L = C.CDLL(mod)
def ck(name, *a):
    f = getattr(L, name)
    f.restype = UL
    return f(*a)
def must(name, *a):
    rv = ck(name, *a)
    if rv:
        sys.exit("%s: rv=0x%x" % (name, rv))
must("C_Initialize", None)
n = UL(0)
must("C_GetSlotList", C.c_ubyte(1), None, C.byref(n))
slots = (UL * n.value)()
must("C_GetSlotList", C.c_ubyte(1), slots, C.byref(n))
slot = None
for s in slots[:n.value]:
    ti = C.create_string_buffer(1024)
    if ck("C_GetTokenInfo", UL(s), ti) == 0 and \
       ti.raw[:32].decode(errors="replace").rstrip() == token:
        slot = s
if slot is None:
    sys.exit("no token " + token)
h = UL(0)
must("C_OpenSession", UL(slot), UL(6), None, None, C.byref(h))
must("C_Login", h, UL(1), pin.encode(), UL(len(pin)))
def find(tmpl):
    arr = (A * len(tmpl))(*tmpl)
    must("C_FindObjectsInit", h, arr, UL(len(tmpl)))
    out, o, cnt = [], UL(0), UL(0)
    while True:
        must("C_FindObjects", h, C.byref(o), UL(1), C.byref(cnt))
        if cnt.value == 0:
            break
        out.append(o.value)
    must("C_FindObjectsFinal", h)
    return out
def get(o, t):
    a = A(t, None, 0)
    if ck("C_GetAttributeValue", h, UL(o), C.byref(a), UL(1)) or a.n >= 2**63:
        return b""
    buf = C.create_string_buffer(max(a.n, 1))
    a.p = C.cast(buf, C.c_void_p)
    if ck("C_GetAttributeValue", h, UL(o), C.byref(a), UL(1)):
        return b""
    return buf.raw[:a.n]
if mode == "objs":
    print("\n".join(sorted("%d %s %s" % (int.from_bytes(get(o, 0) or b"\0", "little"),
                                         get(o, 3).decode(errors="replace"),
                                         get(o, 0x102).hex()) for o in find([]))))
else:
    label = sys.argv[5].encode()
    cls = UL(3)
    lb = C.create_string_buffer(label, len(label))
    keys = find([A(0, C.cast(C.byref(cls), C.c_void_p), C.sizeof(cls)),
                 A(3, C.cast(lb, C.c_void_p), len(label))])
    if len(keys) != 1:
        sys.exit("%d private keys labelled %s" % (len(keys), sys.argv[5]))
    for t in sys.argv[6:]:
        a = A(int(t, 0), None, 0)
        rv = ck("C_GetAttributeValue", h, UL(keys[0]), C.byref(a), UL(1))
        print("%s rv=0x%x" % (t, rv))
ck("C_Logout", h)
ck("C_Finalize", None)
EOF

rawp11 () {
	local mode=$1 mod=$2 tok=$3
	shift 3
	lh_client python3 "$lh_tmp/p11.py" "$mode" "$mod" "$tok" "$PIN" "$@"
}

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

check () {
	if [ "$2" = "$3" ]; then
		lh_ok "$1"
	else
		lh_not_ok "$1" "got '$2', want '$3'"
	fi
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
