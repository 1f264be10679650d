#!/usr/bin/env bash
# Roster benchmark: GetUser by id over gRPC, gRPC-Web and REST against two
# ceilings (a bare tonic service and a bare axum handler answering the same
# bytes from memory). Servers are pinned to one core, h2load to another, and
# the runs are interleaved round by round. See bench/README.md.
#
#   bench/run.sh                      # defaults below
#   N_USERS=20000 DURATION=5 ROUNDS=3 bench/run.sh
set -euo pipefail
export LC_ALL=C

N_USERS=${N_USERS:-100000}      # users seeded besides ROOT
DURATION=${DURATION:-10}        # measured seconds per run
WARMUP=${WARMUP:-2}             # h2load warm-up seconds before each run
CONNECTIONS=${CONNECTIONS:-8}   # h2load -c
STREAMS=${STREAMS:-8}           # h2load -m: concurrent streams per connection
ROUNDS=${ROUNDS:-3}             # interleaved rounds; medians are reported
SERVER_CPU=${SERVER_CPU:-0}     # core for roster and the ceilings
LOAD_CPU=${LOAD_CPU:-1}         # core for h2load
REST_TRANSPORT=${REST_TRANSPORT:-h2c} # h2c (same as gRPC) or h1 (HTTP/1.1, CONNECTIONS*STREAMS connections)
CEILING_NODELAY=${CEILING_NODELAY:-1} # 1: ceilings set TCP_NODELAY; 0: plain axum::serve
BUILD=${BUILD:-1}               # 0: use the existing release binaries
PROFILE=${PROFILE:-auto}        # auto: perf-profile roster where a target is missed; 1: always; 0: never
PROFILE_SECONDS=${PROFILE_SECONDS:-5}
KEEP_PERF=${KEEP_PERF:-0}       # 1: keep the perf.data files (tens of MB each)
REST_WAIT=${REST_WAIT:-0}       # seconds to keep polling for the REST route before giving up on it
ROSTER_WRAPPER=${ROSTER_WRAPPER:-} # diagnostics: words put before the roster command (e.g. "env LD_PRELOAD=…")

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET_DIR/release
RESULTS=${RESULTS:-$ROOT/bench/results}
CACHE=${CACHE:-$RESULTS/cache}
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=$RESULTS/$STAMP
mkdir -p "$OUT" "$CACHE"
ln -sfn "$STAMP" "$RESULTS/latest"

log() { printf '%s %s\n' "[$(date +%H:%M:%S)]" "$*" | tee -a "$OUT/run.log" >&2; }
die() { log "error: $*"; exit 1; }

for tool in h2load taskset curl awk sort; do
    command -v "$tool" >/dev/null || die "$tool is missing (apt-get install nghttp2-client util-linux curl)"
done
if [ "$(nproc --all)" -lt 2 ] || [ "$SERVER_CPU" = "$LOAD_CPU" ]; then
    log "warning: server and load generator share a core; numbers are not comparable to pinned runs"
fi

# --- everything started here is stopped on exit --------------------------
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -f "${DB:-/nonexistent}" "${DB:-/nonexistent}-wal" "${DB:-/nonexistent}-shm"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build ---------------------------------------------------------------
if [ "$BUILD" = 1 ]; then
    log "building release binaries (several minutes on a cold target dir)"
    if ! (cd "$ROOT" && cargo build --release -p roster -p roster-bench) >"$OUT/build.log" 2>&1; then
        tail -n 40 "$OUT/build.log" >&2
        die "cargo build failed: see $OUT/build.log"
    fi
    tail -n 1 "$OUT/build.log" >&2
fi
for binary in roster seed bare-tonic bare-axum; do
    [ -x "$BIN/$binary" ] || die "$BIN/$binary not built"
done

