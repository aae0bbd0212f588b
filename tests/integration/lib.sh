# lib.sh - shared by the integration tests (tests/integration/*.sh); sourced,
# never run on its own.
#
# Builds on tests/interop/lib.sh (temp dir $lh_tmp removed at exit,
# LITEHSM_CONF with a private token_dir and a cheap KDF, TAP helpers,
# lh_check*, lh_need, the ASan preload in lh_client/lh_spawn, processes in
# $lh_pids killed at exit) and adds what programs that are not PKCS#11
# tools need:
#
#   - HOME=$lh_tmp/home, so that no program reads or writes the real
#     ~/.ssh, ~/.java, ~/.pki ...;
#   - servers: li_free_port (a free TCP port on 127.0.0.1), li_wait_port
#     and li_wait_socket (wait until a server started with lh_spawn
#     listens, or has died), li_stop PID (stop it by its PID now, not at
#     exit);
#   - li_skip_under_asan REASON: skip the whole script when the module is
#     the ASan build, for a program that cannot run with the ASan runtime
#     preloaded (the plain build, which CI also runs, still runs it);
#   - the token, made through PKCS#11 clients only: li_token LABEL makes a
#     token holding an RSA-2048 key pair (id 01, label rsa) and a P-256 one
#     (id 02, label ec), with $SO and $PIN; li_slot_id LABEL prints its
#     slot id;
#   - the OpenSSL pkcs11 engine (libp11): li_need_engine, li_eng ARGS...
#     (openssl with the engine configured on the module under test),
#     li_cert TOKEN KEY CN [REQ-ARGS...] (a self-signed CA certificate for
#     the token key labelled KEY, made by the engine, written into the
#     token with pkcs11-tool), li_pub_pem TOKEN KEY OUT (the public key as
#     PEM).
#
# Environment: as tests/interop/lib.sh (LH_MODULE, LH_BUILDDIR, CI, ...).

. "$(dirname "$0")/../interop/lib.sh"

HOME=$lh_tmp/home
export HOME
mkdir -p "$HOME"
unset XDG_CONFIG_HOME XDG_DATA_HOME XDG_RUNTIME_DIR

SO=${SO:-so-secret-i}
PIN=${PIN:-user-pin-i}

# li_skip_under_asan REASON: see above; call before the first test.
li_skip_under_asan () {
	[ -n "$lh_asan_rt" ] || return 0
	lh_finished=1
	echo "1..0 # SKIP under ASan: $1"
	exit 0
}

# ---- servers -------------------------------------------------------------

