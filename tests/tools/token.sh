#!/bin/bash
# token.sh - litehsm token init, list, info and delete, the help texts, and
# the command line itself: every success path and every refusal, each with
# its exact stderr line and exit code, and a check that a refusal changed
# nothing (the slots and token files before and after).
. "$(dirname "$0")/lib.sh"

lh_litehsm_only 'litehsm token files; not meaningful with SoftHSM2'

lt_pinfile so1 so-secret-1
lt_pinfile pin1 user-pin-1
lt_pinfile short Q7z
: > "$lh_tmp/empty"
head -c 300 /dev/zero | tr '\0' x > "$lh_tmp/long"
export LT_SO=so-secret-2 LT_PIN=user-pin-2
lt_secret so-secret-2 user-pin-2

# ---- help, version and the command line ----------------------------------

lt_ok help/top --help
lt_has help/top-commands '^  token '
lt_has help/top-exit-codes '^  3  wrong or locked PIN'
lt_ok help/token token --help
for c in init list info set-pin init-pin unlock delete backup restore verify rekey; do
	lt_ok "help/$c" token "$c" --help
	lt_has "help/$c-usage" "^Usage: litehsm token $c "
done
lt_ok help/version --version
lt_has help/version-text '^litehsm [0-9]'
lt_fails cli/no-command 2 "litehsm: no command given; see 'litehsm --help'"
lt_fails cli/unknown-command 2 "unknown command 'frob'" frob
lt_fails cli/token-no-subcommand 2 "'token' needs a command" token
lt_fails cli/unknown-subcommand 2 "unknown command 'token frob'" token frob
lt_fails cli/unknown-option 2 "unknown option --frob for 'token list'" token list --frob
lt_fails cli/missing-value 2 "option --label of 'token init' needs a value" token init --label
lt_fails cli/pin-in-argv 2 "PINs are never taken from the command line (--pin)" \
	token info --token a --pin 1234
lt_fails cli/so-pin-in-argv 2 "PINs are never taken from the command line (--so-pin)" \
	token delete --token a --so-pin=1234
lt_fails cli/option-not-applying 2 "option --token does not apply to 'token list'" \
	token list --token a
lt_fails cli/global-not-applying 2 "option --so-pin-file does not apply to 'token info'" \
	--so-pin-file "$lh_tmp/so1" token info --token a
lt_fails cli/token-and-uri 2 "both --token and --token-uri name a token" \
	token info --token a --token-uri pkcs11:token=a
lt_fails cli/two-pin-sources 2 "both --pin-file and --pin-env given" \
	token info --token a --login --pin-file "$lh_tmp/pin1" --pin-env LT_PIN
lt_fails cli/extra-argument 2 "unexpected argument \"x\" for 'token list'" token list x
lt_fails cli/missing-argument 2 "'token backup' needs FILE" token backup --token a
lt_fails cli/bad-module 1 "cannot load the PKCS#11 module $lh_tmp/none.so (--module)" \
	--module "$lh_tmp/none.so" token list

# ---- list on a fresh directory ---------------------------------------------------

lt_ok list/fresh token list
lt_has list/fresh-header '^SLOT +LABEL +SERIAL +USER PIN +SO PIN$'
lt_has list/fresh-free '^[0-9]+ +free$'
lt_ok list/fresh-json token list --json
lt_json list/fresh-json-parses
[ "$(lt_py 'sum(1 for s in j["slots"] if s["free"])')" = 1 ] || command -v python3 > /dev/null
lh_result list/fresh-json-one-free $?

# ---- init: refusals change nothing ------------------------------------------------

lt_snap "$lh_tmp/s0"
lt_fails init/no-label 2 "'token init' needs --label LABEL" \
	token init --so-pin-file "$lh_tmp/so1" --pin-file "$lh_tmp/pin1"
lt_fails init/long-label 2 "is longer than 32 bytes; choose a label of 1 to 32 bytes" \
	token init --label 0123456789012345678901234567890123 \
	--so-pin-file "$lh_tmp/so1" --pin-file "$lh_tmp/pin1"
lt_fails init/empty-label 2 "the label \"\" is empty" token init --label "" \
	--so-pin-file "$lh_tmp/so1" --pin-file "$lh_tmp/pin1"
lt_fails init/control-label 2 "is not valid UTF-8 or holds control characters; use printable UTF-8 text" \
	token init --label "$(printf 'a\tb')" --so-pin-file "$lh_tmp/so1" --pin-file "$lh_tmp/pin1"
