#!/bin/bash
# token-pin.sh - litehsm token set-pin, init-pin and unlock, and the PIN
# sources: files, environment variables, and the no-echo terminal prompt
# (driven through a pseudo-terminal).  Each refusal is checked for its
# stderr line and exit code, and for leaving the PINs as they were: the old
# PIN still works and the new one does not.  max_pin_failures is 3.
. "$(dirname "$0")/lib.sh"

lh_litehsm_only "litehsm's PIN lockout rules; not meaningful with SoftHSM2"

lt_pinfile so1 so-secret-1
lt_pinfile so2 so-secret-2
lt_pinfile pin1 user-pin-1
lt_pinfile pin2 user-pin-2
lt_pinfile pin3 user-pin-3
lt_pinfile bad wrong-pin-9
lt_pinfile short Q7z
printf 'user-pin-4\r\n' > "$lh_tmp/pin4crlf"
lt_secret user-pin-4
export LT_NEW=user-pin-5
lt_secret user-pin-5

# login_ok NAME PINFILE / login_fails NAME PINFILE: does the user PIN work?
login_ok () {
	lt_ok "$1" token info --token t --login --pin-file "$2"
}
login_fails () {
	lt_fails "$1" 3 "cannot log in to token \"t\" as user: the PIN is incorrect" \
		token info --token t --login --pin-file "$2"
}

lt_ok setup/init token init --label t --so-pin-file "$lh_tmp/so1" --pin-file "$lh_tmp/pin1"

# ---- set-pin (user) ------------------------------------------------------------

lt_fails set-pin/wrong-old 3 "cannot log in to token \"t\" as user: the PIN is incorrect (CKR_PIN_INCORRECT)" \
	token set-pin --token t --pin-file "$lh_tmp/bad" --new-pin-file "$lh_tmp/pin2"
login_ok set-pin/wrong-old-kept-old "$lh_tmp/pin1"
login_fails set-pin/wrong-old-no-new "$lh_tmp/pin2"
lt_fails set-pin/no-new-no-tty 2 "no new user PIN for token \"t\" given and no terminal to ask for it; use --new-pin-file FILE or --new-pin-env NAME" \
	token set-pin --token t --pin-file "$lh_tmp/pin1"
lt_fails set-pin/no-old-no-tty 2 "no user PIN of token \"t\" given and no terminal to ask for it; use --pin-file FILE or --pin-env NAME" \
	token set-pin --token t --new-pin-file "$lh_tmp/pin2"
lt_fails set-pin/short-new 2 "the new PIN is too short; choose one of 4 to 256 characters" \
	token set-pin --token t --pin-file "$lh_tmp/pin1" --new-pin-file "$lh_tmp/short"
lt_fails set-pin/so-source-for-user 2 "a SO PIN source was given to change the user PIN; add --so" \
	token set-pin --token t --so-pin-file "$lh_tmp/so1" --new-pin-file "$lh_tmp/pin2"
lt_fails set-pin/unknown-token 4 "no token labelled \"u\"" \
	token set-pin --token u --pin-file "$lh_tmp/pin1" --new-pin-file "$lh_tmp/pin2"
login_ok set-pin/refusals-kept-old "$lh_tmp/pin1"

lt_ok set-pin/user token set-pin --token t --pin-file "$lh_tmp/pin1" \
	--new-pin-file "$lh_tmp/pin2"
lt_has set-pin/user-output '^Changed the user PIN of token "t" \(serial [0-9a-f]{16}\)$'
login_fails set-pin/old-fails "$lh_tmp/pin1"
login_ok set-pin/new-works "$lh_tmp/pin2"
# a file with CR LF: both are dropped
lt_ok set-pin/crlf-file token set-pin --token t --pin-file "$lh_tmp/pin2" \
	--new-pin-file "$lh_tmp/pin4crlf" --json
lt_json set-pin/json-parses
LT_CRLF=user-pin-4 lt_ok set-pin/crlf-pin-is-without-cr \
	token info --token t --login --pin-env LT_CRLF
