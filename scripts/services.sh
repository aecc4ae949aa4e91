#!/usr/bin/env bash
# Dev/test backing services for zimport: Redis + PostgreSQL.
#
#   scripts/services.sh up      make Redis and PostgreSQL available, write .run/env
#   scripts/services.sh down    stop what "up" started
#   scripts/services.sh env     print .run/env
#   scripts/services.sh status  say what runs
#
# "up" picks, in this order:
#   external  ZIMPORT_DATABASE_URL and ZIMPORT_REDIS_ADDR are set and reachable: reuse them
#   docker    a Docker engine works: docker compose up -d redis postgres
#   local     private instances under .run/ (Redis 127.0.0.1:56379, PostgreSQL 127.0.0.1:55432),
#             installing redis-server / postgresql with apt-get if missing (root only)
# ZIMPORT_SERVICES_MODE=local|docker forces a mode. SERVICES_TIMEOUT (seconds, default 60)
# bounds every wait.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="$ROOT/.run"
ENV_FILE="$RUN/env"
MODE_FILE="$RUN/mode"
TIMEOUT="${SERVICES_TIMEOUT:-60}"

LOCAL_HOST=127.0.0.1
REDIS_PORT=56379
PG_PORT=55432
REDIS_DIR="$RUN/redis"
PG_DATA="$RUN/pg"
PG_RUNDIR="$RUN/pgrun" # unix socket + server log, owned by the postgres OS user
PG_LOG="$PG_RUNDIR/postgres.log"

# As root, PostgreSQL runs as the postgres OS user, which must reach its
# directories. When it cannot traverse the path of this checkout (e.g. a clone
# inside a 0700 directory), they live under /var/tmp instead, one per checkout.
if [[ $(id -u) -eq 0 ]] && id postgres >/dev/null 2>&1 && ! runuser -u postgres -- test -x "$ROOT" 2>/dev/null; then
	PG_BASE="/var/tmp/zimport-pg-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
	mkdir -p "$PG_BASE"
	chmod 755 "$PG_BASE"
	PG_DATA="$PG_BASE/pg"
	PG_RUNDIR="$PG_BASE/pgrun"
	PG_LOG="$PG_RUNDIR/postgres.log"
fi

DOCKER_PG_PORT="${ZIMPORT_PG_PORT:-5432}"
DOCKER_REDIS_PORT="${ZIMPORT_REDIS_PORT:-6379}"

log() { printf 'services: %s\n' "$*" >&2; }
die() {
	printf 'services: error: %s\n' "$*" >&2
	exit 1
}

is_root() { [[ "$(id -u)" -eq 0 ]]; }

# ---------------------------------------------------------------------------
# helpers

# redis_cmd HOST PORT CMD... : send one inline command, print the first reply line.
# Uses bash's /dev/tcp so it works without redis-cli.
redis_cmd() {
	local host=$1 port=$2
	shift 2
	# shellcheck disable=SC2016 # expanded by the inner bash
	timeout 3 bash -c '
		exec 3<>"/dev/tcp/$1/$2" || exit 1
		shift 2
		printf "%s\r\n" "$*" >&3
		IFS= read -r line <&3 || exit 1
		printf "%s\n" "$line" | tr -d "\r"
	' _ "$host" "$port" "$@" 2>/dev/null
}

redis_ping() { [[ "$(redis_cmd "$1" "$2" PING || true)" == "+PONG" ]]; }