# --- seed (cached per N and seeder version) ------------------------------
SEED_VERSION=$(cksum <"$ROOT/bench/ceilings/src/bin/seed.rs" | cut -d' ' -f1)
CACHED_DB=$CACHE/users-$N_USERS-$SEED_VERSION.db
CACHED_META=$CACHE/users-$N_USERS-$SEED_VERSION.env
if [ ! -f "$CACHED_DB" ] || [ ! -f "$CACHED_META" ]; then
    log "seeding $N_USERS users"
    rm -f "$CACHED_DB.tmp" "$CACHED_DB.tmp-wal" "$CACHED_DB.tmp-shm"
    "$BIN/seed" db --database-url "sqlite://$CACHED_DB.tmp?mode=rwc" --users "$N_USERS" \
        --meta "$CACHED_META.tmp" >&2
    mv "$CACHED_DB.tmp" "$CACHED_DB"
    mv "$CACHED_META.tmp" "$CACHED_META"
else
    log "reusing seeded database $CACHED_DB"
fi
# shellcheck disable=SC1090
. "$CACHED_META" # N_USERS ROOT_API_KEY ROOT_USER_ID TARGET_USER_ID
DB=$OUT/roster.db # a working copy: the cache stays pristine
cp "$CACHED_DB" "$DB"
DB_URL="sqlite://$DB?mode=rwc"
"$BIN/seed" grpc-body --user-id "$TARGET_USER_ID" --out "$OUT/get_user.bin"
# Connect's unary bodies: the bare message, and its canonical JSON.
tail -c +6 "$OUT/get_user.bin" >"$OUT/get_user.proto"
python3 -c 'import base64, sys, uuid; print("{\"userId\":\"%s\"}" % base64.b64encode(uuid.UUID(sys.argv[1]).bytes).decode(), end="")' \
    "$TARGET_USER_ID" >"$OUT/get_user.json"

# --- servers -------------------------------------------------------------
# start NAME COMMAND...: runs COMMAND pinned to SERVER_CPU, waits for the
# "address" it logs, and sets ${NAME}_PID and ${NAME}_ADDR.
start() {
    local name=$1
    shift
    taskset -c "$SERVER_CPU" "$@" >"$OUT/$name.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    local address="" _
    for _ in $(seq 1 300); do
        address=$(sed -n 's/.*"address":"\([0-9.]*:[0-9]*\)".*/\1/p' "$OUT/$name.log" | head -n 1 || true)
        [ -n "$address" ] && break
        kill -0 "$pid" 2>/dev/null || { cat "$OUT/$name.log" >&2; die "$name exited"; }
        sleep 0.1
    done
    [ -n "$address" ] || die "$name did not report its address"
    printf -v "${name}_PID" '%s' "$pid"
    printf -v "${name}_ADDR" '%s' "$address"
    log "$name pid $pid on $address (core $SERVER_CPU)"
}

# shellcheck disable=SC2086 # ROSTER_WRAPPER is meant to split into words
start ROSTER $ROSTER_WRAPPER "$BIN/roster" serve --listen 127.0.0.1:0 --database-url "$DB_URL" --log-format json
# The port answers before the database is connected: wait until ready.
for _ in $(seq 1 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$ROSTER_ADDR/readyz")" = 200 ] && break
    sleep 0.1
done
NODELAY_FLAG=()
[ "$CEILING_NODELAY" = 1 ] || NODELAY_FLAG=(--no-tcp-nodelay)
start TONIC "$BIN/bare-tonic" --listen 127.0.0.1:0 --database-url "$DB_URL" \
    --user-id "$TARGET_USER_ID" "${NODELAY_FLAG[@]}"

# REST is measured once the gateway answers GetUser with JSON.
REST_URL=http://$ROSTER_ADDR/v1/users/$TARGET_USER_ID
rest_status() {
    curl -s -o "$OUT/rest.json" -w '%{http_code} %{content_type}' \
        -H "x-api-key: $ROOT_API_KEY" "$REST_URL" || true
}
REST_OK=0
deadline=$((SECONDS + REST_WAIT))
while :; do
    status=$(rest_status)
    case $status in 200\ application/json*) REST_OK=1; break ;; esac
    [ "$SECONDS" -ge "$deadline" ] && break
    sleep 5