LT_CRLF=user-pin-4 lt_ok set-pin/env-to-env token set-pin --token t \
	--pin-env LT_CRLF --new-pin-env LT_NEW
LT_NEW=user-pin-5 lt_ok set-pin/env-new-works token info --token t --login --pin-env LT_NEW
lt_ok set-pin/back-to-pin1 token set-pin --token t --pin-env LT_NEW \
	--new-pin-file "$lh_tmp/pin1"

# ---- set-pin --so ---------------------------------------------------------------------

lt_fails set-pin-so/wrong-old 3 "cannot log in to token \"t\" as SO: the PIN is incorrect" \
	token set-pin --so --token t --so-pin-file "$lh_tmp/bad" --new-pin-file "$lh_tmp/so2"
lt_fails set-pin-so/user-source 2 "a user PIN source was given to change the SO PIN; give the current SO PIN with --so-pin-file or --so-pin-env" \
	token set-pin --so --token t --pin-file "$lh_tmp/so1" --new-pin-file "$lh_tmp/so2"
lt_ok set-pin-so/ok token set-pin --so --token t --so-pin-file "$lh_tmp/so1" \
	--new-pin-file "$lh_tmp/so2"
lt_has set-pin-so/output '^Changed the SO PIN of token "t"'
lt_fails set-pin-so/old-fails 3 "cannot log in to token \"t\" as SO: the PIN is incorrect" \
	token unlock --force --token t --so-pin-file "$lh_tmp/so1" --new-pin-file "$lh_tmp/pin1"
login_ok set-pin-so/user-pin-untouched "$lh_tmp/pin1"
lt_ok set-pin-so/new-works token unlock --force --token t --so-pin-file "$lh_tmp/so2" \
	--new-pin-file "$lh_tmp/pin1"

# ---- init-pin -----------------------------------------------------------------------

lt_fails init-pin/has-pin 1 "token \"t\" has a user PIN already; change it with 'litehsm token set-pin --token t'" \
	token init-pin --token t --so-pin-file "$lh_tmp/so2" --pin-file "$lh_tmp/pin2"
login_ok init-pin/has-pin-unchanged "$lh_tmp/pin1"
if command -v pkcs11-tool > /dev/null 2>&1; then
	# A token with an SO PIN only, made by another PKCS#11 application.
	slot=$(lh_free_slot)
	lh_run p11 --slot "$slot" --init-token --label nouser --so-pin so-secret-1
	lh_result init-pin/setup-token-without-user-pin $? "$(cat "$lh_out")"
	lt_ok init-pin/list-not-set token list
	lt_has init-pin/list-shows-not-set '^[0-9]+ +nouser +[0-9a-f]{16} +not set +ok$'
	lt_fails init-pin/login-without-pin 1 "token \"nouser\" has no user PIN yet; the SO sets it with 'litehsm token init-pin --token nouser'" \
		token info --token nouser --login --pin-file "$lh_tmp/pin1"
	lt_fails init-pin/unlock-without-pin 1 "token \"nouser\" has no user PIN to unlock" \
		token unlock --token nouser --so-pin-file "$lh_tmp/so1" --pin-file "$lh_tmp/pin1"
	lt_fails init-pin/wrong-so 3 "cannot log in to token \"nouser\" as SO: the PIN is incorrect" \
		token init-pin --token nouser --so-pin-file "$lh_tmp/bad" --pin-file "$lh_tmp/pin1"
	lt_fails init-pin/no-new-no-tty 2 "no new user PIN for token \"nouser\" given and no terminal to ask for it; use --new-pin-file FILE or --new-pin-env NAME" \
		token init-pin --token nouser --so-pin-file "$lh_tmp/so1"
	lt_fails init-pin/both-sources 2 "both --pin-* and --new-pin-* name the new user PIN" \
		token init-pin --token nouser --so-pin-file "$lh_tmp/so1" \
		--pin-file "$lh_tmp/pin1" --new-pin-file "$lh_tmp/pin2"
	lt_ok init-pin/list-still-not-set token list
	lt_has init-pin/still-not-set '^[0-9]+ +nouser +[0-9a-f]{16} +not set +(ok|count low)$'
	lt_ok init-pin/ok token init-pin --token nouser --so-pin-file "$lh_tmp/so1" \
		--pin-file "$lh_tmp/pin3"
	lt_has init-pin/output '^Set the user PIN of token "nouser"'
	lt_ok init-pin/works token info --token nouser --login --pin-file "$lh_tmp/pin3"
