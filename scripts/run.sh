#!/usr/bin/env bash
# Runs the whole product locally and shows it working:
#   moto's server (DynamoDB, SQS FIFO, SSM) on 127.0.0.1, the four functions
#   under `cargo lambda watch` on 127.0.0.1, every recorded event in events/
#   replayed over HTTP, then the stored records, the queued callback tasks and
#   a summary; then the truecaller-campaign function fed the table's DynamoDB
#   stream, pushing one Verified Campaign per task to a local Truecaller
#   stand-in. Everything it starts is stopped on exit, Ctrl-C included.
#
# Usage: scripts/run.sh [--only PROVIDER] [--keep] [--load N[:C]]
#   --only PROVIDER  replay only events/PROVIDER (truecaller, curious-thing, smartflo, wavix)
#   --keep           leave the stack up after the report, until Ctrl-C
#   --load N[:C]     instead of the replay, send N new task events with C
#                    connections (default 8) and report throughput, latency
#                    percentiles, CPU per process and the bottleneck
# Environment: PYTHON (default python3), CARGO_TARGET_DIR (respected),
#   RUN_KEEP_LOGS=1 keeps the log directory even on success.
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

FUNCTIONS=(truecaller curious-thing smartflo wavix)
PY="${PYTHON:-python3}"
ONLY=""
KEEP=0
LOAD=
while [[ $# -gt 0 ]]; do
    case "$1" in
        --only) ONLY="${2:-}"; shift 2 ;;
        --only=*) ONLY="${1#--only=}"; shift ;;
        --keep) KEEP=1; shift ;;
        --load) LOAD="${2:-}"; shift 2 ;;
        --load=*) LOAD="${1#--load=}"; shift ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
    esac
done
# Under load, one function instance per connection, as Lambda would scale.
LOAD_COUNT="${LOAD%%:*}"; LOAD_CONNS=8; [[ "$LOAD" == *:* ]] && LOAD_CONNS="${LOAD#*:}"
INSTANCES=1; [[ -n "$LOAD" ]] && INSTANCES="$LOAD_CONNS"
if [[ -n "$ONLY" && ! " ${FUNCTIONS[*]} " =~ " $ONLY " ]]; then
    echo "--only takes one of: ${FUNCTIONS[*]}" >&2
    exit 2
fi

bold=""; dim=""; red=""; off=""
if [[ -t 1 ]]; then bold=$'\e[1m'; dim=$'\e[2m'; red=$'\e[31m'; off=$'\e[0m'; fi
step() { printf '\n%s==> %s%s %s[%ss]%s\n' "$bold" "$*" "$off" "$dim" "$((SECONDS - STARTED_AT))" "$off"; }
info() { printf '    %s\n' "$*"; }
die() { printf '%serror:%s %s\n' "$red" "$off" "$*" >&2; exit 1; }

RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/webhook-run.XXXXXX")"
SESSIONS=()   # session (and process group) ids of what we started with setsid
LOG_ON_FAILURE=""
STARTED_AT=$SECONDS

# Our processes: the session leaders we started with setsid, everything in
# their sessions, and all their descendants (watchexec starts each function
# in a session of its own, as a child of cargo-lambda).
our_pids() {
    [[ $# -gt 0 ]] || return 0
    ps -eo pid=,ppid=,sid= | awk -v roots="$*" '
        BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) { keep[r[i]] = 1; sess[r[i]] = 1 } }
        { parent[$1] = $2; if ($3 in sess) keep[$1] = 1 }
        END {
            do {
                changed = 0
                for (p in parent) if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; changed = 1 }
            } while (changed)
            for (p in keep) if (p in parent) print p
        }'
}