done
if [ "$REST_OK" = 1 ]; then
    log "REST answers: the bare axum ceiling serves the captured $(wc -c <"$OUT/rest.json")-byte JSON"
    start AXUM "$BIN/bare-axum" --listen 127.0.0.1:0 --json-file "$OUT/rest.json" "${NODELAY_FLAG[@]}"
else
    log "REST not available (GET $REST_URL answered '$status'): REST is skipped;"
    log "  the bare axum ceiling serves an approximation of the gateway's JSON"
    start AXUM "$BIN/bare-axum" --listen 127.0.0.1:0 --database-url "$DB_URL" \
        --user-id "$TARGET_USER_ID" "${NODELAY_FLAG[@]}"
fi

# --- sanity: every target answers the same user, with grpc-status 0 ------
GRPC_PATH=/goodmem.v1.UserService/GetUser
grpc_call() { # ADDR CONTENT-TYPE OUTFILE
    curl -s --http2-prior-knowledge -D "$3.headers" -o "$3" \
        -H "content-type: $2" -H 'te: trailers' -H "authorization: Bearer $ROOT_API_KEY" \
        --data-binary @"$OUT/get_user.bin" "http://$1$GRPC_PATH"
}
grpc_call "$ROSTER_ADDR" application/grpc "$OUT/check-roster-grpc.bin"
grep -qi '^grpc-status: 0' "$OUT/check-roster-grpc.bin.headers" \
    || die "roster gRPC GetUser did not answer grpc-status 0: see $OUT/check-roster-grpc.bin.headers"
grpc_call "$TONIC_ADDR" application/grpc "$OUT/check-tonic-grpc.bin"
grep -qi '^grpc-status: 0' "$OUT/check-tonic-grpc.bin.headers" || die "bare tonic did not answer grpc-status 0"
cmp -s "$OUT/check-roster-grpc.bin" "$OUT/check-tonic-grpc.bin" \
    || die "bare tonic does not answer the same bytes as roster"
grpc_call "$ROSTER_ADDR" application/grpc-web+proto "$OUT/check-roster-grpcweb.bin"
grep -aq 'grpc-status:0' "$OUT/check-roster-grpcweb.bin" \
    || die "roster gRPC-Web GetUser did not end with grpc-status:0"
connect_call() { # CONTENT-TYPE BODY OUTFILE -> HTTP status
    curl -s --http2-prior-knowledge -o "$3" -w '%{http_code}' -H "content-type: $1" \
        -H 'connect-protocol-version: 1' -H "authorization: Bearer $ROOT_API_KEY" \
        --data-binary @"$2" "http://$ROSTER_ADDR$GRPC_PATH"
}
[ "$(connect_call application/proto "$OUT/get_user.proto" "$OUT/check-connect.bin")" = 200 ] \
    || die "roster Connect (binary) GetUser did not answer 200"
cmp -s "$OUT/check-connect.bin" <(tail -c +6 "$OUT/check-roster-grpc.bin") \
    || die "roster Connect (binary) does not answer the bytes gRPC does"
[ "$(connect_call application/json "$OUT/get_user.json" "$OUT/check-connect.json")" = 200 ] \
    || die "roster Connect (JSON) GetUser did not answer 200: $(cat "$OUT/check-connect.json")"
axum_status=$(curl -s -o "$OUT/check-axum.json" -w '%{http_code}' "http://$AXUM_ADDR/v1/users/$TARGET_USER_ID")
[ "$axum_status" = 200 ] || die "bare axum answered $axum_status"
if [ "$REST_OK" = 1 ]; then
    cmp -s "$OUT/rest.json" "$OUT/check-axum.json" || die "bare axum does not answer the same JSON as roster"