else
	lh_skip init-pin/token-without-user-pin "pkcs11-tool not found (Debian package opensc)"
fi

# ---- lockout and unlock ----------------------------------------------------------------

lt_fails unlock/not-locked 1 "the user PIN of token \"t\" is not locked (ok); the user can change it with 'litehsm token set-pin', or add --force" \
	token unlock --token t --so-pin-file "$lh_tmp/so2" --new-pin-file "$lh_tmp/pin2"
login_ok unlock/not-locked-unchanged "$lh_tmp/pin1"
login_fails lockout/1 "$lh_tmp/bad"
lt_ok lockout/list-1 token list
lt_has lockout/count-low '^[0-9]+ +t +[0-9a-f]{16} +count low +ok$'
lt_fails lockout/2 3 "check the PIN: one more wrong PIN locks it" \
	token info --token t --login --pin-file "$lh_tmp/bad"
lt_ok lockout/list-2 token list
lt_has lockout/final-try '^[0-9]+ +t +[0-9a-f]{16} +final try +ok$'
lt_fails lockout/3 3 "the PIN is now locked: the SO can reset it with 'litehsm token unlock --token t'" \
	token info --token t --login --pin-file "$lh_tmp/bad"
lt_ok lockout/list-3 token list --json
lt_json lockout/list-json-parses
if command -v python3 > /dev/null 2>&1; then
	[ "$(lt_py '[s["user_pin"] for s in j["slots"] if s.get("label") == "t"][0]')" = locked ]
	lh_result lockout/json-locked $? "$(cat "$lt_out")"
fi
lt_fails lockout/right-pin-refused 3 "litehsm: the user PIN of token \"t\" is locked; the SO can reset it with 'litehsm token unlock --token t'" \
	token info --token t --login --pin-file "$lh_tmp/pin1"
lt_fails lockout/set-pin-refused 3 "the user PIN of token \"t\" is locked" \
	token set-pin --token t --pin-file "$lh_tmp/pin1" --new-pin-file "$lh_tmp/pin2"
lt_fails unlock/wrong-so 3 "cannot log in to token \"t\" as SO: the PIN is incorrect" \
	token unlock --token t --so-pin-file "$lh_tmp/bad" --new-pin-file "$lh_tmp/pin2"
lt_fails unlock/short 2 "the new user PIN is too short" \
	token unlock --token t --so-pin-file "$lh_tmp/so2" --new-pin-file "$lh_tmp/short"
lt_fails unlock/no-new-no-tty 2 "no new user PIN for token \"t\" given and no terminal" \
	token unlock --token t --so-pin-file "$lh_tmp/so2"
lt_ok unlock/still-locked token list
lt_has unlock/still-locked-list '^[0-9]+ +t +[0-9a-f]{16} +locked +ok$'
lt_ok unlock/ok token unlock --token t --so-pin-file "$lh_tmp/so2" \
	--new-pin-file "$lh_tmp/pin2" --json
lt_json unlock/json-parses
lt_ok unlock/list token list
lt_has unlock/list-ok '^[0-9]+ +t +[0-9a-f]{16} +ok +ok$'
login_ok unlock/new-works "$lh_tmp/pin2"
login_fails unlock/old-fails "$lh_tmp/pin1"
lt_ok unlock/force token unlock --force --token t --so-pin-file "$lh_tmp/so2" \
	--pin-file "$lh_tmp/pin1"
