#!/bin/bash
# plaintext.sh - nothing secret in clear on disk or in the log: the value
# and label of a private data object, the value and label of an AES key, and
# the PINs must not be found (grep -c = 0) in any file of the token
# directory - the database, and its -wal file while another process keeps
# the token open - nor in the module's debug log.
. "$(dirname "$0")/lib.sh"
lh_need pkcs11-tool opensc
lh_need od coreutils

# A random tag makes every needle unique to this run.
tag=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
SO=so-pin-$tag
PIN=user-pin-$tag
DATA_VALUE=private-value-$tag
DATA_LABEL=private-label-$tag
KEY_LABEL=key-label-$tag
KEY_VALUE=$(printf 'AESKEY%s%s' "$tag" "$tag" | head -c 32)    # 32 bytes
echo "log_level = debug" >> "$LITEHSM_CONF"

# lh_grep_count NEEDLE FILE...: total of grep -c over the files.
lh_grep_count () {
	local needle=$1 f total=0 c
	shift
	for f in "$@"; do
		[ -f "$f" ] || continue
		c=$(grep -c -a -F -- "$needle" "$f")
		total=$((total + c))
	done
	echo "$total"
}

# lh_check_absent WHEN: one test per needle over every token file.
lh_check_absent () {
	local when=$1 files needle name n
	files=$(find "$lh_tokens" -type f 2>/dev/null)
	if [ -z "$files" ]; then
		lh_not_ok "$when/token-files" "no file in $lh_tokens"
		return
	fi
	lh_diag "$when: searching $(echo $files | sed "s|$lh_tokens/||g")"
	for name in DATA_VALUE DATA_LABEL KEY_VALUE KEY_LABEL PIN SO; do
		needle=${!name}
		# shellcheck disable=SC2086
		n=$(lh_grep_count "$needle" $files)
		lh_result "$when/no-$name" "$([ "$n" -eq 0 ]; echo $?)" \
			"grep -c found the plaintext ${name} $n time(s) in the token files"
	done
}

lh_init_token pt "$SO" "$PIN"
lh_result token/init $?

# Keep the token open in a second process, so the writes below stay in the
# -wal file instead of being checkpointed into the database at close.
watch=${LH_WATCH:-${LH_BUILDDIR:-.}/tests/interop/lh-watch}
if [ -x "$watch" ]; then
	"$watch" "$LH_MODULE" pt "$PIN" never-written 120 > "$lh_tmp/watch.out" 2>&1 &
	wpid=$!
	lh_pids="$lh_pids $wpid"
	for i in $(seq 100); do
		grep -q '^login$' "$lh_tmp/watch.out" && break
		sleep 0.1
	done
fi

printf '%s' "$DATA_VALUE" > "$lh_tmp/data.bin"
lh_check write/private-data p11 --token-label pt --login --pin "$PIN" \
	--write-object "$lh_tmp/data.bin" --type data --label "$DATA_LABEL" --private
printf '%s' "$KEY_VALUE" > "$lh_tmp/key.bin"
lh_check write/secret-key p11 --token-label pt --login --pin "$PIN" \
	--write-object "$lh_tmp/key.bin" --type secrkey --key-type AES:32 \
	--label "$KEY_LABEL" --private
lh_check_output write/objects-listed "$KEY_LABEL" p11 --token-label pt --login --pin "$PIN" -O
grep -qF "$DATA_LABEL" "$lh_out"
lh_result write/data-listed $? "$(cat "$lh_out")"

if [ -n "${wpid:-}" ] && kill -0 "$wpid" 2>/dev/null; then
	if ls "$lh_tokens"/*-wal > /dev/null 2>&1; then
		lh_ok open/wal-present
	else
		lh_skip open/wal-present "no -wal file while the token is open"
	fi
	lh_check_absent open
	kill "$wpid" 2>/dev/null
	wait "$wpid" 2>/dev/null
else
	lh_skip open/token-files "lh-watch not available to hold the token open"
fi

# A clean open and close checkpoints the WAL into the database.
lh_check read/private-data p11 --token-label pt --login --pin "$PIN" \
	--read-object --type data --label "$DATA_LABEL" -o "$lh_tmp/data.out"
cmp "$lh_tmp/data.bin" "$lh_tmp/data.out" > /dev/null 2>&1
lh_result read/same-bytes $?
lh_check_absent closed

if [ -f "$lh_tmp/litehsm.log" ]; then
	for name in DATA_VALUE DATA_LABEL KEY_VALUE KEY_LABEL PIN SO; do
		needle=${!name}
		n=$(lh_grep_count "$needle" "$lh_tmp/litehsm.log")
		lh_result "log/no-$name" "$([ "$n" -eq 0 ]; echo $?)" \
			"the module log has the plaintext $name $n time(s)"
	done
else
	lh_skip log/written "the module wrote no log file"
fi

lh_finish