fi
log "checked: gRPC and gRPC-Web answer grpc-status 0, Connect 200 (binary: the same bytes);" \
    "the ceilings answer the same bytes as roster"

# --- measurement -----------------------------------------------------------
rss() { awk '/^(VmRSS|VmHWM):/ {printf "%s %d MiB  ", $1, $2 / 1024}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
CLK_TCK=$(getconf CLK_TCK)
LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
RSS_IDLE="roster: $(rss "$ROSTER_PID")| bare-tonic: $(rss "$TONIC_PID")| bare-axum: $(rss "$AXUM_PID")"

# h2load arguments per run kind, and the server pid it loads.
h2load_args() { # KIND -> sets KIND_PID (the server loaded) and KIND_ARGS (h2load arguments)
    KIND_PID=""
    KIND_ARGS=()
    local common=(-t 1 -c "$CONNECTIONS" -m "$STREAMS")
    case $1 in
        roster-grpc | tonic-grpc)
            local address=$ROSTER_ADDR
            KIND_PID=$ROSTER_PID
            if [ "$1" = tonic-grpc ]; then address=$TONIC_ADDR; KIND_PID=$TONIC_PID; fi
            KIND_ARGS=("${common[@]}" -H 'content-type: application/grpc' -H 'te: trailers'
                -H "authorization: Bearer $ROOT_API_KEY" -d "$OUT/get_user.bin"
                "http://$address$GRPC_PATH")
            ;;
        roster-grpcweb)
            KIND_PID=$ROSTER_PID
            KIND_ARGS=("${common[@]}" -H 'content-type: application/grpc-web+proto'
                -H 'x-grpc-web: 1' -H "authorization: Bearer $ROOT_API_KEY"
                -d "$OUT/get_user.bin" "http://$ROSTER_ADDR$GRPC_PATH")
            ;;
        roster-connect-proto | roster-connect-json)
            KIND_PID=$ROSTER_PID
            local codec=${1#roster-connect-}
            KIND_ARGS=("${common[@]}" -H "content-type: application/$codec"
                -H 'connect-protocol-version: 1' -H "authorization: Bearer $ROOT_API_KEY"
                -d "$OUT/get_user.$codec" "http://$ROSTER_ADDR$GRPC_PATH")
            ;;
        roster-rest | axum-rest)
            local address=$ROSTER_ADDR
            KIND_PID=$ROSTER_PID
            if [ "$1" = axum-rest ]; then address=$AXUM_ADDR; KIND_PID=$AXUM_PID; fi
            if [ "$REST_TRANSPORT" = h1 ]; then
                common=(-t 1 --h1 -c $((CONNECTIONS * STREAMS)) -m 1)
            fi
            KIND_ARGS=("${common[@]}" -H "x-api-key: $ROOT_API_KEY"
                "http://$address/v1/users/$TARGET_USER_ID")
            ;;
        *) die "unknown run kind $1" ;;
    esac
}

RAW=$OUT/raw.tsv
printf 'round\tkind\treq_per_s\tp50_us\tp99_us\tserver_cpu_pct\th2load_cpu_pct\tsucceeded\tnon_2xx\terrored\n' >"$RAW"

