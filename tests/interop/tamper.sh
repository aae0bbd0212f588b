#!/bin/bash
# tamper.sh - damage in the token file is caught on use and stays local.
#
# With the sqlite3 CLI (the file is an ordinary SQLite database, see the
# format comment in store/schema.c) it changes one byte of one stored object
# at a time - a sealed value, a sealed label, the object's checksum, its MAC,
# a public object's value, a "sealed" flag - and swaps two objects' sealed
# values.  After each change reading that object must fail cleanly (non-zero
# exit, no crash, no sanitizer report, never altered bytes) while the other
# objects still read back unchanged; then the byte is put back and the
# object reads fine again.  Last, raw damage to the file's pages and a
# truncated file must give errors, not crashes.
. "$(dirname "$0")/lib.sh"
lh_need pkcs11-tool opensc
lh_need sqlite3 sqlite3

if [ -n "$lh_is_softhsm" ]; then
	lh_finished=1
	echo "1..0 # SKIP edits litehsm's SQLite format; not meaningful with SoftHSM2"
	exit 0
fi

SO=so-secret-1
PIN=user-pin-1
T="--token-label tp"
CKA_LABEL=3
CKA_VALUE=17

lh_init_token tp "$SO" "$PIN"
lh_result setup/token $?
printf 'victim secret %s\n' "$$" > "$lh_tmp/victim"
printf 'bystander secret %s\n' "$$" > "$lh_tmp/bystander"
printf 'public value %s\n' "$$" > "$lh_tmp/pub"
lh_check setup/write-victim p11 $T --login --pin "$PIN" --write-object "$lh_tmp/victim" \
	--type data --label victim --private
lh_check setup/write-bystander p11 $T --login --pin "$PIN" --write-object "$lh_tmp/bystander" \
	--type data --label bystander --private
lh_check setup/write-public p11 $T --login --pin "$PIN" --write-object "$lh_tmp/pub" \
	--type data --label pub

