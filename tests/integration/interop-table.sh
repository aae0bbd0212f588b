#!/bin/bash
# interop-table.sh - keeps the README's interoperability table honest
# (issue 6, item 4).  Each row between the <!-- interop-table --> markers
# names a program, its Debian package, the upstream version it was tested
# with, what is tested, the test script and the result.  This script fails
# when:
#   - a package is installed in a version whose upstream part does not
#     start with the table's version (the table is stale: update it after
#     checking the program with the new version);
#   - a row names a test script that does not exist or is not run by make
#     check, or a result other than "pass";
#   - a script of tests/integration/ has no row.
# A package that is not installed skips its row (CI installs all of them,
# and there a missing package fails, as in every integration test).
. "$(dirname "$0")/../interop/lib.sh"

src=${LH_SRCDIR:-$(dirname "$0")/../..}
readme=$src/README.md
am=$src/tests/integration/integration.am
[ -f "$readme" ] || { lh_not_ok readme "no $readme"; lh_finish; }

rows=$(sed -n '/<!-- interop-table -->/,/<!-- \/interop-table -->/p' "$readme" |
	grep '^| ' | grep -v '^| Program' | grep -v '^|---')
[ -n "$rows" ] && lh_ok table/present || lh_not_ok table/present "no rows between the markers in README.md"

while IFS='|' read -r _ prog pkg ver what script result _; do
	prog=$(echo $prog); pkg=$(echo $pkg | tr -d '`'); ver=$(echo $ver)
	script=$(echo $script | tr -d '`'); result=$(echo $result)
	[ -n "$prog" ] || continue
	if [ -f "$src/$script" ] && grep -q "$script" "$src"/tests/*/*.am; then
		lh_ok "row/$pkg/script"
	else
		lh_not_ok "row/$pkg/script" "$script is missing or not in make check"
	fi
	[ "$result" = pass ] && lh_ok "row/$pkg/result" ||
		lh_not_ok "row/$pkg/result" "result '$result' (a row claims pass only)"
	have=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null)
	if [ -z "$have" ]; then
		if [ "${CI:-}" = true ]; then
			lh_not_ok "row/$pkg/version" "package $pkg is not installed"
		else
			lh_skip "row/$pkg/version" "package $pkg is not installed"
		fi
		continue
	fi
	up=${have#*:}; up=${up%%-*}; up=${up%%+*}; up=${up%%~*}
	case $up in
	"$ver"*) lh_ok "row/$pkg/version" ;;
	*) lh_not_ok "row/$pkg/version" "installed $pkg $have (upstream $up), table says $ver: re-check and update README.md" ;;
	esac
done <<< "$rows"

for s in $(grep -o 'tests/integration/[a-z0-9-]*\.sh' "$am" | sort -u); do
	case $s in
	tests/integration/interop-table.sh|tests/integration/lib.sh) continue ;;
	esac
	printf '%s\n' "$rows" | grep -q "$s" && lh_ok "covered/$(basename "$s" .sh)" ||
		lh_not_ok "covered/$(basename "$s" .sh)" "$s has no row in the README table"
done
lh_finish