# split_redis_addr ADDR -> sets R_HOST, R_PORT (accepts host:port, [v6]:port, redis://[user@]host:port[/db])
split_redis_addr() {
	local a=$1
	a=${a#redis://}
	a=${a##*@}
	a=${a%%/*}
	R_PORT=6379
	if [[ $a =~ ^\[(.*)\]:([0-9]+)$ ]]; then # [v6]:port
		a=${BASH_REMATCH[1]}
		R_PORT=${BASH_REMATCH[2]}
	elif [[ $a =~ ^([^:]*):([0-9]+)$ ]]; then # host:port
		a=${BASH_REMATCH[1]}
		R_PORT=${BASH_REMATCH[2]}
	fi
	a=${a#[}
	a=${a%]}
	R_HOST=${a:-127.0.0.1}
}

# pg_query URL SQL : run SQL, print unaligned tuples.
pg_query() {
	PGCONNECT_TIMEOUT=5 "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}

find_psql() {
	PSQL=""
	if [[ -n "${PG_BIN:-}" && -x "$PG_BIN/psql" ]]; then
		PSQL="$PG_BIN/psql"
	elif command -v psql >/dev/null 2>&1; then
		PSQL="$(command -v psql)"
	else
		local p
		for p in $(printf '%s\n' /usr/lib/postgresql/*/bin/psql | sort -rV); do
			[[ -x $p ]] && {
				PSQL=$p
				break
			}
		done
	fi
}

pg_reachable() {
	local url=$1
	find_psql
	if [[ -n $PSQL ]]; then
		pg_query "$url" 'select 1' >/dev/null 2>&1
	elif command -v pg_isready >/dev/null 2>&1; then
		pg_isready -q -t 5 -d "$url" >/dev/null 2>&1
	else
		return 1
	fi
}

# wait_for DESCRIPTION LOGFILE CMD... : poll CMD until it succeeds or TIMEOUT passes.
wait_for() {
	local what=$1 logfile=$2
	shift 2
	local deadline=$((SECONDS + TIMEOUT))
	until "$@"; do
		if ((SECONDS >= deadline)); then
			printf 'services: error: %s did not become ready within %ss\n' "$what" "$TIMEOUT" >&2
			if [[ -n $logfile && -r $logfile ]]; then
				printf 'services: last lines of %s:\n' "$logfile" >&2
				tail -n 25 "$logfile" >&2 || true
			fi
			exit 1
		fi
		sleep 0.5
	done
}

ensure_run_dir() {
	mkdir -p "$RUN"
	chmod 755 "$RUN" # the postgres OS user must be able to traverse it
}

apt_install() {
	local pkg=$1 why=$2
	if ! is_root; then
		die "$why is missing and we are not root, so it cannot be installed here. Install it (e.g. 'sudo apt-get install -y $pkg'), or set ZIMPORT_DATABASE_URL / ZIMPORT_REDIS_ADDR to running servers, then retry."
	fi
	command -v apt-get >/dev/null 2>&1 || die "$why is missing and apt-get is not available; install $pkg manually"
	log "installing $pkg with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	ensure_run_dir
	{ apt-get update -qq && apt-get install -y -qq "$pkg"; } >"$RUN/apt.log" 2>&1 || {
		tail -n 20 "$RUN/apt.log" >&2
		die "apt-get install $pkg failed (full log: .run/apt.log)"
	}
}

# system token + encryption key, generated once
ensure_secrets() {
	ensure_run_dir
	if [[ ! -s "$RUN/system-token" ]]; then
		(
			umask 077
			printf 'dev-%s\n' "$(head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')" >"$RUN/system-token"
		)
		log "generated system token in .run/system-token"
	fi
	if [[ ! -s "$RUN/encryption-key" ]]; then
		(
			umask 077
			head -c 32 /dev/urandom | base64 -w0 >"$RUN/encryption-key"
			echo >>"$RUN/encryption-key"
		)
		log "generated encryption key in .run/encryption-key"
	fi
}

sq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# write_env DB_URL REDIS_ADDR TEST_DB_URL
write_env() {
	ensure_secrets
	local token key tmp
	token="$(tr -d '\n' <"$RUN/system-token")"
	key="$(tr -d '\n' <"$RUN/encryption-key")"
	tmp="$ENV_FILE.tmp.$$"
	(
		umask 077
		{
			echo "# generated by scripts/services.sh ($(cat "$MODE_FILE" 2>/dev/null || echo '?') mode); source it: . ./.run/env"
			echo "export ZIMPORT_DATABASE_URL=$(sq "$1")"
			echo "export ZIMPORT_REDIS_ADDR=$(sq "$2")"
			echo "export ZIMPORT_TEST_DATABASE_URL=$(sq "$3")"
			echo "export ZIMPORT_TEST_REDIS_ADDR=$(sq "$2")"
			echo "export ZIMPORT_SYSTEM_TOKENS=$(sq "$token")"
			echo "export ZIMPORT_ENCRYPTION_KEY=$(sq "$key")"
		} >"$tmp"
	)
	mv -f "$tmp" "$ENV_FILE"
	log "wrote .run/env"
}

# Are the given env values exactly the ones our own .run/env holds? (then the
# caller merely sourced .run/env and is not pointing us at external servers)
env_is_ours() {
	[[ -f $ENV_FILE && -f $MODE_FILE ]] || return 1
	local mode
	mode="$(cat "$MODE_FILE")"
	[[ $mode == local || $mode == docker ]] || return 1
	local ours
	# shellcheck disable=SC1090
	ours="$(
		unset ZIMPORT_DATABASE_URL ZIMPORT_REDIS_ADDR
		. "$ENV_FILE"
		printf '%s\n%s' "${ZIMPORT_DATABASE_URL:-}" "${ZIMPORT_REDIS_ADDR:-}"
	)"
	[[ $ours == "${ZIMPORT_DATABASE_URL}"$'\n'"${ZIMPORT_REDIS_ADDR}" ]]
}

# ---------------------------------------------------------------------------
# external

up_external() {
	local db=$ZIMPORT_DATABASE_URL redis=$ZIMPORT_REDIS_ADDR test_db=${ZIMPORT_TEST_DATABASE_URL:-}
	if [[ -z $test_db ]]; then
		local base=${db%%\?*} query=""
		[[ $db == *\?* ]] && query="?${db#*\?}"
		if [[ $base =~ ^postgres(ql)?://[^/]+/[^/]*$ ]]; then
			test_db="${base%/*}/zimport_test$query"
			if [[ -z "$(pg_query "$db" "select 1 from pg_database where datname = 'zimport_test'" 2>/dev/null)" ]]; then
				if pg_query "$db" 'create database zimport_test' >/dev/null 2>&1; then
					log "created database zimport_test"
				else
					log "warning: could not create database zimport_test on the external server; tests need it"
				fi
			fi
		else
			log "warning: cannot derive ZIMPORT_TEST_DATABASE_URL from ZIMPORT_DATABASE_URL; set it explicitly"
			test_db=$db
		fi
	fi
	echo external >"$MODE_FILE"
	log "using external PostgreSQL and Redis from the environment"
	write_env "$db" "$redis" "$test_db"
}

# ---------------------------------------------------------------------------
# docker

docker_works() {
	command -v docker >/dev/null 2>&1 &&
		timeout 15 docker info >/dev/null 2>&1 &&
		docker compose version >/dev/null 2>&1
}

compose() { (cd "$ROOT" && docker compose "$@"); }

up_docker() {
	echo docker >"$MODE_FILE"
	log "starting redis and postgres with docker compose"
	compose up -d redis postgres >&2
	wait_for "postgres (docker)" "" compose exec -T postgres pg_isready -q -U zimport -d zimport
	wait_for "redis (docker)" "" redis_ping 127.0.0.1 "$DOCKER_REDIS_PORT"
	if [[ -z "$(compose exec -T postgres psql -U zimport -d zimport -Atc "select 1 from pg_database where datname = 'zimport_test'")" ]]; then
		compose exec -T postgres psql -q -U zimport -d zimport -c 'create database zimport_test' >&2
	fi
	local url="postgres://zimport:zimport@127.0.0.1:$DOCKER_PG_PORT"
	write_env "$url/zimport?sslmode=disable" "127.0.0.1:$DOCKER_REDIS_PORT" "$url/zimport_test?sslmode=disable"
}

# ---------------------------------------------------------------------------
# local private instances

find_pg_bin() {
	PG_BIN=""
	local v
	if [[ -f "$PG_DATA/PG_VERSION" ]]; then # an existing cluster needs its own major version
		v="$(cat "$PG_DATA/PG_VERSION")"
		if [[ -x "/usr/lib/postgresql/$v/bin/initdb" ]]; then
			PG_BIN="/usr/lib/postgresql/$v/bin"
			return 0
		fi
	fi
	local c
	for c in $(printf '%s\n' /usr/lib/postgresql/*/bin/initdb | sort -rV); do
		if [[ -x $c ]]; then
			PG_BIN="$(dirname "$c")"
			return 0
		fi
	done
	if command -v initdb >/dev/null 2>&1; then
		PG_BIN="$(dirname "$(command -v initdb)")"
		return 0
	fi
	return 1
}

# as_pg CMD... : run as the postgres OS user when root (PostgreSQL refuses root).
as_pg() {
	if is_root; then
		# from /, which the postgres user can always enter
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

local_pg_ready() { "$PG_BIN/pg_isready" -q -h "$LOCAL_HOST" -p "$PG_PORT" -t 2 >/dev/null 2>&1; }

local_pg_conn() { printf 'host=%s port=%s user=postgres dbname=postgres sslmode=disable' "$LOCAL_HOST" "$PG_PORT"; }

start_local_redis() {
	if redis_ping "$LOCAL_HOST" "$REDIS_PORT"; then
		log "redis already running on $LOCAL_HOST:$REDIS_PORT"
		return 0
	fi
	command -v redis-server >/dev/null 2>&1 || apt_install redis-server "redis-server"
	command -v redis-server >/dev/null 2>&1 || die "redis-server still not found after installing"
	mkdir -p "$REDIS_DIR"
	log "starting redis on $LOCAL_HOST:$REDIS_PORT"
	redis-server --bind "$LOCAL_HOST" --port "$REDIS_PORT" \
		--daemonize yes --save '' --appendonly no \
		--dir "$REDIS_DIR" --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" >&2 ||
		die "redis-server failed to start; see $REDIS_DIR/redis.log"
}

start_local_pg() {
	if ! find_pg_bin; then
		apt_install postgresql "PostgreSQL (initdb)"
		find_pg_bin || die "initdb still not found after installing postgresql"
	fi
	find_psql
	if local_pg_ready; then
		log "postgres already running on $LOCAL_HOST:$PG_PORT"
		return 0
	fi

	if is_root; then
		id postgres >/dev/null 2>&1 || die "the 'postgres' OS user does not exist (PostgreSQL cannot run as root)"
	fi
	mkdir -p "$PG_DATA" "$PG_RUNDIR"
	if is_root; then
		# our dirs must belong to postgres (also fixes a .run/pg made by a non-root run)
		[[ "$(stat -c %U "$PG_DATA")" == postgres ]] || chown -R postgres:postgres "$PG_DATA"
		[[ "$(stat -c %U "$PG_RUNDIR")" == postgres ]] || chown -R postgres:postgres "$PG_RUNDIR"
		as_pg test -w "$PG_RUNDIR" ||
			die "the postgres OS user cannot write $PG_RUNDIR; make every parent directory of $ROOT traversable (chmod o+x)"
	fi

	if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
		log "initializing postgres data directory $PG_DATA ($("$PG_BIN/postgres" --version | awk '{print $3}'))"
		# C collation, but a UTF-8 LC_CTYPE: lower() must fold every letter,
		# not ASCII only, for user names and domains to be unique ignoring case.
		local ctype=C.UTF-8
		locale -a 2>/dev/null | grep -qix 'c.utf-\?8' || ctype=C
		as_pg "$PG_BIN/initdb" -D "$PG_DATA" --auth=trust -U postgres -E UTF8 --no-locale --lc-ctype="$ctype" >"$RUN/initdb.log" 2>&1 || {
			tail -n 20 "$RUN/initdb.log" >&2
			die "initdb failed (full log: .run/initdb.log)"
		}
		# settings live in zimport.conf (rewritten on every start)
		printf "\n# zimport dev settings\ninclude_if_exists = 'zimport.conf'\n" |
			as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
	fi
	local conf
	conf="$(
		printf "listen_addresses = '%s'\n" "$LOCAL_HOST"
		printf 'port = %s\n' "$PG_PORT"
		printf "unix_socket_directories = '%s'\n" "${PG_RUNDIR//\'/\'\'}"
		printf 'max_connections = 200\n'
		printf 'synchronous_commit = off\n'
	)"
	printf '%s\n' "$conf" | as_pg tee "$PG_DATA/zimport.conf" >/dev/null

	log "starting postgres on $LOCAL_HOST:$PG_PORT"
	as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t "$TIMEOUT" start >/dev/null 2>&1 || {
		tail -n 25 "$PG_LOG" >&2 2>/dev/null || true
		die "postgres failed to start (log: $PG_LOG)"
	}
}

setup_local_db() {
	local conn
	conn="$(local_pg_conn)"
	PGCONNECT_TIMEOUT=5 "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$conn" >/dev/null <<'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'zimport') THEN
    CREATE ROLE zimport LOGIN CREATEDB PASSWORD 'zimport';
  ELSE
    ALTER ROLE zimport LOGIN CREATEDB PASSWORD 'zimport';
  END IF;
END
$$;
SELECT 'CREATE DATABASE zimport OWNER zimport'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'zimport') \gexec
SELECT 'CREATE DATABASE zimport_test OWNER zimport'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'zimport_test') \gexec
SQL
}

up_local() {
	ensure_run_dir
	echo local >"$MODE_FILE"
	start_local_redis
	start_local_pg
	wait_for "redis on $LOCAL_HOST:$REDIS_PORT" "$REDIS_DIR/redis.log" redis_ping "$LOCAL_HOST" "$REDIS_PORT"
	wait_for "postgres on $LOCAL_HOST:$PG_PORT" "$PG_LOG" local_pg_ready
	setup_local_db || die "could not create role/databases on the local postgres"
	local url="postgres://zimport:zimport@$LOCAL_HOST:$PG_PORT"
	write_env "$url/zimport?sslmode=disable" "$LOCAL_HOST:$REDIS_PORT" "$url/zimport_test?sslmode=disable"
}

down_local() {
	if [[ -f "$PG_DATA/PG_VERSION" ]] && find_pg_bin; then
		if as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
			log "stopping postgres"
			as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t "$TIMEOUT" stop >/dev/null
		fi
	fi
	if redis_ping "$LOCAL_HOST" "$REDIS_PORT"; then
		log "stopping redis"
		if command -v redis-cli >/dev/null 2>&1; then
			redis-cli -h "$LOCAL_HOST" -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
		else
			redis_cmd "$LOCAL_HOST" "$REDIS_PORT" SHUTDOWN NOSAVE >/dev/null || true
		fi
		local deadline=$((SECONDS + TIMEOUT))
		while redis_ping "$LOCAL_HOST" "$REDIS_PORT"; do
			((SECONDS < deadline)) || die "redis on $LOCAL_HOST:$REDIS_PORT did not stop"
			sleep 0.2
		done
	fi
}

# ---------------------------------------------------------------------------
# commands

cmd_up() {
	ensure_run_dir
	local forced=${ZIMPORT_SERVICES_MODE:-}
	if [[ -z $forced && -n ${ZIMPORT_DATABASE_URL:-} && -n ${ZIMPORT_REDIS_ADDR:-} ]] && ! env_is_ours; then
		split_redis_addr "$ZIMPORT_REDIS_ADDR"
		if pg_reachable "$ZIMPORT_DATABASE_URL" && redis_ping "$R_HOST" "$R_PORT"; then
			up_external
			return
		fi
		log "ZIMPORT_DATABASE_URL / ZIMPORT_REDIS_ADDR are set but not reachable; starting our own services"
	fi
	case $forced in
	docker)
		docker_works || die "ZIMPORT_SERVICES_MODE=docker but the Docker engine does not work (docker info)"
		up_docker
		;;
	local) up_local ;;
	"")
		if docker_works; then
			up_docker
		else
			up_local
		fi
		;;
	*) die "ZIMPORT_SERVICES_MODE must be local or docker, not '$forced'" ;;
	esac
}

cmd_down() {
	local mode
	mode="$(cat "$MODE_FILE" 2>/dev/null || true)"
	if [[ $mode == docker ]]; then
		if docker_works; then
			log "docker compose down"
			compose down >&2
		else
			log "warning: mode is docker but the Docker engine does not answer"
		fi
	fi
	# stop private instances whatever the mode (they may be left from an earlier run)
	down_local
	[[ $mode == external ]] && log "external services are not ours to stop"
	return 0
}

cmd_env() {
	[[ -f $ENV_FILE ]] || die ".run/env does not exist; run: bash scripts/services.sh up"
	cat "$ENV_FILE"
}

cmd_status() {
	local mode
	mode="$(cat "$MODE_FILE" 2>/dev/null || echo none)"
	echo "mode: $mode"
	case $mode in
	docker)
		if docker_works; then compose ps; else echo "docker: engine not reachable"; fi
		;;
	external)
		# shellcheck disable=SC1090
		(
			. "$ENV_FILE"
			split_redis_addr "$ZIMPORT_REDIS_ADDR"
			if pg_reachable "$ZIMPORT_DATABASE_URL"; then echo "postgres: reachable"; else echo "postgres: NOT reachable"; fi
			if redis_ping "$R_HOST" "$R_PORT"; then echo "redis: $ZIMPORT_REDIS_ADDR reachable"; else echo "redis: $ZIMPORT_REDIS_ADDR NOT reachable"; fi
		)
		;;
	esac
	if [[ $mode != docker && $mode != external ]] || [[ -f "$PG_DATA/PG_VERSION" ]]; then
		if find_pg_bin && local_pg_ready; then
			echo "postgres: running on $LOCAL_HOST:$PG_PORT (data $PG_DATA)"
		else
			echo "postgres: not running on $LOCAL_HOST:$PG_PORT"
		fi
		if redis_ping "$LOCAL_HOST" "$REDIS_PORT"; then
			echo "redis: running on $LOCAL_HOST:$REDIS_PORT"
		else
			echo "redis: not running on $LOCAL_HOST:$REDIS_PORT"
		fi
	fi
	local pid
	pid="$(cat "$RUN/zimport.pid" 2>/dev/null || true)"
	if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
		echo "zimport: running (pid $pid, log .run/zimport.log)"
	else
		echo "zimport: not running in the background"
	fi
}

case "${1:-}" in
up) cmd_up ;;
down) cmd_down ;;
env) cmd_env ;;
status) cmd_status ;;
*)
	echo "usage: $0 up|down|env|status" >&2
	exit 2
	;;
esac
