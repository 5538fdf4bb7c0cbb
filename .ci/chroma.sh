#!/usr/bin/env bash
# Start (or reuse) a throwaway Chroma server (`chroma run`, from the installed chromadb) for the knowledge tests
# and print the address for them:
#   eval "$(bash .ci/chroma.sh)"          # sets DEBRIEF_TEST_CHROMA=127.0.0.1:PORT
#   bash .ci/chroma.sh stop               # stops it and removes its files
# Idempotent, like .ci/postgres.sh: a second run finds the running server and prints the same address.
# Needs the project's venv (make install); CHROMA overrides the path of the chroma CLI.
set -euo pipefail

log() { echo "chroma.sh: $*" >&2; }

ROOT="${DEBRIEF_CHROMA_DIR:-${TMPDIR:-/tmp}/debrief-chroma-$(id -u)}"
CHROMA="${CHROMA:-$(cd "$(dirname "$0")/.." && pwd)/.venv/bin/chroma}"

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

print_address() {
    echo "export DEBRIEF_TEST_CHROMA=127.0.0.1:$(cat "$ROOT/port")"
}

if [ "${1:-start}" = "stop" ]; then
    if [ -f "$ROOT/pid" ]; then
        kill "$(cat "$ROOT/pid")" 2>/dev/null || true
    fi
    rm -rf "$ROOT"
    log "stopped"
    exit 0
fi

if [ -f "$ROOT/pid" ] && kill -0 "$(cat "$ROOT/pid")" 2>/dev/null && listening "$(cat "$ROOT/port")"; then
    log "reusing the server in $ROOT"
    print_address
    exit 0
fi

[ -x "$CHROMA" ] || { log "no chroma CLI at $CHROMA (run make install first)"; exit 1; }
rm -rf "$ROOT"
mkdir -p "$ROOT"
PORT=""
for candidate in $(seq 58000 58100); do
    if ! listening "$candidate"; then
        PORT="$candidate"
        break
    fi
done
[ -n "$PORT" ] || { log "no free port in 58000-58100"; exit 1; }
ANONYMIZED_TELEMETRY=False nohup "$CHROMA" run --path "$ROOT/data" --host 127.0.0.1 --port "$PORT" \
    >"$ROOT/server.log" 2>&1 </dev/null &
echo $! >"$ROOT/pid"
echo "$PORT" >"$ROOT/port"
for _ in $(seq 1 300); do
    if listening "$PORT"; then
        log "Chroma $("$CHROMA" --version 2>/dev/null | tail -n 1) on 127.0.0.1:$PORT, data in $ROOT"
        print_address
        exit 0
    fi
    if ! kill -0 "$(cat "$ROOT/pid")" 2>/dev/null; then
        break
    fi
    sleep 0.1
done
log "chroma run did not start listening (see $ROOT/server.log)"
tail -n 20 "$ROOT/server.log" >&2 || true
exit 1
