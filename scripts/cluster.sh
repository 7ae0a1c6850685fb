# scripts/cluster.sh: start and stop private PostgreSQL 15 clusters.
# Sourced by the other scripts.  PostgreSQL refuses to run as root, so
# server programs run as the postgres OS user; the data folder lives in a
# folder of the checkout that git ignores.

PG_BIN=$(pg_config --bindir)

# as_postgres CMD...: run a server program as the postgres OS user, from /
as_postgres() {
	if [ "$(id -u)" = 0 ]; then
		(cd / && runuser -u postgres -- "$@") </dev/null
	else
		(cd / && "$@") </dev/null
	fi
}

# cluster_start DIR PORT [extra postgresql.conf lines...]
# A fresh cluster in DIR (removed first), listening on the unix socket in DIR
# and on 127.0.0.1:PORT, preloading hybridagg and pg_cron.
cluster_start() {
	local dir=$1 port=$2
	shift 2
	cluster_stop "$dir"
	rm -rf "$dir"
	mkdir -p "$dir"
	[ "$(id -u)" = 0 ] && chown postgres: "$dir"
	as_postgres "$PG_BIN/initdb" -D "$dir/data" --auth-local=trust --auth-host=scram-sha-256 \
		-U postgres --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log"; return 1; }
	{
		echo "port = $port"
		echo "listen_addresses = '127.0.0.1'"
		echo "unix_socket_directories = '$dir'"
		echo "shared_preload_libraries = 'hybridagg,pg_cron'"
		echo "cron.database_name = 'postgres'"
		echo "cron.host = '$dir'"
		echo "max_worker_processes = 16"
		echo "log_line_prefix = '%m [%p] %b '"
		for line in "$@"; do echo "$line"; done
	} >>"$dir/data/postgresql.conf"
	as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
		|| { tail -30 "$dir/server.log"; return 1; }
}

cluster_stop() {
	local dir=$1
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
	fi
}

# a TCP port nobody listens on now
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
