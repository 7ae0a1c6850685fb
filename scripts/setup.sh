# scripts/setup.sh: install what hybridagg needs on Debian 12, build it and
# install it.  Sourced by demo.sh and test.sh; works as root (CI) or as a
# user with sudo.

PACKAGES="make gcc postgresql-15 postgresql-server-dev-15 postgresql-15-cron
libpostgresql-jdbc-java libipc-run-perl openjdk-17-jdk-headless gnuplot-nox python3
postgresql-15-hll postgresql-15-tdigest pg-bsd-indent"

install_dependencies() {
	local missing=()
	for p in $PACKAGES; do
		dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "hybridagg: installing ${missing[*]}"
	local sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# build_and_install [make arguments]: test.sh passes COPT=-Werror
build_and_install() {
	local sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	make -s "$@"
	$sudo make -s install >/dev/null
}