stop_sessions() {
    local pids sid pid i alive
    pids=($(our_pids "${SESSIONS[@]}"))
    # TERM to each leader's process group: cargo-lambda then stops its
    # functions itself, moto exits.
    for sid in "${SESSIONS[@]}"; do kill -TERM -- "-$sid" 2>/dev/null || true; done
    for i in $(seq 100); do                                  # up to 10 s
        alive=()
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
        [[ ${#alive[@]} -eq 0 ]] && break
        [[ $i -eq 50 ]] && kill -TERM "${alive[@]}" 2>/dev/null
        [[ $i -eq 100 ]] && kill -KILL "${alive[@]}" 2>/dev/null
        sleep 0.1
    done
    SESSIONS=()
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP PIPE
    trap '' PIPE INT       # finish cleaning up even if stdout is gone or Ctrl-C is pressed again
    set +e
    if [[ ${#SESSIONS[@]} -gt 0 ]]; then
        printf '\n%s==> stopping the local stack%s\n' "$dim" "$off"
        stop_sessions
    fi
    if [[ $rc -eq 130 || $rc -eq 143 || $rc -eq 129 ]]; then
        printf '\ninterrupted\n' >&2
        rm -rf "$RUN_DIR"
    elif [[ $rc -ne 0 ]]; then
        if [[ -n "$LOG_ON_FAILURE" && -s "$LOG_ON_FAILURE" ]]; then
            printf '\n%s--- last lines of %s ---%s\n' "$dim" "$LOG_ON_FAILURE" "$off" >&2
            tail -n 40 "$LOG_ON_FAILURE" >&2
        fi
        printf '\nfailed (exit %s); logs kept in %s\n' "$rc" "$RUN_DIR" >&2
    elif [[ "${RUN_KEEP_LOGS:-0}" == 1 ]]; then
        info "logs kept in $RUN_DIR"
    else
        rm -rf "$RUN_DIR"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Starts "$@" in a new session (own process group) with output to log $1;
# its pid (= session id) in BG_PID.
start_bg() {
    local log="$1"; shift
    setsid "$@" >"$log" 2>&1 </dev/null &
    BG_PID=$!
    SESSIONS+=("$BG_PID")
}

forget_session() {
    local sid keep=()
    for sid in "${SESSIONS[@]}"; do [[ "$sid" != "$1" ]] && keep+=("$sid"); done
    SESSIONS=(${keep[@]+"${keep[@]}"})
}

wait_port() { # port pid seconds
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        kill -0 "$2" 2>/dev/null || return 1
        "$PY" -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.5).close()' "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

pip_install() {
    "$PY" -m pip install --quiet --disable-pip-version-check "$@" >"$RUN_DIR/pip.log" 2>&1 \
        || "$PY" -m pip install --quiet --disable-pip-version-check --user "$@" >>"$RUN_DIR/pip.log" 2>&1 \
        || { LOG_ON_FAILURE="$RUN_DIR/pip.log"; die "pip install $* failed"; }
}

# --------------------------------------------------------------- 1. tools
step "tools"
command -v "$PY" >/dev/null || die "$PY not found (set PYTHON=...)"
command -v cargo >/dev/null || die "cargo not found: install Rust (https://rustup.rs)"
command -v setsid >/dev/null || die "setsid not found (util-linux)"
# pip puts console scripts here; make them reachable even without a shell rehash.
for d in "$("$PY" -c 'import sysconfig; print(sysconfig.get_path("scripts"))')" \
         "$("$PY" -c 'import os, sysconfig; print(sysconfig.get_path("scripts", os.name + "_user"))' 2>/dev/null)"; do
    [[ -n "$d" && -d "$d" && ":$PATH:" != *":$d:"* ]] && PATH="$d:$PATH"
done
export PATH

if command -v moto_server >/dev/null && "$PY" -c 'import moto.server, boto3' 2>/dev/null; then
    info "moto $("$PY" -c 'import moto; print(moto.__version__)') (present)"
else
    info "installing moto[server] from PyPI…"
    pip_install "moto[server]"
    info "moto $("$PY" -c 'import moto; print(moto.__version__)') (installed)"
fi
if cargo lambda --version >/dev/null 2>&1; then
    info "$(cargo lambda --version) (present)"
else
    info "installing cargo-lambda from PyPI…"
    pip_install cargo-lambda
    hash -r
    cargo lambda --version >/dev/null 2>&1 || die "cargo-lambda installed but \`cargo lambda\` is not on PATH"
    info "$(cargo lambda --version) (installed)"
fi
info "$(cargo --version)"
for f in "${FUNCTIONS[@]}"; do
    grep -q "/webhook-receivers/$f/webhook-tokens" "functions/$f/Cargo.toml" \
        || die "functions/$f/Cargo.toml lacks [package.metadata.lambda.watch.env] WEBHOOK_TOKENS_PARAM"
done

# --------------------------------------------------------------- 2. moto
step "local AWS (moto_server)"
MOTO_PORT="$(free_port)"
MOTO_URL="http://127.0.0.1:$MOTO_PORT"
LOG_ON_FAILURE="$RUN_DIR/moto.log"
start_bg "$RUN_DIR/moto.log" "$PY" -m moto.server -H 127.0.0.1 -p "$MOTO_PORT"
MOTO_PID=$BG_PID
wait_port "$MOTO_PORT" "$MOTO_PID" 30 || die "moto_server did not start on $MOTO_URL"
# Only the fake credentials below are ever used, against 127.0.0.1 only.
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE
setup_args=()
[[ -z "$LOAD" ]] && setup_args+=(--campaign)   # stream, DLQ and org token for truecaller-campaign
urls="$("$PY" scripts/local_stack.py setup --endpoint "$MOTO_URL" ${setup_args[@]+"${setup_args[@]}"})"
QUEUE_URL="$(sed -n 1p <<<"$urls")"
DLQ_URL="$(sed -n 2p <<<"$urls")"
info "moto_server on $MOTO_URL"
if [[ -z "$LOAD" ]]; then
    info "table webhook-events (GSI pending-tasks, TTL expires_at, stream NEW_AND_OLD_IMAGES), queue callback-requests.fifo"
else
    info "table webhook-events (GSI pending-tasks, TTL expires_at), queue callback-requests.fifo"
fi
info "SSM SecureString /webhook-receivers/<provider>/webhook-tokens for ${FUNCTIONS[*]}"

if [[ -z "$LOAD" ]]; then
    info "campaign: queue truecaller-campaign-dlq, SSM SecureString /truecaller-campaign/org-token"
    LOG_ON_FAILURE="$RUN_DIR/standin.log"
    STANDIN_EXPECT_TOKEN=dev-org-token start_bg "$RUN_DIR/standin.log" "$PY" scripts/truecaller_standin.py \
        --log "$RUN_DIR/standin.jsonl" --port-file "$RUN_DIR/standin.port"
    STANDIN_PID=$BG_PID
    for _ in $(seq 100); do [[ -s "$RUN_DIR/standin.port" ]] && break; kill -0 "$STANDIN_PID" 2>/dev/null || break; sleep 0.1; done
    STANDIN_PORT="$(cat "$RUN_DIR/standin.port" 2>/dev/null)" || die "the Truecaller stand-in did not start"
    wait_port "$STANDIN_PORT" "$STANDIN_PID" 10 || die "the Truecaller stand-in did not start"
    STANDIN_URL="http://127.0.0.1:$STANDIN_PORT/v1/verified-campaigns"
    info "Truecaller Verified Campaign stand-in on $STANDIN_URL (log: $RUN_DIR/standin.jsonl)"
fi

# --------------------------------------------------------------- 3. functions
if [[ -z "$LOAD" ]]; then
    step "build the four functions and truecaller-campaign (cargo build, log in $RUN_DIR/build.log)"
else
    step "build the four functions (cargo build, log in $RUN_DIR/build.log)"
fi
LOG_ON_FAILURE="$RUN_DIR/build.log"
build_args=()
for f in "${FUNCTIONS[@]}"; do build_args+=(--bin "$f"); done
[[ -z "$LOAD" ]] && build_args+=(--bin truecaller-campaign --bin webhook-ops)
t0=$SECONDS
start_bg "$RUN_DIR/build.log" cargo build "${build_args[@]}"   # own session: Ctrl-C stops it too
build_pid=$BG_PID
# Progress, not silence: one line rewritten in place on a terminal, else a line every 30 s.
tick=0
while kill -0 "$build_pid" 2>/dev/null; do
    sleep 1; tick=$((tick + 1))
    kill -0 "$build_pid" 2>/dev/null || break
    [[ -t 1 || $((tick % 30)) -eq 0 ]] || continue
    last="$(grep -E '^ *(Compiling|Blocking)' "$RUN_DIR/build.log" | tail -n 1 | sed 's/^ *//' || true)"
    line="building… $((SECONDS - t0))s, $(grep -c '^ *Compiling' "$RUN_DIR/build.log" || true) crates started${last:+ (${last})}"
    if [[ -t 1 ]]; then printf '\r\e[K    %s' "${line:0:$(( $(tput cols 2>/dev/null || echo 100) - 5 ))}"; else info "$line"; fi
done
[[ -t 1 ]] && printf '\r\e[K'
wait "$build_pid" || die "cargo build failed"
forget_session "$build_pid"
info "built in $((SECONDS - t0))s"

step "serve them with cargo lambda watch"
WATCH_PORT="$(free_port)"
WATCH_URL="http://127.0.0.1:$WATCH_PORT"
cat >"$RUN_DIR/functions.env" <<EOF
AWS_ACCESS_KEY_ID=testing
AWS_SECRET_ACCESS_KEY=testing
AWS_REGION=ap-south-1
AWS_DEFAULT_REGION=ap-south-1
AWS_EC2_METADATA_DISABLED=true
AWS_ENDPOINT_URL=$MOTO_URL
EVENTS_TABLE=webhook-events
CALLBACK_QUEUE_URL=$QUEUE_URL
RUST_LOG=${RUST_LOG:-info}
EOF
if [[ -z "$LOAD" ]]; then
    # truecaller-campaign (TRUECALLER_ORG_TOKEN_PARAM is in its Cargo.toml);
    # the receivers ignore these.
    cat >>"$RUN_DIR/functions.env" <<EOF
CAMPAIGN_DLQ_URL=$DLQ_URL
TRUECALLER_CAMPAIGN_URL=$STANDIN_URL
TRUECALLER_ORG_ID=dev-org
CAMPAIGN_TEMPLATES='$("$PY" -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1])), separators=(",", ":")))' events/truecaller-campaign/templates.json)'
EOF
fi
LOG_ON_FAILURE="$RUN_DIR/watch.log"
start_bg "$RUN_DIR/watch.log" cargo lambda watch \
    --invoke-address 127.0.0.1 --invoke-port "$WATCH_PORT" \
    --ignore-changes --concurrency "$INSTANCES" --env-file "$RUN_DIR/functions.env"
WATCH_PID=$BG_PID
wait_port "$WATCH_PORT" "$WATCH_PID" 120 || die "cargo lambda watch did not start on $WATCH_URL"
info "cargo lambda watch on $WATCH_URL (log: $RUN_DIR/watch.log)"
info "starting each function (a request without a token; it must answer 401):"
"$PY" scripts/replay.py warm-up --base "$WATCH_URL" --log "$RUN_DIR/watch.log" "${FUNCTIONS[@]}" \
    || die "a function did not start"

if [[ -n "$LOAD" ]]; then
    step "load: $LOAD_COUNT Truecaller task events, $LOAD_CONNS connections, $LOAD_CONNS function instances"
    count="$LOAD_COUNT"; conns="$LOAD_CONNS"
    "$PY" scripts/load.py --base "$WATCH_URL" --endpoint "$MOTO_URL" --count "$count" --concurrency "$conns" \
        --pid "moto_server=$MOTO_PID" --pid "cargo-lambda-watch+functions=$WATCH_PID"
    exit $?
fi

# --------------------------------------------------------------- 4-5. replay and report
step "replay events/${ONLY:-*}/*.json  (provider, file, HTTP status, outcome per event)"
"$PY" scripts/replay.py replay --base "$WATCH_URL" --events events --out "$RUN_DIR/deliveries.jsonl" ${ONLY:+--only "$ONLY"}

LOG_ON_FAILURE=""
report_rc=0
"$PY" scripts/local_stack.py report --endpoint "$MOTO_URL" --deliveries "$RUN_DIR/deliveries.jsonl" \
    --tasks-out "$RUN_DIR/tasks.jsonl" || report_rc=$?

if [[ -z "$ONLY" || "$ONLY" == truecaller ]]; then
    step "cargo lambda invoke (the Lambda API path, same stack)"
    info "cargo lambda invoke truecaller --invoke-address 127.0.0.1 --invoke-port $WATCH_PORT --data-file events/truecaller/cmb-happy-flow.json"
    LOG_ON_FAILURE="$RUN_DIR/watch.log"
    out="$(cargo lambda invoke truecaller --invoke-address 127.0.0.1 --invoke-port "$WATCH_PORT" \
        --data-file events/truecaller/cmb-happy-flow.json --output-format json 2>&1)" \
        || die "cargo lambda invoke failed: $out"
    LOG_ON_FAILURE=""
    "$PY" -c 'import json, sys
r = json.loads(sys.argv[1])
print("    statusCode", r.get("statusCode"), "body", r.get("body"))' "$out" \
        || info "$out"
    info "(a duplicate of the replayed cmb-happy-flow.json: acknowledged, no second task)"
fi

# --------------------------------------------------------------- 6. campaign push
step "truecaller-campaign: the table's DynamoDB stream → one Verified Campaign per callback task"
info "templates events/truecaller-campaign/templates.json, pushes to the stand-in, X-Org-Token from SSM"
LOG_ON_FAILURE="$RUN_DIR/watch.log"
campaign_rc=0
"$PY" scripts/campaign_push.py push --endpoint "$MOTO_URL" --invoke "$WATCH_URL" --tasks "$RUN_DIR/tasks.jsonl" \
    --dlq-url "$DLQ_URL" --org-id dev-org --standin-log "$RUN_DIR/standin.jsonl" \
    --function-log "$RUN_DIR/watch.log" --out "$RUN_DIR" || campaign_rc=$?

if [[ -z "$ONLY" || "$ONLY" == truecaller ]]; then
    # The recorded stream event is cmb-happy-flow's transition, already pushed above.
    info "cargo lambda invoke truecaller-campaign --invoke-address 127.0.0.1 --invoke-port $WATCH_PORT --data-file events/truecaller-campaign/modify-to-enqueued-cmb.json"
    pushes_before="$(grep -c '"method": "POST"' "$RUN_DIR/standin.jsonl" || true)"
    out="$(cargo lambda invoke truecaller-campaign --invoke-address 127.0.0.1 --invoke-port "$WATCH_PORT" \
        --data-file events/truecaller-campaign/modify-to-enqueued-cmb.json --output-format json 2>&1)" \
        || die "cargo lambda invoke truecaller-campaign failed: $out"
    pushes_after="$(grep -c '"method": "POST"' "$RUN_DIR/standin.jsonl" || true)"
    out="$("$PY" -c 'import json, sys; print(json.dumps(json.loads(sys.argv[1])))' "$out" 2>/dev/null || echo "$out")"
    info "answer $out; stand-in: $((pushes_after - pushes_before)) new pushes (cmb-happy-flow's task, pushed above: a duplicate)"
    [[ "$pushes_after" == "$pushes_before" ]] || { info "FAIL: a recorded, already pushed task was pushed again"; campaign_rc=1; }
fi

step "truecaller-campaign with an invalid template (events/truecaller-campaign/templates-invalid.json)"
target_dir="$(cargo metadata --format-version 1 --no-deps | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
"$PY" scripts/campaign_push.py invalid --binary "$target_dir/debug/truecaller-campaign" \
    --env-file "$RUN_DIR/functions.env" --templates events/truecaller-campaign/templates-invalid.json \
    --extra-env TRUECALLER_ORG_TOKEN_PARAM=/truecaller-campaign/org-token \
    --standin-log "$RUN_DIR/standin.jsonl" || campaign_rc=$?
LOG_ON_FAILURE=""
[[ $campaign_rc -eq 0 ]] || die "truecaller-campaign: not exactly one valid push per callback task, or an invalid template was not refused (see above)"

# --------------------------------------------------------------- 7. on call
step "webhook-ops, the on-call CLI: stats, then the trace of a task the replay queued"
ops_env=(env AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=ap-south-1
    AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL="$MOTO_URL" EVENTS_TABLE=webhook-events
    CALLBACK_QUEUE_URL="$QUEUE_URL" CAMPAIGN_DLQ_URL="$DLQ_URL")
info "webhook-ops stats"
"${ops_env[@]}" "$target_dir/debug/webhook-ops" stats || die "webhook-ops stats failed"
ops_task="$("$PY" -c 'import json, sys
for line in open(sys.argv[1]):
    print(json.loads(line)["task_id"]); break' "$RUN_DIR/tasks.jsonl" 2>/dev/null || true)"
if [[ -n "$ops_task" ]]; then
    info "webhook-ops trace $ops_task"
    "${ops_env[@]}" "$target_dir/debug/webhook-ops" trace "$ops_task" || die "webhook-ops trace failed"
fi

step "done in $((SECONDS - STARTED_AT))s"
if [[ $KEEP == 1 ]]; then
    info "stack is up — Ctrl-C to stop it:"
    info "  moto_server        $MOTO_URL"
    info "  Truecaller stand-in $STANDIN_URL (log: $RUN_DIR/standin.jsonl)"
    info "  campaign invoke    cargo lambda invoke truecaller-campaign --invoke-address 127.0.0.1 --invoke-port $WATCH_PORT --data-file $RUN_DIR/campaign-batch-1.json"
    info "  function URLs      $WATCH_URL/lambda-url/<function>/webhooks/...  (functions: ${FUNCTIONS[*]})"
    info "  lambda invoke      cargo lambda invoke truecaller --invoke-address 127.0.0.1 --invoke-port $WATCH_PORT --data-file events/truecaller/cmb-happy-flow.json"
    info "  curl               curl -s '$WATCH_URL/lambda-url/smartflo/webhooks/smartflo/call-hangup-missed?key=dev-token-smartflo&call_id=demo-1&caller_id_number=09876543210&call_status=missed'"
    info "  watch log          $RUN_DIR/watch.log"
    RUN_KEEP_LOGS=0
    while kill -0 "$WATCH_PID" 2>/dev/null && kill -0 "$MOTO_PID" 2>/dev/null; do sleep 1; done
    die "a local service stopped on its own"
fi
exit "$report_rc"
