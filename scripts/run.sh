#!/usr/bin/env bash
# Run the zimport stack (API + worker in one process) against the services of
# scripts/services.sh. Expects bin/zimport to be built (make build).
#
#   scripts/run.sh [run]  migrate, start "zimport all", wait for /readyz, run the
#                         demo, print how to use it, then stay in the foreground
#                         (Ctrl-C stops the server cleanly)
#   scripts/run.sh up     migrate, start "zimport all" in the background
#                         (log .run/zimport.log, pid .run/zimport.pid), wait for /readyz
#   scripts/run.sh stop   stop the background server, if any
#
# ZIMPORT_HTTP_ADDR defaults to 127.0.0.1:8080; ZIMPORT_READY_TIMEOUT (s) to 60.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RUN=.run
BIN="${BIN:-bin/zimport}"
LOG="$RUN/zimport.log"
PIDFILE="$RUN/zimport.pid"
PATFILE="$RUN/demo-pat"
READY_TIMEOUT="${ZIMPORT_READY_TIMEOUT:-60}"

log() { printf 'run: %s\n' "$*" >&2; }
die() {
	printf 'run: error: %s\n' "$*" >&2
	exit 1
}

SERVER_PID=""
TAIL_PID=""
STOPPING=0

load_env() {
	[[ -f $RUN/env ]] || die "$RUN/env is missing; run: bash scripts/services.sh up (or make services)"
	# shellcheck disable=SC1091
	. ./.run/env
	export ZIMPORT_HTTP_ADDR="${ZIMPORT_HTTP_ADDR:-127.0.0.1:8080}"
	local hp=$ZIMPORT_HTTP_ADDR
	case $hp in
	:*) hp="127.0.0.1$hp" ;;
	0.0.0.0:*) hp="127.0.0.1:${hp#0.0.0.0:}" ;;
	"[::]:"*) hp="127.0.0.1:${hp##*:}" ;;
	esac
	API_URL="http://$hp"
	export ZIMPORT_API_URL="$API_URL"
	TOKEN="${ZIMPORT_SYSTEM_TOKENS%%,*}"
	# Local import files (dataOrgsLocal) are read from here; the demo writes one.
	export ZIMPORT_LOCAL_IMPORT_DIR="${ZIMPORT_LOCAL_IMPORT_DIR:-$PWD/$RUN/imports}"
	mkdir -p "$ZIMPORT_LOCAL_IMPORT_DIR"
	[[ -x $BIN ]] || die "$BIN not found; run: make build"
}

running_pid() {
	local pid
	pid="$(cat "$PIDFILE" 2>/dev/null || true)"
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && printf '%s' "$pid"
}

ready() { curl -fsS -o /dev/null --max-time 2 "$API_URL/readyz" 2>/dev/null; }

show_log_tail() {
	if [[ -s $LOG ]]; then
		printf 'run: last lines of %s:\n' "$LOG" >&2
		tail -n 30 "$LOG" >&2 || true
	fi
}

# start_server run|up : migrate, start "zimport all", wait for /readyz.
start_server() {
	local how=$1 pid
	if pid="$(running_pid)"; then
		die "zimport already runs in the background (pid $pid); stop it with: make down"
	fi
	if ready; then
		die "something already answers on $API_URL/readyz; stop it or set ZIMPORT_HTTP_ADDR"
	fi

	log "migrating the database"
	"$BIN" migrate || die "$BIN migrate failed"

	[[ -f $LOG ]] && mv -f "$LOG" "$LOG.1"
	log "starting $BIN all on $ZIMPORT_HTTP_ADDR (log: $LOG)"
	if [[ $how == up ]]; then
		# own session: survives the terminal, not hit by Ctrl-C on make
		setsid nohup "$BIN" all >>"$LOG" 2>&1 </dev/null &
	else
		"$BIN" all >>"$LOG" 2>&1 </dev/null &
	fi
	SERVER_PID=$!
	echo "$SERVER_PID" >"$PIDFILE"

	local deadline=$((SECONDS + READY_TIMEOUT))
	until ready; do
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			rm -f "$PIDFILE"
			show_log_tail
			die "zimport exited before it became ready"
		fi
		if ((SECONDS >= deadline)); then
			show_log_tail
			kill -TERM "$SERVER_PID" 2>/dev/null || true
			rm -f "$PIDFILE"
			die "zimport did not answer $API_URL/readyz within ${READY_TIMEOUT}s"
		fi
		sleep 0.5
	done
	log "ready: $API_URL"
}

