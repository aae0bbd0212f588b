# p11.py - a raw PKCS#11 client (Python ctypes) for what no packaged tool
# shows, used by the tests of the litehsm command through rawp11
# (tests/tools/lib.sh):
#   p11.py objs MODULE TOKEN PIN             every object of the token:
#                                            "class label id-hex"
#   p11.py sens MODULE TOKEN PIN LABEL T...  C_GetAttributeValue of each
#                                            attribute type T on the private
#                                            key LABEL: "T rv=0x.."
# Logs in as the user with PIN.
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
