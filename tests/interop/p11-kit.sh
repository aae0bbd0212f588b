#!/bin/bash
# p11-kit.sh - "make install" puts the module in $(libdir)/pkcs11/ and a
# litehsm.module file in p11-kit's module directory, the module exports only
# C_* symbols, and p11-kit finds the installed module with no path given:
# p11-kit list-modules shows litehsm and its token, and p11-kit's proxy
# module shows the token's objects to pkcs11-tool.  Last, p11-kit's RPC
# ("p11-kit server" + p11-kit-client.so) exports the token over a socket,
# as it would to another host or a container.
#
# The install goes to DESTDIR=$lh_tmp/inst, and p11-kit is pointed at it by
# a per-user module file, $HOME/.config/pkcs11/modules/litehsm.module, with
# HOME a temp dir - so nothing outside the temp dir is touched.  p11-kit
# ignores per-user config when run as root, so as root (CI) the p11-kit
# part runs as user nobody (setpriv) in a directory of its own.
. "$(dirname "$0")/lib.sh"
lh_need p11-kit p11-kit
lh_need pkcs11-tool opensc
lh_need make make

if [ -n "$lh_is_softhsm" ]; then
	lh_finished=1
	echo "1..0 # SKIP installs litehsm; not meaningful with LH_MODULE=SoftHSM2"
	exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
	lh_need setpriv util-linux
fi
if [ -z "${LH_BUILDDIR:-}" ] || [ ! -f "$LH_BUILDDIR/Makefile" ]; then
	lh_not_ok install/builddir "LH_BUILDDIR='${LH_BUILDDIR:-}' has no Makefile"
	lh_finish
fi

SO=so-secret-1
PIN=user-pin-1
inst=$lh_tmp/inst

# -- make install --
# Run as a separate make (not part of the make check running us).
lh_check install/make-install env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	make -C "$LH_BUILDDIR" install DESTDIR="$inst"

modfile=$(find "$inst" -path '*/p11-kit/modules/litehsm.module' 2>/dev/null | head -n 1)
lh_result install/module-file "$([ -f "$modfile" ]; echo $?)" \
	"no p11-kit/modules/litehsm.module under $inst:" "$(cd "$inst" 2>/dev/null && find . | head -n 40)"
so=$(find "$inst" -path '*/lib*/pkcs11/litehsm-pkcs11.so' 2>/dev/null | head -n 1)
lh_result install/module-so "$([ -f "$so" ]; echo $?)" \
	"no lib*/pkcs11/litehsm-pkcs11.so under $inst:" "$(cd "$inst" 2>/dev/null && find . | head -n 40)"

modline=$(sed -n 's/^module:[[:space:]]*//p' "${modfile:-/dev/null}" 2>/dev/null)
[ -n "$so" ] && [ "$inst$modline" = "$so" ]
lh_result install/module-file-names-so $? \
	"module: '$modline' but the .so was installed at '${so#"$inst"}'"

if [ ! -f "$so" ]; then
	lh_finish
fi
if command -v nm > /dev/null 2>&1; then
	extra=$(nm -D --defined-only "$so" | awk 'NF >= 3 { print $3 }' | grep -v '^C_')
	lh_result install/only-C-symbols-exported "$([ -z "$extra" ]; echo $?)" \
		"exported symbols other than C_*:" "$extra"
	nm -D --defined-only "$so" | awk '{ print $3 }' | grep -qx C_GetFunctionList
	lh_result install/C_GetFunctionList-exported $?
else
	lh_skip install/only-C-symbols-exported "nm not found (binutils)"
	lh_skip install/C_GetFunctionList-exported "nm not found (binutils)"
fi

# -- the p11-kit user: its own HOME, config and token directory --
kit=$lh_tmp/kit
mkdir -p "$kit/home/.config/pkcs11/modules"
cat > "$kit/litehsm.conf" <<EOF
token_dir = $kit/tokens
kdf_time_cost = 1
kdf_memory_kib = 64
EOF
# The installed module file, with the module path moved under DESTDIR.
sed "s|^module:.*|module: $so|" "$modfile" > "$kit/home/.config/pkcs11/modules/litehsm.module"
printf 'seen through p11-kit\n' > "$kit/obj.bin"
kit_env=(env -u XDG_CONFIG_HOME HOME="$kit/home" LITEHSM_CONF="$kit/litehsm.conf")
if [ "$(id -u)" -eq 0 ]; then
	chmod 711 "$lh_tmp"
	chown -R 65534:65534 "$kit"
	kit_env=(setpriv --reuid=65534 --regid=65534 --clear-groups "${kit_env[@]}")