print_info() {
	local pat=${1:-}
	cat <<EOF

  zimport is running
    API URL       $API_URL
    system token  $TOKEN
    server log    $LOG
EOF
	if [[ -n $pat ]]; then
		cat <<EOF
    demo PAT      $pat

  Submit an import yourself:

    curl -sS -X POST '$API_URL/import' \\
      -H 'Authorization: Bearer $pat' \\
      -H 'Content-Type: application/json' \\
      --data-binary @examples/import.json

EOF
	else
		echo
	fi
}

demo_pat() {
	local pat=""
	if [[ -s $PATFILE ]]; then
		pat="$(sed -n 's/^PAT=//p' "$PATFILE" | tail -n 1)"
		[[ -n $pat ]] || pat="$(head -n 1 "$PATFILE")"
	fi
	if [[ -z $pat && -s $RUN/demo.err ]]; then
		pat="$(sed -n 's/^.*PAT=\([^[:space:]]*\).*$/\1/p' "$RUN/demo.err" | tail -n 1)"
	fi
	printf '%s' "$pat" | tr -d '\r\n'
}

stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 150; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.2
	done
	log "zimport (pid $pid) did not stop within 30s; killing it"
	kill -KILL "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317 # invoked by traps
cleanup() {
	if [[ -n $TAIL_PID ]]; then kill "$TAIL_PID" 2>/dev/null || true; fi
	if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
		log "stopping zimport (pid $SERVER_PID)"
		stop_pid "$SERVER_PID"
	fi
	rm -f "$PIDFILE"
}

# forward Ctrl-C / SIGTERM to the server: first TERM (graceful), then KILL
# shellcheck disable=SC2317 # invoked by traps
on_signal() {
	STOPPING=$((STOPPING + 1))
	if ((STOPPING == 1)); then
		log "stopping zimport (Ctrl-C again to kill)"
		kill -TERM "$SERVER_PID" 2>/dev/null || true
	else
		kill -KILL "$SERVER_PID" 2>/dev/null || true
	fi
}

cmd_run() {
	load_env
	trap cleanup EXIT
	start_server run

	log "running the demo"
	rm -f "$PATFILE" "$RUN/demo.err"
	# stdout as is, stderr to the terminal and to .run/demo.err (for PAT=...)
	if ! { ZIMPORT_DEMO_PAT_FILE="$PATFILE" "$BIN" demo 2>&1 1>&3 | tee "$RUN/demo.err" >&2; } 3>&1; then
		show_log_tail
		die "the demo failed"
	fi
	print_info "$(demo_pat)"

	trap on_signal INT TERM
	log "following $LOG; Ctrl-C stops the server"
	tail -n 0 -F "$LOG" 2>/dev/null &
	TAIL_PID=$!

	local rc=0
	while kill -0 "$SERVER_PID" 2>/dev/null; do
		wait "$SERVER_PID" 2>/dev/null || true
	done
	wait "$SERVER_PID" 2>/dev/null || rc=$?
	kill "$TAIL_PID" 2>/dev/null || true
	TAIL_PID=""
	rm -f "$PIDFILE"
	if ((STOPPING > 0)) && ((rc == 0 || rc == 130 || rc == 143)); then
		log "zimport stopped"
		exit 0
	fi
	((rc == 0)) || show_log_tail
	log "zimport exited with status $rc"
	exit "$rc"
}

cmd_up() {
	load_env
	start_server up
	print_info ""
	echo "  Stop it with: make down"
}

cmd_stop() {
	local pid
	if pid="$(running_pid)"; then
		log "stopping zimport (pid $pid)"
		stop_pid "$pid"
	else
		log "zimport is not running in the background"
	fi
	rm -f "$PIDFILE"
}

case "${1:-run}" in
run) cmd_run ;;
up) cmd_up ;;
stop) cmd_stop ;;
*)
	echo "usage: $0 [run|up|stop]" >&2
	exit 2
	;;
esac
