#!/usr/bin/env bash
# ListUsers and SignIn benchmark.
#
#   bench/users.sh                        # 1,000 and 1,000,000 users
#   SIZES="1000 100000" bench/users.sh    # other sizes
#
# For each size: seeds a fresh SQLite database in bulk (timed), starts
# `roster serve` pinned to SERVER_CPU, and measures ListUsers over gRPC with
# h2load pinned to LOAD_CPU: latency with one call in flight, throughput
# with CONCURRENCY calls in flight, for the first page, a page 90% deep in
# the list, and two filtered pages. Then, at the first size, SignIn alone,
# and GetUser idle and while a SignIn storm runs (server unpinned, so that
# its blocking pool and its async workers may use both cores).
# Results: bench/results/users-<timestamp>/summary.txt.
set -euo pipefail

SIZES=${SIZES:-"1000 1000000"}
DURATION=${DURATION:-5}          # seconds per measurement
CONCURRENCY=${CONCURRENCY:-8}    # calls in flight for throughput runs
STORM=${STORM:-16}               # concurrent SignIn calls in the storm
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
BUILD=${BUILD:-1}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release
OUT=${RESULTS:-$ROOT/bench/results}/users-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
SUMMARY=$OUT/summary.txt

log() { printf '%s %s\n' "[$(date +%H:%M:%S)]" "$*" | tee -a "$OUT/run.log" >&2; }
die() { log "error: $*"; exit 1; }
report() { printf '%s\n' "$*" | tee -a "$SUMMARY"; }

for tool in h2load taskset curl python3; do
    command -v "$tool" >/dev/null || die "$tool is missing (apt-get install nghttp2-client util-linux curl)"
done

PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -f "$OUT"/*.db "$OUT"/*.db-wal "$OUT"/*.db-shm
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$BUILD" = 1 ]; then
    log "building release binaries"
    (cd "$ROOT" && cargo build --release -p roster -p roster-bench) >"$OUT/build.log" 2>&1 ||
        { tail -n 40 "$OUT/build.log" >&2; die "cargo build failed"; }
fi

# serve DB_FILE [taskset-cpus]: starts roster; sets ADDR and SERVER_PID.
serve() {
    local db=$1 cpus=${2:-}
    local runner=()
    [ -n "$cpus" ] && runner=(taskset -c "$cpus")
    "${runner[@]}" "$BIN/roster" serve --listen 127.0.0.1:0 --database-url "sqlite://$db?mode=rwc" \
        --log-format json >"$OUT/server.log" 2>&1 &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    ADDR=""
    for _ in $(seq 1 300); do
        ADDR=$(sed -n 's/.*"address":"\([0-9.]*:[0-9]*\)".*/\1/p' "$OUT/server.log" | head -n 1 || true)
        [ -n "$ADDR" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$ADDR/readyz")" = 200 ] && return
        sleep 0.1
    done
    die "roster did not become ready (see $OUT/server.log)"
}

stop_server() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
}

# grpc_ok PATH BODY KEY: checks one call answers grpc-status 0 (h2load
# counts HTTP statuses only).
grpc_ok() {
    local status
    status=$(curl -s --http2-prior-knowledge -o /dev/null -D - -H 'content-type: application/grpc' \
        -H 'te: trailers' ${3:+-H "authorization: Bearer $3"} --data-binary "@$2" \
        "http://$ADDR$1" | tr -d '\r' | sed -n 's/^grpc-status: //p' | tail -n 1)
    [ "$status" = 0 ] || die "$1 answered grpc-status '${status:-none}'"
}

