#!/bin/bash
# install.sh - "make install" gives the ecosystem what it looks for besides
# the module itself (p11-kit.sh checks the module, its litehsm.module file
# and that p11-kit finds them):
#   - litehsm.pc, whose "module" variable names the installed module and
#     whose other variables name the installed module file and directories;
#   - the man pages litehsm(1), litehsm.conf(5) and litehsm-pkcs11(8), which
#     render without a groff warning and which man(1) finds by name;
#   - the examples in $(docdir)/examples: litehsm.conf.example, and
#     openssl-pkcs11.cnf whose MODULE_PATH is the installed module and with
#     which "openssl req -engine pkcs11" makes a certificate from a token
#     key, the PIN read from a pin-source file as the example suggests.
#
# The install goes to DESTDIR=$lh_tmp/inst, as in p11-kit.sh; nothing
# outside the temp dir is touched.
. "$(dirname "$0")/lib.sh"
lh_need make make
lh_need pkg-config pkgconf
lh_need groff groff-base

if [ -n "$lh_is_softhsm" ]; then
	lh_finished=1
	echo "1..0 # SKIP installs litehsm; not meaningful with LH_MODULE=SoftHSM2"
	exit 0
fi
if [ -z "${LH_BUILDDIR:-}" ] || [ ! -f "$LH_BUILDDIR/Makefile" ]; then
	lh_not_ok install/builddir "LH_BUILDDIR='${LH_BUILDDIR:-}' has no Makefile"
	lh_finish
fi

inst=$lh_tmp/inst
# A separate make, not part of the make check running us.
lh_check install/make-install env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	make -C "$LH_BUILDDIR" install DESTDIR="$inst"
listing () {
	(cd "$inst" 2>/dev/null && find . -type f | sort | head -n 60)
}

# find_one GLOB-PATH: the first installed file whose path matches.
find_one () {
	find "$inst" -type f -path "$1" 2>/dev/null | sort | head -n 1
}

# -- litehsm.pc --
pc=$(find_one '*/pkgconfig/litehsm.pc')
lh_result pc/installed "$([ -f "$pc" ]; echo $?)" \
	"no lib*/pkgconfig/litehsm.pc under $inst:" "$(listing)"
# Only the installed file: PKG_CONFIG_LIBDIR replaces the system search path.
pkc () {
	PKG_CONFIG_LIBDIR=$(dirname "${pc:-/nonexistent/x}") PKG_CONFIG_PATH= \
		pkg-config "$@" litehsm
}
if pkg-config --help 2>&1 | grep -q -- --validate; then
	lh_check pc/validates pkc --validate
fi
version=$(sed -n 's/^VERSION = //p' "$LH_BUILDDIR/Makefile")
lh_check_output pc/modversion "^${version//./\\.}\$" pkc --modversion

module=$(pkc --variable=module 2>/dev/null)
so=$(find_one '*/pkcs11/litehsm-pkcs11.so')
[ -n "$module" ] && [ -f "$inst$module" ] && [ "$inst$module" = "$so" ]
lh_result pc/module-names-installed-so $? \
	"module='$module'; the .so was installed at '${so#"$inst"}'"
moddir=$(pkc --variable=pkcs11moduledir 2>/dev/null)
[ -n "$moddir" ] && [ "$moddir" = "$(dirname "$module")" ]
lh_result pc/pkcs11moduledir $? "pkcs11moduledir='$moddir', module='$module'"

confdir=$(pkc --variable=p11_module_configs 2>/dev/null)
modfile=$(pkc --variable=p11_module_file 2>/dev/null)
[ -n "$confdir" ] && [ "$modfile" = "$confdir/litehsm.module" ] && [ -f "$inst$modfile" ]
lh_result pc/p11-module-file-installed $? \
	"p11_module_configs='$confdir' p11_module_file='$modfile'; installed:" "$(listing)"
modline=$(sed -n 's/^module:[[:space:]]*//p' "$inst$modfile" 2>/dev/null)
[ -n "$module" ] && [ "$modline" = "$module" ]
lh_result pc/module-file-agrees "$?" "litehsm.module says '$modline', litehsm.pc '$module'"

# Cflags lead to the PKCS#11 header the module is built with.
found=1
for flag in $(pkc --cflags 2>/dev/null); do
	case $flag in
	-I*) [ -f "${flag#-I}/p11-kit/pkcs11.h" ] && found=0 ;;
	esac
done
lh_result pc/cflags-find-pkcs11-header "$found" "cflags: $(pkc --cflags 2>&1)"
lh_check_no_output pc/no-libs '-l' pkc --libs