# li_free_port: print a TCP port that nothing listens on at 127.0.0.1 (the
# kernel picks it; a server started right after gets it unless someone else
# races for it, which li_wait_port then reports).
li_free_port () {
	if command -v python3 > /dev/null 2>&1; then
		python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' && return 0
	fi
	local p i
	for i in $(seq 50); do
		p=$((20000 + RANDOM % 40000))
		# a refused connection means nobody listens there
		if ! (exec 3<> "/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# li_wait_port PORT PID [SECONDS]: wait (default 30 s) until something
# accepts connections on 127.0.0.1:PORT; fail at once when PID has exited.
li_wait_port () {
	local i
	for i in $(seq $((${3:-30} * 10))); do
		kill -0 "$2" 2>/dev/null || return 1
		(exec 3<> "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# li_wait_socket PATH PID [SECONDS]: the same for a unix socket.
li_wait_socket () {
	local i
	for i in $(seq $((${3:-30} * 10))); do
		kill -0 "$2" 2>/dev/null || return 1
		[ -S "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# li_stop PID: stop a process started with lh_spawn (TERM, then KILL after
# 2 s) and forget it, so that the exit trap does not try again.
li_stop () {
	local pid=$1 i rest=
	kill "$pid" 2>/dev/null
	for i in $(seq 20); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	for i in $lh_pids; do
		[ "$i" = "$pid" ] || rest="$rest $i"
	done
	lh_pids=$rest
}

# ---- the token -------------------------------------------------------------

# li_token LABEL: initialize the free slot's token as LABEL with pkcs11-tool
# (SO PIN $SO, user PIN $PIN) and generate the two key pairs in it; prints
# one TAP line per step.
li_token () {
	lh_init_token "$1" "$SO" "$PIN"
	lh_result token/init $?
	lh_check token/rsa-keypairgen p11 --token-label "$1" --login --pin "$PIN" \
		--keypairgen --key-type rsa:2048 --id 01 --label rsa
	lh_check token/ec-keypairgen p11 --token-label "$1" --login --pin "$PIN" \
		--keypairgen --key-type EC:prime256v1 --id 02 --label ec
}

# li_slot_id LABEL: the id (decimal) of the slot holding token LABEL.
li_slot_id () {
	p11 -L 2>/dev/null | awk -v want="$1" '
		/^Slot [0-9]+ \(0x[0-9a-fA-F]+\)/ {
			id = $3; sub(/^\(/, "", id); sub(/\).*$/, "", id); next }
		/^ *token label *:/ {
			lab = $0; sub(/^ *token label *: /, "", lab)
			if (lab == want) { print id; exit } }' |
	while read -r hex; do printf '%d\n' "$hex"; done
}

# ---- the OpenSSL pkcs11 engine ----------------------------------------------

# li_need_engine: like lh_need, for libengine-pkcs11-openssl's pkcs11.so;
# writes $lh_tmp/engine.cnf, which loads it on the module under test.
li_need_engine () {
	local dir engine
	lh_need openssl openssl
	dir=$(openssl version -e 2>/dev/null | sed -n 's/^ENGINESDIR: "\(.*\)"$/\1/p')
	engine=$dir/pkcs11.so
	if [ ! -f "$engine" ]; then
		lh_finished=1
		if [ "${CI:-}" = true ]; then
			echo "1..1"
			echo "not ok 1 - /$lh_name/need-engine: $engine not found (Debian package libengine-pkcs11-openssl)"
			exit 1
		fi
		echo "1..0 # SKIP $engine not found (install Debian package libengine-pkcs11-openssl)"
		exit 0
	fi
	cat > "$lh_tmp/engine.cnf" <<EOF
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $engine
MODULE_PATH = $LH_MODULE
init = 0
[req]
distinguished_name = dn
[dn]
EOF
}

# li_eng ARGS...: openssl, with the engine of li_need_engine.
li_eng () {
	OPENSSL_CONF=$lh_tmp/engine.cnf lh_client openssl "$@"
}

# li_cert TOKEN KEY CN [REQ-ARGS...]: a self-signed CA certificate for the
# token key labelled KEY, signed in the token through the engine, as
# $lh_tmp/KEY.pem and .der, then written into the token (label KEY, the
# key's id) with pkcs11-tool; prints one TAP line per step.
li_cert () {
	local tok=$1 key=$2 cn=$3 id
	shift 3
	case $key in rsa) id=01 ;; ec) id=02 ;; *) id=$key ;; esac
	lh_check "cert/$key-self-signed" li_eng req -new -x509 -engine pkcs11 \
		-keyform engine -key "pkcs11:token=$tok;object=$key;type=private?pin-value=$PIN" \
		-sha256 -days 30 -subj "/CN=$cn" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,digitalSignature,keyCertSign" \
		"$@" -out "$lh_tmp/$key.pem"
	openssl x509 -in "$lh_tmp/$key.pem" -outform DER -out "$lh_tmp/$key.der" \
		> /dev/null 2>&1
	lh_check "cert/$key-write" p11 --token-label "$tok" --login --pin "$PIN" \
		--write-object "$lh_tmp/$key.der" --type cert --id "$id" --label "$key"
}

# li_pub_pem TOKEN KEY OUT: the public key labelled KEY as PEM.  An EC
# (P-256) key is rebuilt from CKA_EC_POINT: OpenSC 0.23's --read-object of
# an EC public key uses memory it has freed (ASan stops it in that build).
li_pub_pem () {
	local point spki
	if [ "$2" = ec ]; then
		lh_run p11 --token-label "$1" -O --type pubkey --label "$2"
		point=$(sed -n 's/^ *EC_POINT: *0441\([0-9a-f]\{130\}\)$/\1/p' "$lh_out")
		[ -n "$point" ] || return 1
		spki=3059301306072a8648ce3d020106082a8648ce3d030107034200$point
		printf "$(printf '%s' "$spki" | sed 's/../\\x&/g')" > "$3.der"
	else
		p11 --token-label "$1" --read-object --type pubkey --label "$2" \
			-o "$3.der" > /dev/null 2>&1 || return 1
	fi
	openssl pkey -pubin -inform DER -in "$3.der" -out "$3" > /dev/null 2>&1
}
