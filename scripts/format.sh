#!/usr/bin/env bash
# scripts/format.sh: format hybridagg's C code as PostgreSQL formats its own.
#
# This does what PostgreSQL 15's src/tools/pgindent does: pg_bsd_indent
# 2.1.1 (Debian's pg-bsd-indent package) with pgindent's options and a list
# of typedefs, plus pgindent's small fix-ups before and after it.  The
# typedefs are in typedefs.list at the top of the tree: hybridagg's own types
# and the PostgreSQL (and C library) types its code names.  pg_bsd_indent
# must know every type name, or it formats "Foo *bar" as a multiplication.
#
#   bash scripts/format.sh             format every src/*.c and src/*.h in place
#   bash scripts/format.sh --check     change nothing; list the files that
#                                      would change, with the diff, and the
#                                      lines over 80 columns (file:line), and
#                                      fail if there are any
#   bash scripts/format.sh --typedefs  rewrite typedefs.list from a debug
#                                      build of src/ (after adding a type)
#
# pg_bsd_indent wraps comments at 79 columns but never breaks a line of code:
# keep those within 80 columns by hand (tabs are 4 columns), except long
# message strings, which stay on one line so that they can be grepped.
# --check allows a line over 80 columns only if it holds a string literal
# and its statement calls one of MESSAGE_FUNCTIONS: errmsg, errdetail,
# errhint, errcontext (and their _internal, _plural and _log forms), elog,
# and the functions of hybridagg (and PostgreSQL's DefineCustom*Variable)
# that pass a string argument on to them as a message.
set -euo pipefail
cd "$(dirname "$0")/.."

INDENT=${PG_BSD_INDENT:-pg_bsd_indent}
INDENT_VERSION=2.1.1
# pgindent's options, as in PostgreSQL 15
INDENT_OPTS="-bad -bap -bbb -bc -bl -cli1 -cp33 -cdb -nce -d0 -di12 -nfc1 -i4
-l79 -lp -lpl -nip -npro -sac -tpg -ts4"
# pgindent adds bool (a macro in <stdbool.h>) and leaves out names that code
# also uses for variables, whatever some header makes of them; hybridagg
# leaves out text too: its code names variables text, never the type
TYPEDEFS_ADDED="bool"
TYPEDEFS_EXCLUDED="ANY FD_SET U abs allocfunc boolean date digit ilist interval
iterator other pointer printfunc reference string timestamp type wrap text"

# the message functions: a regular expression over a function's name
MESSAGE_FUNCTIONS='err(msg|detail|hint|context)[a-z_]*|elog|DefineCustom[A-Za-z]*Variable|refuse|refuse_construct|require_argument'

# long_lines FILE...: file:line: text of each line over 80 columns that is
# not a message line
long_lines() {
	local f
	for f in "$@"; do
		expand -t4 "$f" | awk -v file="$f" -v calls="$MESSAGE_FUNCTIONS" '
			BEGIN { call = "(^|[^A-Za-z0-9_])(" calls ")[ \t]*\\(" }
			# a statement ends at a line ending in ; { } or at a
			# directive, a blank line or the end of a comment
			{ message = message || $0 ~ call }
			length($0) > 80 && !(message && /"/) {
				printf "%s:%d: %s\n", file, NR, $0
			}
			/[;{}][ \t]*$/ || /^[ \t]*#/ || /^[ \t]*$/ || /\*\/[ \t]*$/ {
				message = 0
			}'
	done
}

need_indent() {
	if ! command -v "$INDENT" >/dev/null; then
		echo "format.sh: installing pg-bsd-indent"
		local sudo=""
		[ "$(id -u)" = 0 ] || sudo=sudo
		$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
		$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pg-bsd-indent >/dev/null
	fi
	# another version formats some constructs differently
	if ! "$INDENT" --version 2>&1 | grep -q " $INDENT_VERSION "; then
		echo "format.sh: need pg_bsd_indent $INDENT_VERSION, found: $("$INDENT" --version 2>&1)" >&2
		exit 1
	fi
}