# load NAME PATH BODY KEY CLIENTS [CPU]: one h2load run; prints
# "req/s p50_us p99_us non2xx".
load() {
    local name=$1 path=$2 body=$3 key=$4 clients=$5 cpu=${6:-$LOAD_CPU}
    local text=$OUT/$name.txt requests=$OUT/$name.requests
    local runner=()
    [ -n "$cpu" ] && runner=(taskset -c "$cpu")
    "${runner[@]}" h2load -D "$DURATION" --warm-up-time=1 -t 1 -c "$clients" -m 1 \
        --log-file="$requests" -H 'content-type: application/grpc' -H 'te: trailers' \
        ${key:+-H "authorization: Bearer $key"} -d "$body" "http://$ADDR$path" >"$text" 2>&1 || true
    local rps non2xx p50 p99
    rps=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' "$text")
    [ -n "$rps" ] || { cat "$text" >&2; die "h2load failed for $name"; }
    non2xx=$(awk '/^status codes:/ {print $5 + $7 + $9}' "$text")
    read -r p50 p99 < <(awk '$2 >= 200 && $2 < 300 {print $3}' "$requests" | sort -n | awk '
        {v[NR] = $1}
        END {
            if (NR == 0) {print "0 0"; exit}
            print v[int(NR * 0.50 + 0.999999)], v[int(NR * 0.99 + 0.999999)]
        }')
    rm -f "$requests"
    echo "${rps%.*} $p50 $p99 ${non2xx:-0}"
}

LIST=/goodmem.v1.UserService/ListUsers
GET=/goodmem.v1.UserService/GetUser
SIGNIN=/goodmem.v1.AuthService/SignIn

# deep_token KEY N: the page token 90% into the list, walking it over REST.
deep_token() {
    python3 - "$ADDR" "$1" "$2" <<'PY'
import json, sys, urllib.request
address, key, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
target, seen, token = int(count * 0.9), 0, ""
while seen < target:
    size = min(1000, target - seen)
    url = f"http://{address}/v1/users?pageSize={size}&pageToken={token}"
    request = urllib.request.Request(url, headers={"x-api-key": key})
    page = json.load(urllib.request.urlopen(request))
    seen += len(page["users"])
    token = page["nextPageToken"]
print(token)
PY
}

report "# bench/users.sh $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores; server on core $SERVER_CPU, h2load on core $LOAD_CPU, ${DURATION}s per run"
report ""
report "$(printf '%-9s | %-22s | %8s | %8s | %8s | %10s' users page 'p50 us' 'p99 us' 'req/s@1' "req/s@$CONCURRENCY")"
FIRST_SIZE=""
for size in $SIZES; do
    db=$OUT/users-$size.db
    log "seeding $size users"
    "$BIN/seed" db --database-url "sqlite://$db?mode=rwc" --users "$size" --batch 10000 \
        --meta "$OUT/users-$size.env" 2>"$OUT/seed-$size.log"
    tail -n 1 "$OUT/seed-$size.log" | tee -a "$OUT/run.log" >&2
    # shellcheck disable=SC1090
    . "$OUT/users-$size.env"
    serve "$db" "$SERVER_CPU"
    log "walking to 90% of the list for the deep page"
    token=$(deep_token "$ROOT_API_KEY" "$size")
    "$BIN/seed" list-body --out "$OUT/first.bin"
    "$BIN/seed" list-body --page-token "$token" --out "$OUT/deep.bin"
    "$BIN/seed" list-body --filter 'labels["shard"] == "7"' --out "$OUT/label.bin"
    "$BIN/seed" list-body --filter 'username.startsWith("user00")' --out "$OUT/prefix.bin"
    for page in first deep label prefix; do
        grpc_ok "$LIST" "$OUT/$page.bin" "$ROOT_API_KEY"
        read -r _ p50 p99 bad1 < <(load "list-$size-$page-1" "$LIST" "$OUT/$page.bin" "$ROOT_API_KEY" 1)
        read -r rps _ _ badn < <(load "list-$size-$page-n" "$LIST" "$OUT/$page.bin" "$ROOT_API_KEY" "$CONCURRENCY")
        read -r rps1 _ _ _ < <(load "list-$size-$page-r" "$LIST" "$OUT/$page.bin" "$ROOT_API_KEY" 1)
        [ "$bad1$badn" = 00 ] || log "WARNING: non-2xx answers for $page"
        report "$(printf '%-9s | %-22s | %8s | %8s | %8s | %10s' "$size" "$page (50 users)" "$p50" "$p99" "$rps1" "$rps")"
    done
    stop_server
    [ -n "$FIRST_SIZE" ] || { FIRST_SIZE=$size; cp "$OUT/users-$size.env" "$OUT/signin.env"; cp "$db" "$OUT/signin.db"; }
done

# --- SignIn, and GetUser beside a SignIn storm ----------------------------
# shellcheck disable=SC1090
. "$OUT/signin.env"
serve "$OUT/signin.db" ""
"$BIN/seed" sign-in-body --username "$SIGNIN_USERNAME" --out "$OUT/signin.bin"
"$BIN/seed" grpc-body --user-id "$TARGET_USER_ID" --out "$OUT/get.bin"
grpc_ok "$SIGNIN" "$OUT/signin.bin" ""
grpc_ok "$GET" "$OUT/get.bin" "$ROOT_API_KEY"
report ""
report "SignIn and GetUser, $FIRST_SIZE users, server unpinned (2 cores), loads unpinned"
read -r signin_rps signin_p50 signin_p99 _ < <(load signin-alone "$SIGNIN" "$OUT/signin.bin" "" "$STORM" "")
report "SignIn alone ($STORM in flight): $signin_rps req/s, p50 ${signin_p50} us, p99 ${signin_p99} us"
read -r idle_rps idle_p50 idle_p99 _ < <(load get-idle "$GET" "$OUT/get.bin" "$ROOT_API_KEY" "$CONCURRENCY" "")
report "GetUser idle ($CONCURRENCY in flight): $idle_rps req/s, p50 ${idle_p50} us, p99 ${idle_p99} us"
DURATION=$((DURATION + 4)) load signin-storm "$SIGNIN" "$OUT/signin.bin" "" "$STORM" "" >"$OUT/storm.result" &
STORM_PID=$!
sleep 2
read -r storm_rps storm_p50 storm_p99 _ < <(load get-storm "$GET" "$OUT/get.bin" "$ROOT_API_KEY" "$CONCURRENCY" "")
wait "$STORM_PID" || true
read -r storm_signin _ _ _ <"$OUT/storm.result"
report "GetUser during the storm: $storm_rps req/s, p50 ${storm_p50} us, p99 ${storm_p99} us (SignIn meanwhile: $storm_signin req/s)"
report "$(python3 -c "print(f'GetUser idle / during storm: {$idle_rps / max($storm_rps, 1):.2f}x (target: at most 2x)')")"
stop_server
log "results in $OUT"