lt_fails init/invalid-utf8-label 2 "is not valid UTF-8" \
	token init --label "$(printf 'a\377')" --so-pin-file "$lh_tmp/so1" --pin-file "$lh_tmp/pin1"
lt_fails init/no-pin-no-tty 2 "litehsm: no new SO PIN for token \"a\" given and no terminal to ask for it; use --so-pin-file FILE or --so-pin-env NAME" \
	token init --label a
lt_fails init/no-user-pin-no-tty 2 "no new user PIN for token \"a\" given and no terminal to ask for it; use --pin-file FILE or --pin-env NAME" \
	token init --label a --so-pin-file "$lh_tmp/so1"
lt_fails init/missing-pin-file 2 "cannot read the PIN file $lh_tmp/nofile (--so-pin-file): No such file or directory" \
	token init --label a --so-pin-file "$lh_tmp/nofile" --pin-file "$lh_tmp/pin1"
lt_fails init/empty-pin-file 2 "the PIN file $lh_tmp/empty (--pin-file) is empty" \
	token init --label a --so-pin-file "$lh_tmp/so1" --pin-file "$lh_tmp/empty"
lt_fails init/long-pin-file 2 "is longer than 256 bytes" \
	token init --label a --so-pin-file "$lh_tmp/long" --pin-file "$lh_tmp/pin1"
lt_fails init/short-pin 2 "the user PIN is too short; choose one of 4 to 256 characters" \
	token init --label a --so-pin-file "$lh_tmp/so1" --pin-file "$lh_tmp/short"
lt_fails init/unset-env 2 "the environment variable LT_NONE (--so-pin-env) is not set" \
	token init --label a --so-pin-env LT_NONE --pin-file "$lh_tmp/pin1"
lt_snap "$lh_tmp/s1"
lt_same init/refusals-changed-nothing "$lh_tmp/s0" "$lh_tmp/s1"

# ---- init, list, info ---------------------------------------------------------------

lt_ok init/files token init --label a --so-pin-file "$lh_tmp/so1" --pin-file "$lh_tmp/pin1"
lt_has init/files-output '^Created token "a"$'
lt_has init/files-serial '^  serial: [0-9a-f]{16}$'
lt_has init/files-slot '^  slot:   [0-9]+ \(litehsm token-1\.db\)$'
serial_a=$(sed -n 's/^  serial: //p' "$lt_out")
lt_ok init/env-json token init --label b --so-pin-env LT_SO --pin-env LT_PIN --json
lt_json init/env-json-parses
[ -f "$lh_tokens/token-1.db" ] && [ -f "$lh_tokens/token-2.db" ]
lh_result init/files-exist $? "$(ls -l "$lh_tokens")"

lt_snap "$lh_tmp/s2"
lt_fails init/duplicate-label 1 "a token labelled \"a\" exists already (serial $serial_a" \
	token init --label a --so-pin-file "$lh_tmp/so1" --pin-file "$lh_tmp/pin1"
lt_snap "$lh_tmp/s3"
lt_same init/duplicate-changed-nothing "$lh_tmp/s2" "$lh_tmp/s3"

lt_ok list/two token list
lt_has list/two-a "^[0-9]+ +a +$serial_a +ok +ok$"
lt_has list/two-b '^[0-9]+ +b +[0-9a-f]{16} +ok +ok$'
lt_has list/two-free '^[0-9]+ +free$'
lt_ok list/two-json token list --json
lt_json list/two-json-parses
if command -v python3 > /dev/null 2>&1; then
	[ "$(lt_py '[s["label"] for s in j["slots"] if not s["free"]]')" = "['a', 'b']" ] &&
	[ "$(lt_py '[s["user_pin"] for s in j["slots"] if not s["free"]]')" = "['ok', 'ok']" ]
	lh_result list/two-json-fields $? "$(cat "$lt_out")"
fi

lt_ok info/public token info --token a
lt_has info/label '^Token "a"$'
lt_has info/serial "^  serial: +$serial_a\$"
lt_has info/uri "^  URI: +pkcs11:model=soft%20token;manufacturer=litehsm;serial=$serial_a;token=a\$"
lt_has info/pins '^  user PIN: +ok$'
lt_has info/mechanisms '^  mechanisms: +[1-9][0-9]*$'
lt_has info/objects-public '^  objects: +0 \(public only'
lt_ok info/login token info --token a --login --pin-file "$lh_tmp/pin1"
lt_has info/objects-user '^  objects: +0 \(all, as the user\)$'
lt_ok info/json token info --token b --login --pin-env LT_PIN --json
lt_json info/json-parses
if command -v python3 > /dev/null 2>&1; then
	[ "$(lt_py 'j["label"], j["objects_seen_as"], "CKF_TOKEN_INITIALIZED" in j["flags"]')" = "b user True" ]
	lh_result info/json-fields $? "$(cat "$lt_out")"