# -- man pages --
for page in man1/litehsm.1 man5/litehsm.conf.5 man8/litehsm-pkcs11.8; do
	f=$(find_one "*/man/$page")
	name=$(basename "$page")
	if [ ! -f "$f" ]; then
		lh_not_ok "man/$name-installed" "no share/man/$page under $inst:" "$(listing)"
		continue
	fi
	lh_ok "man/$name-installed"
	# Every warning except "break" (a line that cannot be justified at
	# this width, which depends on the reader's terminal).
	groff -man -Tutf8 -P-cbou -ww -Wbreak "$f" > "$lh_tmp/$name.txt" 2> "$lh_tmp/$name.err"
	st=$?
	[ $st -eq 0 ] && [ ! -s "$lh_tmp/$name.err" ] && grep -q '^NAME' "$lh_tmp/$name.txt"
	lh_result "man/$name-renders" $? "groff status $st:" "$(head -n 20 "$lh_tmp/$name.err")"
	if command -v man > /dev/null 2>&1; then
		mandir=${f%/"$page"}
		topic=${name%.*}
		lh_check_output "man/$name-found-by-man" "^$mandir/$page" \
			env MANPATH="$mandir" man -w "${page:3:1}" "$topic"
	else
		lh_skip "man/$name-found-by-man" "man not found (install Debian package man-db)"
	fi
done

# -- examples --
conf_ex=$(find_one '*/doc/litehsm/examples/litehsm.conf.example')
lh_result examples/litehsm.conf.example "$([ -f "$conf_ex" ]; echo $?)" \
	"no share/doc/litehsm/examples/litehsm.conf.example:" "$(listing)"
cnf=$(find_one '*/doc/litehsm/examples/openssl-pkcs11.cnf')
lh_result examples/openssl-pkcs11.cnf "$([ -f "$cnf" ]; echo $?)" \
	"no share/doc/litehsm/examples/openssl-pkcs11.cnf:" "$(listing)"
cnf_module=$(sed -n 's/^MODULE_PATH = //p' "${cnf:-/dev/null}" 2>/dev/null)
[ -n "$module" ] && [ "$cnf_module" = "$module" ]
lh_result examples/openssl-cnf-module-path "$?" \
	"MODULE_PATH = '$cnf_module', the module is '$module'"

# The example at work: its engine section, with the module under DESTDIR.
enginesdir=$(openssl version -e 2>/dev/null | sed -n 's/^ENGINESDIR: "\(.*\)"$/\1/p')
if [ ! -f "$cnf" ] || [ ! -f "$inst$module" ]; then
	lh_not_ok examples/openssl-engine-certificate "nothing installed to try"
elif ! command -v pkcs11-tool > /dev/null 2>&1; then
	lh_skip examples/openssl-engine-certificate "pkcs11-tool not found (Debian package opensc)"
elif [ ! -f "$enginesdir/pkcs11.so" ]; then
	if [ "${CI:-}" = true ]; then
		lh_not_ok examples/openssl-engine-certificate \
			"$enginesdir/pkcs11.so not found (Debian package libengine-pkcs11-openssl)"
	else
		lh_skip examples/openssl-engine-certificate \
			"the pkcs11 engine is missing (install Debian package libengine-pkcs11-openssl)"
	fi
else
	LH_MODULE=$inst$module
	sed "s|^MODULE_PATH = .*|MODULE_PATH = $LH_MODULE|" "$cnf" > "$lh_tmp/openssl.cnf"
	PIN=user-pin-7
	printf '%s' "$PIN" > "$lh_tmp/pin"
	chmod 400 "$lh_tmp/pin"
	lh_init_token web so-secret-7 "$PIN" || lh_diag "token setup failed"
	p11 --token-label web --login --pin "$PIN" --keypairgen \
		--key-type EC:prime256v1 --label tls --id 01 > "$lh_tmp/keygen.out" 2>&1 ||
		lh_diag "key generation failed:" "$(cat "$lh_tmp/keygen.out")"
	eng () {
		OPENSSL_CONF=$lh_tmp/openssl.cnf lh_client openssl "$@"
	}
	lh_check examples/openssl-engine-certificate eng req -new -x509 -engine pkcs11 -keyform engine \
		-key "pkcs11:token=web;object=tls;type=private?pin-source=file:$lh_tmp/pin" \
		-subj /CN=install.litehsm.test -days 2 -out "$lh_tmp/tls.pem"
	lh_check_output examples/openssl-engine-certificate-verifies ': OK$' \
		openssl verify -check_ss_sig -CAfile "$lh_tmp/tls.pem" "$lh_tmp/tls.pem"
fi

lh_finish