# typedefs: every typedef a debug build of src/ sees (with the unused ones
# kept), reduced to the names that src/ spells somewhere
write_typedefs() {
	local tmp
	tmp=$(mktemp -d)
	local cc
	cc=$(pg_config --cc)
	for c in src/*.c; do
		# shellcheck disable=SC2046
		$cc -g -fno-eliminate-unused-debug-types -c $(pg_config --cppflags) \
			-I"$(pg_config --includedir-server)" -o "$tmp/$(basename "$c" .c).o" "$c"
	done
	objdump --dwarf=info "$tmp"/*.o | awk '
		/Abbrev Number/ { typedef = /DW_TAG_typedef/ }
		typedef && /DW_AT_name/ { print $NF; typedef = 0 }' | LC_ALL=C sort -u >"$tmp/all"
	cat src/*.c src/*.h | grep -oE '[A-Za-z_][A-Za-z_0-9]*' | LC_ALL=C sort -u >"$tmp/words"
	{
		LC_ALL=C comm -12 "$tmp/all" "$tmp/words"
		printf '%s\n' $TYPEDEFS_ADDED
	} | grep -vxF -f <(printf '%s\n' $TYPEDEFS_EXCLUDED) | LC_ALL=C sort -u >typedefs.list
	rm -rf "$tmp"
	echo "typedefs.list: $(wc -l <typedefs.list) names"
}

# format_file IN OUT: OUT is IN as pgindent would leave it
format_file() {
	local in=$1 out=$2
	# before: // comments become /* */; "/* ---" comments are protected from
	# being refilled, as pgindent does
	perl -0777 -pe 's!^([ \t]*)//(.*)$!$1/* $2 */!gm; s!/\* +---!/*---X_X!g' "$in" >"$out.pre"
	local err
	# shellcheck disable=SC2086
	if ! err=$("$INDENT" $INDENT_OPTS -U"$typedefs" "$out.pre" "$out.ind" 2>&1) || [ -n "$err" ]; then
		echo "format.sh: pg_bsd_indent failed on $in: $err" >&2
		return 1
	fi
	# after: undo the protection; a tab between two comments run together;
	# one space before the "*" of a pointer return type on a line of its own
	perl -0777 -pe 's!/\*---X_X!/* ---!g; s!\*/(/\*.*\*/)$!*/\t$1!gm; s!^([A-Za-z_]\S*)[ \t]+\*$!$1 *!gm' \
		"$out.ind" >"$out"
	rm -f "$out.pre" "$out.ind"
}

mode=${1:-format}
case "$mode" in
	--typedefs)
		write_typedefs
		exit 0
		;;
	format | --check) ;;
	*)
		echo "usage: bash scripts/format.sh [--check | --typedefs]" >&2
		exit 2
		;;
esac

need_indent
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
typedefs=$work/typedefs
{
	cat typedefs.list
	printf '%s\n' $TYPEDEFS_ADDED
} | grep -vxF -f <(printf '%s\n' $TYPEDEFS_EXCLUDED) >"$typedefs"

changed=()
for f in src/*.c src/*.h; do
	format_file "$f" "$work/out"
	if ! cmp -s "$f" "$work/out"; then
		changed+=("$f")
		if [ "$mode" = --check ]; then
			diff -u "$f" "$work/out" --label "$f" --label "$f (formatted)" || true
		else
			cat "$work/out" >"$f"
		fi
	fi
done

if [ "$mode" = --check ]; then
	long=$(long_lines src/*.c src/*.h)
	if [ -n "$long" ]; then
		echo "$long"
		echo "format.sh: lines over 80 columns (tabs are 4), other than message strings: $(echo "$long" | wc -l)" >&2
	fi
	if [ ${#changed[@]} -gt 0 ]; then
		echo "format.sh: not formatted (run bash scripts/format.sh): ${changed[*]}" >&2
	fi
	if [ -n "$long" ] || [ ${#changed[@]} -gt 0 ]; then
		exit 1
	fi
	echo "format.sh: all $(ls src/*.c src/*.h | wc -l) files formatted, no line over 80 columns but message strings"
else
	echo "format.sh: formatted ${#changed[@]} files${changed[*]:+: ${changed[*]}}"
fi