fi
lt_ok info/uri token info --token-uri "pkcs11:serial=$serial_a"
lt_has info/uri-found '^Token "a"$'
lt_ok info/uri-pin-source token info --login \
	--token-uri "pkcs11:token=a?pin-source=file://$lh_tmp/pin1"
lt_fails info/unknown-token 4 "litehsm: no token labelled \"nope\"; list the tokens with 'litehsm token list'" \
	token info --token nope
lt_fails info/unknown-uri 4 "no token matches \"pkcs11:token=a;serial=0000\"" \
	token info --token-uri "pkcs11:token=a;serial=0000"
lt_fails info/no-token 2 "'token info' needs a token; name it with --token LABEL or --token-uri URI" \
	token info
lt_fails info/bad-uri 2 "bad --token-uri: unknown attribute \"label\" in the URI path" \
	token info --token-uri pkcs11:label=a
lt_fails info/uri-pin-value 2 "the URI holds a PIN (pin-value)" \
	token info --token-uri "pkcs11:token=a?pin-value=user-pin-1"
lt_fails info/pin-without-login 2 "a user PIN source was given without --login" \
	token info --token a --pin-file "$lh_tmp/pin1"
lt_fails info/login-no-tty 2 "no user PIN of token \"a\" given and no terminal to ask for it" \
	token info --token a --login

# Two tokens with one label (--force): --token is ambiguous, a URI is not.
lt_ok init/force-duplicate token init --label a --force \
	--so-pin-file "$lh_tmp/so1" --pin-file "$lh_tmp/pin1"
serial_a2=$(sed -n 's/^  serial: //p' "$lt_out")
lt_fails info/ambiguous 2 "2 tokens match \"a\"" token info --token a
lt_ok info/uri-disambiguates token info --token-uri "pkcs11:token=a;serial=$serial_a2"

# ---- delete -------------------------------------------------------------------------

lt_snap "$lh_tmp/s4"
lt_fails delete/no-tty-no-yes 2 "litehsm: refusing to delete a token without confirmation, and there is no terminal to ask on; add --yes" \
	token delete --token-uri "pkcs11:serial=$serial_a2" --so-pin-file "$lh_tmp/so1"
lt_fails delete/no-so-pin 2 "no SO PIN of token \"a\" given and no terminal to ask for it; use --so-pin-file FILE or --so-pin-env NAME" \
	token delete --token-uri "pkcs11:serial=$serial_a2" --yes
lt_fails delete/unknown 4 "no token labelled \"nope\"" \
	token delete --token nope --yes --so-pin-file "$lh_tmp/so1"
lt_fails delete/user-pin-given 2 "option --pin-file does not apply to 'token delete'" \
	token delete --token b --yes --pin-file "$lh_tmp/pin1"
lt_snap "$lh_tmp/s5"
lt_same delete/refusals-changed-nothing "$lh_tmp/s4" "$lh_tmp/s5"
lt_fails delete/wrong-so-pin 3 "cannot log in to token \"b\" as SO: the PIN is incorrect (CKR_PIN_INCORRECT)" \
	token delete --token b --yes --so-pin-file "$lh_tmp/so1"
lt_ok delete/b-still-there token info --token b
lt_ok delete/yes token delete --token-uri "pkcs11:serial=$serial_a2" --yes \
	--so-pin-file "$lh_tmp/so1"
lt_has delete/output "^Deleted token \"a\" \\(serial $serial_a2, file $lh_tokens/token-3.db\\)\$"
[ ! -e "$lh_tokens/token-3.db" ] && [ ! -e "$lh_tokens/token-3.db-wal" ] &&
	[ ! -e "$lh_tokens/token-3.db-shm" ]
lh_result delete/files-gone $? "$(ls -l "$lh_tokens")"
lt_ok delete/others-remain token info --token a
lt_has delete/others-remain-serial "^  serial: +$serial_a\$"
lt_ok delete/json token delete --token b --yes --so-pin-env LT_SO --json
lt_json delete/json-parses
lt_ok list/after-delete token list
if grep -qE '^[0-9]+ +b ' "$lt_out"; then
	lh_not_ok list/b-gone "$(cat "$lt_out")"
else
	lh_ok list/b-gone
fi

lh_finish