# The token's file is the *.db whose objects table has rows.
db=
for f in "$lh_tokens"/*.db; do
	n=$(sqlite3 -batch "$f" "SELECT count(*) FROM objects" 2>/dev/null)
	[ "${n:-0}" -gt 0 ] && { db=$f; break; }
done
sql () {
	sqlite3 -batch -bail "$db" "$@"
}
if [ -n "$db" ]; then
	victim=$(sql "SELECT id FROM objects WHERE private = 1 ORDER BY id LIMIT 1")
	bystander=$(sql "SELECT id FROM objects WHERE private = 1 ORDER BY id LIMIT 1 OFFSET 1")
	pub=$(sql "SELECT id FROM objects WHERE private = 0 ORDER BY id LIMIT 1")
fi
[ -n "$db" ] && [ -n "$victim" ] && [ -n "$bystander" ] && [ -n "$pub" ]
lh_result setup/find-rows $? "token file '$db', object ids victim '${victim:-}'" \
	"bystander '${bystander:-}' public '${pub:-}'" "$(ls -l "$lh_tokens")"
if [ -z "${pub:-}" ]; then
	lh_finish
fi

# read_ok NAME LABEL FILE [--login]: the object reads back as FILE.
read_ok () {
	local name=$1 label=$2 file=$3
	shift 3
	rm -f "$lh_tmp/read.out"
	if lh_run p11 $T "$@" --read-object --type data --label "$label" -o "$lh_tmp/read.out" &&
	   cmp "$file" "$lh_tmp/read.out" > /dev/null 2>&1; then
		lh_ok "$name"
	else
		lh_not_ok "$name" "reading '$label' failed or returned other bytes" "$(cat "$lh_out")"
	fi
}

# read_fails NAME LABEL [--login ...]: reading fails cleanly and nothing
# else than the right value (or nothing) is returned.
read_fails () {
	local name=$1 label=$2
	shift 2
	rm -f "$lh_tmp/read.out"
	lh_check_fails "$name" p11 $T "$@" --read-object --type data --label "$label" \
		-o "$lh_tmp/read.out"
	if [ -s "$lh_tmp/read.out" ] && ! cmp -s "$lh_tmp/read.out" "$lh_tmp/$label"; then
		lh_not_ok "$name-no-altered-bytes" "the damaged object returned altered bytes:" \
			"$(od -c "$lh_tmp/read.out" | head -n 5)"
	else
		lh_ok "$name-no-altered-bytes"
	fi
}

# others_ok PREFIX: the undamaged objects still work, and a listing with
# the damaged one present neither crashes nor hides the others.
others_ok () {
	read_ok "$1/bystander-reads" bystander "$lh_tmp/bystander" --login --pin "$PIN"
	read_ok "$1/public-reads" pub "$lh_tmp/pub"
	lh_run p11 $T --login --pin "$PIN" -O
	local st=$?
	[ $st -lt 128 ] && grep -q "label: *'bystander'" "$lh_out"
	lh_result "$1/list-others" $? "exit status $st" "$(cat "$lh_out")"
}

# flip TABLE COLUMN WHERE: change one bit of one byte in the middle of a
# BLOB; the original is kept in $orig for restore.
flip () {
	local p c n new
	orig=$(sql "SELECT hex($2) FROM $1 WHERE $3")
	[ -n "$orig" ] || { lh_diag "no $1.$2 where $3"; return 1; }
	p=$(( ${#orig} / 2 ))
	p=$(( p - p % 2 ))
	c=${orig:p:1}
	n=$(printf '%X' $(( 0x$c ^ 1 )))
	new=${orig:0:p}$n${orig:p+1}
	sql "UPDATE $1 SET $2 = X'$new' WHERE $3"
}
restore () {
	sql "UPDATE $1 SET $2 = X'$orig' WHERE $3"
}

read_ok baseline/victim victim "$lh_tmp/victim" --login --pin "$PIN"
others_ok baseline

# -- one changed byte at a time in the victim's row, put back afterwards --
tamper_private () {
	local name=$1 table=$2 col=$3 where=$4
	flip "$table" "$col" "$where"
	lh_result "$name/flip" $? "could not change $table.$col where $where"
	read_fails "$name/victim-refused" victim --login --pin "$PIN"
	others_ok "$name"
	restore "$table" "$col" "$where"
	read_ok "$name/victim-after-restore" victim "$lh_tmp/victim" --login --pin "$PIN"
}
tamper_private sealed-value attrs value "obj = $victim AND type = $CKA_VALUE"
tamper_private sealed-label attrs value "obj = $victim AND type = $CKA_LABEL"
tamper_private checksum objects csum "id = $victim"
tamper_private mac objects mac "id = $victim"

# A "sealed" flag cleared: the ciphertext must not come back as the value.
sflags=$(sql "SELECT flags FROM attrs WHERE obj = $victim AND type = $CKA_VALUE")
sql "UPDATE attrs SET flags = 0 WHERE obj = $victim AND type = $CKA_VALUE"
lh_result sealed-flag/clear $?
read_fails sealed-flag/victim-refused victim --login --pin "$PIN"
others_ok sealed-flag
sql "UPDATE attrs SET flags = ${sflags:-2} WHERE obj = $victim AND type = $CKA_VALUE"
read_ok sealed-flag/victim-after-restore victim "$lh_tmp/victim" --login --pin "$PIN"

# Sealed values swapped between two objects (AAD binds the object id).
va=$(sql "SELECT hex(value) FROM attrs WHERE obj = $victim AND type = $CKA_VALUE")
vb=$(sql "SELECT hex(value) FROM attrs WHERE obj = $bystander AND type = $CKA_VALUE")
sql "UPDATE attrs SET value = X'$vb' WHERE obj = $victim AND type = $CKA_VALUE;
     UPDATE attrs SET value = X'$va' WHERE obj = $bystander AND type = $CKA_VALUE"
lh_result swap/swap $?
read_fails swap/victim-refused victim --login --pin "$PIN"
read_fails swap/bystander-refused bystander --login --pin "$PIN"
read_ok swap/public-reads pub "$lh_tmp/pub"
sql "UPDATE attrs SET value = X'$va' WHERE obj = $victim AND type = $CKA_VALUE;
     UPDATE attrs SET value = X'$vb' WHERE obj = $bystander AND type = $CKA_VALUE"
read_ok swap/victim-after-restore victim "$lh_tmp/victim" --login --pin "$PIN"
read_ok swap/bystander-after-restore bystander "$lh_tmp/bystander" --login --pin "$PIN"

# A public object's value: the plain checksum catches it even before login.
flip attrs value "obj = $pub AND type = $CKA_VALUE"
lh_result public/flip $?
read_fails public/refused-without-login pub
read_fails public/refused-with-login pub --login --pin "$PIN"
read_ok public/bystander-reads bystander "$lh_tmp/bystander" --login --pin "$PIN"
restore attrs value "obj = $pub AND type = $CKA_VALUE"
read_ok public/after-restore pub "$lh_tmp/pub"

# -- raw damage below SQL: no crash, a clean error, the file restored after --
cp "$db" "$lh_tmp/good.db"
size=$(stat -c %s "$db")
pages=$(sql "PRAGMA page_count")
psize=$(sql "PRAGMA page_size")
lh_diag "token file $size bytes, $pages pages of $psize"
# Overwrite 64 bytes in the middle of every page after the first: b-tree
# headers and cells alike.
i=1
while [ "$i" -lt "${pages:-0}" ]; do
	printf '\377%.0s' $(seq 64) | dd of="$db" bs=1 seek=$(( i * psize + psize / 2 )) \
		conv=notrunc status=none
	i=$((i + 1))
done
lh_run p11 -L
lh_result raw/list-slots-no-crash "$([ $? -lt 128 ]; echo $?)" "$(cat "$lh_out")"
lh_run p11 $T --login --pin "$PIN" -O
lh_result raw/list-objects-no-crash "$([ $? -lt 128 ]; echo $?)" "$(cat "$lh_out")"
rm -f "$lh_tmp/read.out"
lh_run p11 $T --login --pin "$PIN" --read-object --type data --label victim -o "$lh_tmp/read.out"
st=$?
[ $st -lt 128 ] && { [ $st -ne 0 ] || cmp -s "$lh_tmp/read.out" "$lh_tmp/victim"; }
lh_result raw/read-fails-or-correct $? "status $st" "$(cat "$lh_out")"

truncate -s $(( size / 2 )) "$db"
lh_run p11 -L
lh_result truncated/list-slots-no-crash "$([ $? -lt 128 ]; echo $?)" "$(cat "$lh_out")"
lh_run p11 $T --login --pin "$PIN" -O
lh_result truncated/list-objects-no-crash "$([ $? -lt 128 ]; echo $?)" "$(cat "$lh_out")"
lh_run p11 $T --login --pin "$PIN" --read-object --type data --label victim -o "$lh_tmp/read.out"
st=$?
[ $st -lt 128 ] && { [ $st -ne 0 ] || cmp -s "$lh_tmp/read.out" "$lh_tmp/victim"; }
lh_result truncated/read-fails-or-correct $? "status $st" "$(cat "$lh_out")"

: > "$db"
lh_run p11 -L
lh_result empty-file/list-slots-no-crash "$([ $? -lt 128 ]; echo $?)" "$(cat "$lh_out")"

cp "$lh_tmp/good.db" "$db"
rm -f "$db-wal" "$db-shm"
read_ok restored/victim victim "$lh_tmp/victim" --login --pin "$PIN"
read_ok restored/bystander bystander "$lh_tmp/bystander" --login --pin "$PIN"
read_ok restored/public pub "$lh_tmp/pub"

lh_finish
