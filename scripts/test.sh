#!/usr/bin/env bash
# Every test of hybridagg: build and install (warnings are errors), then
#   0. the format check (scripts/format.sh --check) and the exported
#      symbols of hybridagg.so (src/export.h);
#   1. pg_regress (sql/, expected/) and the isolation specs (specs/) against
#      a private cluster with the settings of test/regress.conf (it preloads
#      hybridagg; default TimeZone Asia/Kathmandu, fold interval 200ms);
#   2. the TAP tests (test/t/*.pl): concurrency, crashes, standby, pg_cron,
#      JDBC, each on clusters of its own;
#   3. the benchmark harness in quick mode (bench/run --quick): a smoke test
#      that every figure runs end to end and that W5 finds the view exact;
#      it never checks timings;
#
#   bash scripts/test.sh              everything (fast, then slow)
#   bash scripts/test.sh fast         0 and 1: checks, pg_regress and isolation, a few minutes
#   bash scripts/test.sh slow         2 and 3: TAP, then the benchmark smoke test
#   bash scripts/test.sh regress      the same as fast  (REGRESS=name for one file)
#   bash scripts/test.sh tap          only TAP           (TAP=test/t/010_x.pl for one)
#   bash scripts/test.sh bench        only the benchmark smoke test
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source scripts/setup.sh
source scripts/cluster.sh

what=${1:-all}
case $what in
all | fast | slow | regress | tap | bench) ;;
*) echo "usage: bash scripts/test.sh [all | fast | slow | regress | tap | bench]" >&2; exit 2 ;;
esac
install_dependencies
# warnings are errors here and in CI (not in a packager's build)
build_and_install COPT=-Werror

# the tests run as the postgres OS user (initdb refuses root): on a copy
work=$(mktemp -d /tmp/hybridagg-test.XXXXXX)
trap 'cluster_stop "$work/cluster"; rm -rf "$work"' EXIT
mkdir "$work/tree"
tar --exclude=./.git --exclude=./.cluster --exclude=./.bench --exclude=./tmp_check -cf - . | tar -xf - -C "$work/tree"
chmod 755 "$work"
[ "$(id -u)" = 0 ] && chown -R postgres: "$work"

failed=0

if [[ $what =~ ^(all|fast)$ ]]; then
	echo "== format and exports"
	bash scripts/format.sh --check || failed=1
	# only what PostgreSQL looks up by name is exported (src/export.h)
	exported=$(nm -D --defined-only hybridagg.so | awk '{ print $3 }' |
		grep -vxE 'Pg_magic_func|_PG_init|(pg_finfo_)?hybridagg_[a-z_0-9]+' || true)
	if [ -n "$exported" ]; then
		echo "hybridagg.so exports more than its entry points:" $exported
		failed=1
	fi
fi

if [[ $what =~ ^(all|fast|regress)$ ]]; then
	echo "== pg_regress"
	port=$(free_port)
	cluster_start "$work/cluster" "$port" "include '$work/tree/test/regress.conf'"
	args=()
	[ -n "${REGRESS:-}" ] && args+=("REGRESS=$REGRESS")
	if ! as_postgres env PGHOST="$work/cluster" PGPORT="$port" PGUSER=postgres \
		make -C "$work/tree" -s installcheck TAP_TESTS= "${args[@]}"; then
		cat "$work/tree/regression.diffs" "$work/tree/output_iso/regression.diffs" 2>/dev/null || true
		failed=1
	fi
	# keep what the tests printed, for a look or a new expected file
	rm -rf "$ROOT/results" "$ROOT/output_iso"
	cp -r "$work/tree/results" "$ROOT/results" 2>/dev/null || true
	cp -r "$work/tree/output_iso" "$ROOT/output_iso" 2>/dev/null || true
	cp "$work/tree/regression.diffs" "$ROOT/" 2>/dev/null || true
	cp "$work/tree/output_iso/regression.diffs" "$ROOT/isolation.diffs" 2>/dev/null || true
	cluster_stop "$work/cluster"
fi

if [[ $what =~ ^(all|slow|tap)$ ]]; then
	echo "== TAP tests"
	args=()
	[ -n "${TAP:-}" ] && args+=("PROVE_TESTS=$TAP")
	if ! as_postgres make -C "$work/tree" -s installcheck REGRESS= ISOLATION= PROVE_FLAGS="-I ./test/perl --timer" "${args[@]}"; then
		for log in "$work"/tree/tmp_check/log/regress_log_*; do
			[ -f "$log" ] && { echo "---- $log"; tail -60 "$log"; }
		done
		failed=1
	fi
fi

if [[ $what =~ ^(all|slow|bench)$ ]]; then
	echo "== benchmark harness, quick mode"
	bash bench/run --quick || failed=1
fi

[ $failed = 0 ] && echo "== all tests passed" || { echo "== TESTS FAILED"; exit 1; }