# measure ROUND KIND: one h2load run; appends a row to raw.tsv.
measure() {
    local round=$1 kind=$2
    h2load_args "$kind"
    local text=$OUT/h2load-$round-$kind.txt requests=$OUT/h2load-$round-$kind.requests
    local before after
    before=$(cpu_ticks "$KIND_PID")
    local started=$EPOCHREALTIME
    local TIMEFORMAT=%P # the load generator's own CPU use, in percent of the wall time
    { time taskset -c "$LOAD_CPU" h2load -D "$DURATION" --warm-up-time="$WARMUP" \
        --log-file="$requests" "${KIND_ARGS[@]}" >"$text" 2>&1; } 2>"$text.cpu" || true
    local ended=$EPOCHREALTIME
    local gen_cpu
    gen_cpu=$(awk '{printf "%.0f", $1}' "$text.cpu")
    rm -f "$text.cpu"
    after=$(cpu_ticks "$KIND_PID")
    local rps succeeded non2xx errored p50 p99 cpu
    rps=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' "$text")
    succeeded=$(sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p' "$text")
    errored=$(sed -n 's/^requests: .* \([0-9]*\) errored.*/\1/p' "$text")
    non2xx=$(awk '/^status codes:/ {print $5 + $7 + $9}' "$text")
    [ -n "$rps" ] || { cat "$text" >&2; die "h2load failed for $kind"; }
    # Latencies of the completed 2xx requests of the measured phase (the
    # log has one row per request: start µs, status, duration µs).
    read -r p50 p99 < <(awk '$2 >= 200 && $2 < 300 {print $3}' "$requests" | sort -n | awk '
        {v[NR] = $1}
        END {
            if (NR == 0) {print "0 0"; exit}
            i50 = int(NR * 0.50 + 0.999999); i99 = int(NR * 0.99 + 0.999999)
            print v[i50], v[i99]
        }')
    rm -f "$requests"
    cpu=$(awk -v t="$((after - before))" -v hz="$CLK_TCK" -v a="$started" -v b="$ended" \
        'BEGIN {printf "%.0f", 100 * t / hz / (b - a)}')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$kind" "$rps" "$p50" "$p99" "$cpu" \
        "$gen_cpu" "${succeeded:-0}" "${non2xx:-0}" "${errored:-0}" >>"$RAW"
    local warn=""
    if [ "${non2xx:-0}" != 0 ] || [ "${errored:-0}" != 0 ] || [ "${succeeded:-0}" = 0 ]; then
        warn="  WARNING: ${non2xx:-?} non-2xx, ${errored:-?} errored"
    fi
    log "$(printf 'round %s  %-15s %8.0f req/s  p50 %6s us  p99 %6s us  CPU server %3s%% h2load %3s%%%s' \
        "$round" "$kind" "$rps" "$p50" "$p99" "$cpu" "$gen_cpu" "$warn")"
}

KINDS=(tonic-grpc roster-grpc roster-grpcweb roster-connect-proto roster-connect-json)
[ "$REST_OK" = 1 ] && KINDS+=(roster-rest)
KINDS+=(axum-rest)
log "config: N_USERS=$N_USERS DURATION=${DURATION}s WARMUP=${WARMUP}s CONNECTIONS=$CONNECTIONS" \
    "STREAMS=$STREAMS ROUNDS=$ROUNDS REST_TRANSPORT=$REST_TRANSPORT CEILING_NODELAY=$CEILING_NODELAY" \
    "servers on core $SERVER_CPU, h2load on core $LOAD_CPU; target user $TARGET_USER_ID"
for round in $(seq 1 "$ROUNDS"); do
    # Odd rounds run the list forwards, even rounds backwards (A B … B A):
    # each target and its ceiling stay neighbours and drift cancels out.
    order=("${KINDS[@]}")
    if [ $((round % 2)) = 0 ]; then
        order=()
        for ((i = ${#KINDS[@]} - 1; i >= 0; i--)); do order+=("${KINDS[i]}"); done
    fi
    for kind in "${order[@]}"; do measure "$round" "$kind"; done
done
sleep 1
RSS_LOADED="roster: $(rss "$ROSTER_PID")| bare-tonic: $(rss "$TONIC_PID")| bare-axum: $(rss "$AXUM_PID")"

# --- report ----------------------------------------------------------------
median() { # KIND COLUMN -> median over rounds
    awk -F'\t' -v k="$1" -v c="$2" 'NR > 1 && $2 == k {print $c}' "$RAW" | sort -g | awk '
        {v[NR] = $1}
        END {if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
paired() { # NUM DEN -> per-round ratios
    awk -F'\t' -v n="$1" -v d="$2" 'NR > 1 && $2 == n {a[$1] = $3} NR > 1 && $2 == d {b[$1] = $3}
        END {s = ""; for (r = 1; r in a; r++) if (b[r] > 0) s = s sprintf("%s%.2f", s == "" ? "" : " ", a[r] / b[r]); print s}' "$RAW"
}
paired_median() { # NUM DEN -> median of the per-round ratios, the verdict's value
    paired "$1" "$2" | tr ' ' '\n' | sort -g | awk '
        {v[NR] = $1}
        END {if (NR == 0) print ""; else if (NR % 2) printf "%.2f\n", v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
ms() { awk -v u="$1" 'BEGIN {if (u == "") print "-"; else printf "%.2f ms", u / 1000}'; }

SUMMARY=$OUT/summary.txt
MISSED=()
{
    echo "Roster GetUser benchmark — $STAMP"
    echo "N_USERS=$N_USERS  ${ROUNDS} interleaved rounds of ${DURATION}s (+${WARMUP}s warm-up)," \
        "h2load -c $CONNECTIONS -m $STREAMS; servers on core $SERVER_CPU, h2load on core $LOAD_CPU"
    echo "gRPC and gRPC-Web over h2c; REST over $REST_TRANSPORT; ceilings TCP_NODELAY=$CEILING_NODELAY" \
        "(roster: as built${ROSTER_WRAPPER:+, run under: $ROSTER_WRAPPER})"
    echo
    printf '%-10s | %-12s | %8s | %9s | %9s | %10s | %10s\n' target protocol "req/s" p50 p99 "server CPU" "h2load CPU"
    printf '%s\n' '-----------+--------------+----------+-----------+-----------+------------+-----------'
    row() { # TARGET PROTOCOL KIND
        local rps
        rps=$(median "$3" 3)
        if [ -z "$rps" ]; then
            printf '%-10s | %-12s | %8s | %9s | %9s | %10s | %10s\n' "$1" "$2" "n/a" "-" "-" "-" "-"
            return
        fi
        printf '%-10s | %-12s | %8.0f | %9s | %9s | %9s%% | %9s%%\n' "$1" "$2" "$rps" \
            "$(ms "$(median "$3" 4)")" "$(ms "$(median "$3" 5)")" "$(median "$3" 6)" "$(median "$3" 7)"
    }
    row roster gRPC roster-grpc
    row roster gRPC-Web roster-grpcweb
    row roster Connect roster-connect-proto
    row roster "Connect JSON" roster-connect-json
    row roster REST roster-rest
    row bare-tonic gRPC tonic-grpc
    row bare-axum REST axum-rest
    echo "(medians over rounds; latency percentiles of the 2xx requests of the measured phase;"
    echo " CPU in percent of one core: a ceiling whose h2load CPU is near 100% is load-generator-bound)"
    echo
    echo "ratio = median over rounds of (target req/s / reference req/s) measured side by side"
    echo
    ratio() { # LABEL NUM DEN TARGET
        local rounds
        rounds=$(paired "$2" "$3")
        if [ -z "$rounds" ]; then
            printf '%-18s %5s   target >= %s   n/a (not measured)\n' "$1" "-" "$4"
            return
        fi
        local value verdict
        value=$(paired_median "$2" "$3")
        verdict=$(awk -v v="$value" -v t="$4" 'BEGIN {print (v >= t ? "PASS" : "MISS")}')
        printf '%-18s %5s   target >= %s   %s   (per round: %s; ratio of the medians: %s)\n' \
            "$1" "$value" "$4" "$verdict" "$rounds" \
            "$(awk -v a="$(median "$2" 3)" -v b="$(median "$3" 3)" 'BEGIN {printf "%.2f", a / b}')"
    }
    ratio "REST / bare axum" roster-rest axum-rest 0.5
    ratio "gRPC / bare tonic" roster-grpc tonic-grpc 0.75
    ratio "REST / gRPC" roster-rest roster-grpc 1.0
    ratio "gRPC-Web / gRPC" roster-grpcweb roster-grpc 0.9
    ratio "Connect / gRPC-Web" roster-connect-proto roster-grpcweb 0.9
    echo
    echo "RSS idle after start:  $RSS_IDLE"
    echo "RSS after the load:    $RSS_LOADED"
    echo "load average: at start $LOADAVG_START, at end $(cut -d' ' -f1-3 /proc/loadavg)" \
        "(above ~2 other work shared these cores)"
} | tee "$SUMMARY"

# Which targets were missed, and the roster run that represents each.
miss() { # NUM DEN TARGET
    local value
    value=$(paired_median "$1" "$2")
    [ -n "$value" ] && awk -v v="$value" -v t="$3" 'BEGIN {exit !(v < t)}'
}
miss roster-rest axum-rest 0.5 && MISSED+=(roster-rest)
miss roster-grpc tonic-grpc 0.75 && MISSED+=(roster-grpc)
miss roster-grpcweb roster-grpc 0.9 && MISSED+=(roster-grpcweb)
miss roster-connect-proto roster-grpcweb 0.9 && MISSED+=(roster-connect-proto)

# The ~40 ms signature of Nagle + delayed ACK: slow calls on an idle server.
grpc_p50=$(median roster-grpc 4)
grpc_cpu=$(median roster-grpc 6)
if [ -n "$grpc_p50" ] && awk -v p="$grpc_p50" -v c="$grpc_cpu" 'BEGIN {exit !(p >= 35000 && p <= 50000 && c < 50)}'; then
    echo "NOTE: roster gRPC p50 is ~40 ms with the server core mostly idle: the Nagle/delayed-ACK" \
        "stall of sockets without TCP_NODELAY (axum::serve does not set it)." | tee -a "$SUMMARY"
fi

# --- profile -----------------------------------------------------------------
# Inclusive shares of the parts of a call worth knowing about (first match of
# each pattern in perf's "children" report); a pattern that matches nothing
# is left out.
PARTS=(
    'h2::codec::framed_write::FramedWrite<T,B>::flush|socket writes (incl. loopback delivery to h2load)'
    'h2::codec::framed_read::FramedRead<T> as futures_core::stream::Stream>::poll_next|socket reads + HTTP/2 frame decoding'
    'tower_http::cors::Cors<S> as tower_service::Service|CORS layer (call)'
    'tonic_web::service::GrpcWebService<S> as tower_service::Service|gRPC-Web layer (call)'
    'roster::telemetry::metrics::MeteredFuture<F> as core::future::future::Future>::poll|metrics layer (incl. what it wraps)'
    'roster::telemetry::access_log|access log line'
    'roster::serve::body::BoundedBody|request-body bounds'
    'roster::api::gate::Gate<S> as tower_service::Service|gate: deadline + authentication (call)'
    'roster::api::grpc_unary::GrpcUnary as tower_service::Service|gRPC unary: frame in, frame + trailers out (incl. the call)'
    'roster::api::calls::UnaryCalls::call|the one unary call path: meter, deadline, gate, handler'
    'roster::connect::ConnectService as tower_service::Service|Connect layer (call)'
    'roster::connect::schema::Codec::encode|Connect: reply bytes -> canonical JSON'
    'roster::api::gate::GateRules::admit|gate: authentication'
    'roster_gateway::json::wire::<impl roster_gateway::json::JsonCodec>::encode_reply|REST: reply bytes -> JSON (wire walk)'
    'roster_gateway::transcode::Transcoder::render_reply|REST: response proto -> JSON'
    'prost_reflect::dynamic::DynamicMessage::decode|REST: decode the reply as a DynamicMessage'
    'UserServiceApi as roster::proto::goodmem::v1::user_service_server::UserService>::get_user|GetUser handler (lookup + conversion)'
    'roster::auth::authenticator::Authenticator::authenticate|authentication'
    'roster::store::sqlite_reads::SqliteReads::credential_with_owner|SQLite read: credential + owner'
    'roster::store::sqlite_reads::SqliteReads::user\b|SQLite read: user'
    'roster::store::wal_index::WalIndexWatch::generation|WAL-index look (one pread per call)'
    'unixShmLock|SQLite WAL shared-memory locks (fcntl)'
    'sqlite3Reprepare|SQLite re-preparing statements'
    'sqlx_sqlite::connection::worker|sqlx SQLite worker threads'
    'flume::Shared<T>::send|hand-offs to sqlx workers (channel send)'
    'finish_task_switch|context switches'
    'malloc|malloc (inclusive)'
)
PROFILE_KINDS=()
case $PROFILE in
    1) PROFILE_KINDS=(roster-grpc roster-grpcweb roster-connect-proto); [ "$REST_OK" = 1 ] && PROFILE_KINDS+=(roster-rest) ;;
    auto) PROFILE_KINDS=("${MISSED[@]}") ;;
esac
if [ "${#PROFILE_KINDS[@]}" -gt 0 ]; then
    if ! command -v perf >/dev/null || ! perf stat -e task-clock true >/dev/null 2>&1; then
        log "perf is not usable here (apt-get install linux-perf); skipping the profile"
    else
        tidy() { grep -E '^ +[0-9]' | sed -E 's/[[:space:]]+(-[[:space:]]+-)?[[:space:]]*$//' | cut -c1-150; }
        for kind in "${PROFILE_KINDS[@]}"; do
            h2load_args "$kind"
            data=$OUT/perf-$kind.data
            log "profiling roster under $kind for ${PROFILE_SECONDS}s (perf record, DWARF call graphs)"
            taskset -c "$LOAD_CPU" h2load -D $((PROFILE_SECONDS + 3)) "${KIND_ARGS[@]}" >/dev/null 2>&1 &
            load=$!
            sleep 1
            before=$(cpu_ticks "$ROSTER_PID")
            started=$EPOCHREALTIME
            perf record -F 499 --call-graph dwarf,16384 -p "$ROSTER_PID" -o "$data" \
                -- sleep "$PROFILE_SECONDS" >/dev/null 2>&1 || true
            after=$(cpu_ticks "$ROSTER_PID")
            ended=$EPOCHREALTIME
            wait "$load" || true
            perf report -i "$data" --children --sort symbol --stdio -g none 2>/dev/null \
                | grep -E '^ +[0-9]' >"$OUT/perf-$kind.children.txt" || true
            {
                echo "== roster under $kind: busy $(awk -v t="$((after - before))" -v hz="$CLK_TCK" \
                    -v a="$started" -v b="$ended" 'BEGIN {printf "%.0f", 100 * t / hz / (b - a)}')% of a core" \
                    "(perf included); shares below are of the on-CPU samples"
                echo "== by thread and binary/library"
                { perf report -i "$data" --no-children --sort comm,dso --stdio -g none 2>/dev/null | tidy | head -n 8; } || true
                echo "== inclusive share of the parts of a call (they overlap: nested parts are inside outer ones)"
                for part in "${PARTS[@]}"; do
                    line=$(grep -m 1 -E -- "${part%%|*}" "$OUT/perf-$kind.children.txt" || true)
                    if [ -n "$line" ]; then
                        printf '  %7s  %s\n' "$(awk '{print $1}' <<<"$line")" "${part#*|}"
                    fi
                done
                echo "== top functions by self time"
                { perf report -i "$data" --no-children --sort symbol --stdio -g none 2>/dev/null | tidy | head -n 20; } || true
            } | tee "$OUT/profile-$kind.txt" || true
            [ "${KEEP_PERF:-0}" = 1 ] || rm -f "$data"
        done
    fi
fi
log "results in $OUT (summary.txt, raw.tsv, h2load-*.txt, server logs)"