fi
# kit CMD...: run a client as the p11-kit user.
kit () {
	lh_client "${kit_env[@]}" "$@"
}
# From here on pkcs11-tool (p11, lh_init_token) is that user's, on the
# installed module.
LH_MODULE=$so
p11 () {
	kit pkcs11-tool --module "$LH_MODULE" "$@"
}

lh_init_token kit "$SO" "$PIN"
lh_result token/init $?
lh_check token/write-object p11 --token-label kit --login --pin "$PIN" \
	--write-object "$kit/obj.bin" --type data --label kitobj

# The p11-kit command itself cannot run with a preloaded ASan runtime (on
# Debian 12 it deadlocks in p11-kit-trust.so's constructor and at exit, with
# or without our module), so an ASan build checks it in the plain build only.
if [ -n "$lh_asan_rt" ]; then
	kit_skip="the p11-kit command hangs under a preloaded ASan runtime; see the plain build"
else
	kit_skip=
fi

if [ -z "$kit_skip" ]; then
	lh_check_output p11-kit/list-modules-litehsm '^litehsm: ' kit p11-kit list-modules
	awk '/^[^ ]/ { m = ($1 == "litehsm:") } m && /^ *token: kit$/ { f = 1 } END { exit !f }' "$lh_out"
	lh_result p11-kit/list-modules-token $? "no 'token: kit' under litehsm:" "$(cat "$lh_out")"
	awk '/^[^ ]/ { m = ($1 == "litehsm:") } m && /^ *library-description: / { f = 1 } END { exit !f }' "$lh_out"
	lh_result p11-kit/list-modules-library-info $? "$(cat "$lh_out")"
else
	for t in list-modules-litehsm list-modules-token list-modules-library-info; do
		lh_skip "p11-kit/$t" "$kit_skip"
	done
fi

proxy=$(pkg-config --variable=proxy_module p11-kit-1 2>/dev/null)
[ -f "$proxy" ] || proxy=$(ls /usr/lib/*/p11-kit-proxy.so /usr/lib/p11-kit-proxy.so 2>/dev/null | head -n 1)
if [ -f "$proxy" ]; then
	lh_check_output p11-kit/proxy-lists-token '^ *token label *: kit$' \
		kit pkcs11-tool --module "$proxy" -L
	lh_check_output p11-kit/proxy-lists-objects "label: *'kitobj'" \
		kit pkcs11-tool --module "$proxy" --token-label kit --login --pin "$PIN" -O
	lh_check p11-kit/proxy-reads-object kit pkcs11-tool --module "$proxy" \
		--token-label kit --read-object --type data --label kitobj -o "$kit/proxy.out"
	cmp "$kit/obj.bin" "$kit/proxy.out" > /dev/null 2>&1
	lh_result p11-kit/proxy-same-bytes $?
else
	for t in proxy-lists-token proxy-lists-objects proxy-reads-object proxy-same-bytes; do
		lh_skip "p11-kit/$t" "p11-kit-proxy.so not found"
	done
fi

# p11-kit list-objects arrived in p11-kit 0.25; Debian 12 has 0.24.
if [ -n "$kit_skip" ]; then
	lh_skip p11-kit/list-objects "$kit_skip"
elif kit p11-kit list-objects --help > /dev/null 2>&1; then
	lh_check_output p11-kit/list-objects 'kitobj' kit p11-kit list-objects "pkcs11:token=kit"
else
	lh_skip p11-kit/list-objects "this p11-kit has no list-objects (added in 0.25)"
fi

# -- p11-kit RPC --
client=$(pkg-config --variable=p11_module_path p11-kit-1 2>/dev/null)/p11-kit-client.so
sock=$kit/p11-kit.sock
if [ -f "$client" ]; then
	lh_spawn "$lh_tmp/server.out" "${kit_env[@]}" p11-kit server -f -n "$sock" \
		--provider "$LH_MODULE" "pkcs11:token=kit"
	spid=$lh_last_pid
	for i in $(seq 100); do
		[ -S "$sock" ] && break
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.1
	done
	lh_result remote/server-started "$([ -S "$sock" ]; echo $?)" "$(cat "$lh_tmp/server.out")"
	remote () {
		kit env P11_KIT_SERVER_ADDRESS="unix:path=$sock" pkcs11-tool --module "$client" "$@"
	}
	lh_check_output remote/client-lists-token '^ *token label *: kit$' remote -L
	lh_check_output remote/client-lists-objects "label: *'kitobj'" \
		remote --token-label kit --login --pin "$PIN" -O
	lh_check remote/client-reads-object remote --token-label kit \
		--read-object --type data --label kitobj -o "$kit/remote.out"
	cmp "$kit/obj.bin" "$kit/remote.out" > /dev/null 2>&1
	lh_result remote/same-bytes $?
else
	lh_skip remote/server-started "p11-kit-client.so not found"
fi

lh_finish