login_ok unlock/force-works "$lh_tmp/pin1"

# ---- the terminal prompt ----------------------------------------------------------------
#
# lt-pty.py CMD...: run CMD on a new pseudo-terminal; for each "PROMPT=ANSWER"
# in $LT_DIALOG (lines), wait for PROMPT, then type ANSWER and Enter.
# Prints everything the terminal showed, then "exit N".
cat > "$lh_tmp/lt-pty.py" <<'EOF'
import os, pty, select, sys, time
dialog = [l.split("=", 1) for l in os.environ.get("LT_DIALOG", "").splitlines() if l]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
seen = b""
def read_some(timeout):
    global seen
    r, _, _ = select.select([fd], [], [], timeout)
    if not r:
        return False
    try:
        data = os.read(fd, 4096)
    except OSError:
        return None
    if not data:
        return None
    seen += data
    return True
deadline = time.time() + 60
for prompt, answer in dialog:
    while prompt.encode() not in seen and time.time() < deadline:
        if read_some(1) is None:
            break
    seen += b"<typed>"
    os.write(fd, answer.encode() + b"\n")
while time.time() < deadline:
    if read_some(1) is None:
        break
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode("utf-8", "replace"))
print("\nexit %d" % (os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128))
EOF

# prompt NAME EXIT ERE CMD...: the dialog ends with exit EXIT, the terminal
# showed a line matching ERE and never a PIN typed.
prompt () {
	local name=$1 code=$2 re=$3
	shift 3
	timeout 90 python3 "$lh_tmp/lt-pty.py" "$lt_tool" "$@" > "$lh_tmp/pty.out" 2>&1
	if grep -q "^exit $code\$" "$lh_tmp/pty.out" &&
	   grep -qE -- "$re" "$lh_tmp/pty.out" &&
	   ! grep -qF -f "$lt_secrets" "$lh_tmp/pty.out" &&
	   ! lh_sanitizer_ours "$lh_tmp/pty.out"; then
		lh_ok "$name"
	else
		lh_not_ok "$name" "dialog: $LT_DIALOG" "$(cat "$lh_tmp/pty.out")"
	fi
}

if command -v python3 > /dev/null 2>&1; then
	LT_DIALOG='Enter the user PIN of token "t": =user-pin-1
Enter the new user PIN for token "t": =user-pin-3
Repeat the new user PIN for token "t": =user-pin-3' \
	prompt prompt/set-pin 0 '^Changed the user PIN of token "t"' token set-pin --token t
	login_ok prompt/set-pin-new-works "$lh_tmp/pin3"
	LT_DIALOG='Enter the user PIN of token "t": =user-pin-3
Enter the new user PIN for token "t": =user-pin-1
Repeat the new user PIN for token "t": =user-pin-2' \
	prompt prompt/mismatch 2 'litehsm: the two entries of the new user PIN for token "t" differ; run the command again' \
		token set-pin --token t
	login_ok prompt/mismatch-kept-old "$lh_tmp/pin3"
	LT_DIALOG='Enter the user PIN of token "t": =' \
	prompt prompt/empty 2 'litehsm: no user PIN of token "t" entered \(an empty line\)' \
		token info --token t --login
	LT_DIALOG='Enter the user PIN of token "t": =wrong-pin-9' \
	prompt prompt/wrong 3 'cannot log in to token "t" as user: the PIN is incorrect' \
		token info --token t --login
	LT_DIALOG='Enter the user PIN of token "t": =user-pin-3' \
	prompt prompt/login 0 'objects: +0 \(all, as the user\)' token info --token t --login
	LT_DIALOG='Enter the SO PIN of token "t": =so-secret-2
Delete token "t" (serial =n' \
	prompt prompt/delete-declined 1 'litehsm: token "t" not deleted; nothing was changed' \
		token delete --token t
	lt_ok prompt/delete-declined-kept token info --token t
else
	lh_skip prompt/all "python3 not found (Debian package python3)"
fi

lh_finish
