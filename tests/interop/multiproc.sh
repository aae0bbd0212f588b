#!/bin/bash
# multiproc.sh - two processes share the token store without restarting:
# lh-watch (tests/interop/lh-watch.c) initializes the module once and keeps
# running while pkcs11-tool, a second process, creates a token on the free
# slot, sets its user PIN, writes a data object and deletes it.  The watcher
# must see each change in its slot list / object searches.
. "$(dirname "$0")/lib.sh"
lh_need pkcs11-tool opensc

SO=so-secret-1
PIN=user-pin-1
TIMEOUT=${LH_WATCH_TIMEOUT:-60}
watch=${LH_WATCH:-${LH_BUILDDIR:-.}/tests/interop/lh-watch}
wout=$lh_tmp/watch.out

if [ ! -x "$watch" ]; then
	lh_not_ok watcher/built "no lh-watch program at $watch"
	lh_finish
fi

# lh_wait_for ERE: wait until the watcher prints a matching line; fail early
# when it prints "fail ..." or exits.
lh_wait_for () {
	local i=0
	while [ $i -lt $((TIMEOUT * 10)) ]; do
		grep -qE -- "$1" "$wout" 2>/dev/null && return 0
		grep -q '^fail ' "$wout" 2>/dev/null && return 1
		kill -0 "$wpid" 2>/dev/null || { grep -qE -- "$1" "$wout"; return $?; }
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

"$watch" "$LH_MODULE" mp "$PIN" mpobj "$TIMEOUT" > "$wout" 2>&1 &
wpid=$!
lh_pids="$lh_pids $wpid"

lh_wait_for '^ready$'
lh_result watcher/initialized $? "watcher output:" "$(cat "$wout")"

slot=$(lh_free_slot)
lh_check token/init-other-process p11 --slot "${slot:-0}" --init-token --label mp --so-pin "$SO"
lh_wait_for '^token mp slot '
lh_result token/seen-by-running-process $? "watcher output:" "$(cat "$wout")"
# While the other process creates the token, its slot may be not yet
# initialized, but C_GetTokenInfo must not fail on it.
! grep -q '^error ' "$wout"
lh_result token/no-error-while-other-process-inits $? "watcher output:" "$(cat "$wout")"

lh_check pin/init-other-process p11 --token-label mp --login --so-pin "$SO" --init-pin --pin "$PIN"
lh_wait_for '^pin-set$'
lh_result pin/seen-by-running-process $? "watcher output:" "$(cat "$wout")"
lh_wait_for '^login$'
lh_result pin/running-process-logs-in $? "watcher output:" "$(cat "$wout")"

value="written by pid $$"
printf '%s\n' "$value" > "$lh_tmp/obj.bin"
lh_check object/write-other-process p11 --token-label mp --login --pin "$PIN" \
	--write-object "$lh_tmp/obj.bin" --type data --label mpobj
lh_wait_for '^object mpobj value '
lh_result object/seen-by-running-process $? "watcher output:" "$(cat "$wout")"
grep -qxF "object mpobj value $value" "$wout"
lh_result object/same-value $? "watcher output:" "$(cat "$wout")"

lh_check object/delete-other-process p11 --token-label mp --login --pin "$PIN" \
	--delete-object --type data --label mpobj
lh_wait_for '^gone mpobj$'
lh_result object/deletion-seen-by-running-process $? "watcher output:" "$(cat "$wout")"

wait "$wpid"
st=$?
lh_pids=
lh_result watcher/clean-exit $st "watcher exit status $st:" "$(cat "$wout")"

lh_finish
