#!/usr/bin/env bash
# Load test of `bertforge serve` on 127.0.0.1 (issue 30's figures), with Debian's wrk (and hey for a probe).
#
#   scripts/load_test.sh MODEL_DIR [LABEL] [--overload] [--soak] [--no-bf16]
#
# Default: throughput and p50/p95/p99 latency at 1, 8 and 64 concurrent clients, short (~20 tokens) and long
# (~128 tokens) inputs, DURATION s each, fp32 (and bf16 where /proc/cpuinfo has avx512_bf16); the offline
# reference (`bertforge predict` on the same inputs, same threads: seq/s, and one batch-1 forward as
# `predict --batch-size 1`'s time per input) and PASS/MISS for the two targets:
#   at 64 clients, throughput >= 90 % of offline predict; at 1 client, p50 <= 1.3 x one batch-1 forward.
# --overload: then 4x the sustainable rate (the fp32 64-client short throughput just measured) for 60 s:
#   counts of 200 / 429 / other (other must be 0), the server's RSS at the sustainable rate vs during,
#   p99 of accepted requests (a hey probe among the load).
# --soak: only a 10-minute run at half the sustainable rate (from this label's last table run, else
#   measured): errors (must be 0) and RSS growth, first minute vs last (<= 5 %).
# Hold the build lock while measuring: flock /tmp/bf-build.lock scripts/load_test.sh ...
# Env: DURATION (s per cell, 15), THREADS (2), OVERLOAD_S (60), SOAK_S (600), ROUTE (/predict),
#      BF (build/bertforge), OUT (runs/load_test/LABEL).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: $0 MODEL_DIR [LABEL] [--overload] [--soak] [--no-bf16]" >&2; exit 2; }
MODEL="" LABEL="" OVERLOAD=0 SOAK=0 BF16=1
for a in "$@"; do
  case "$a" in
    --overload) OVERLOAD=1 ;;
    --soak) SOAK=1 ;;
    --no-bf16) BF16=0 ;;
    -*) usage ;;
    *) if [[ -z $MODEL ]]; then MODEL=$a; elif [[ -z $LABEL ]]; then LABEL=$a; else usage; fi ;;
  esac
done
[[ -n $MODEL && -f $MODEL/config.json ]] || usage
LABEL=${LABEL:-$(basename "$MODEL")}
DURATION=${DURATION:-15} THREADS=${THREADS:-2} OVERLOAD_S=${OVERLOAD_S:-60} SOAK_S=${SOAK_S:-600}
ROUTE=${ROUTE:-/predict} BF=${BF:-build/bertforge} OUT=${OUT:-runs/load_test/$LABEL}
LUA=scripts/load_test/post_bodies.lua
for tool in wrk hey jq curl "$BF"; do command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }; done
grep -qw avx512_bf16 /proc/cpuinfo || BF16=0
# The server's fixed flags: http-threads above every run's connections (cpp-httplib holds a thread per
# open connection), the default queue (256) above the table's 64 clients; the overload run queues 64.
SERVE_FLAGS=(--threads "$THREADS" --http-threads 256 --max-batch-size 32 --max-wait-ms 5)
OVERLOAD_QUEUE=64
mkdir -p "$OUT"

# --- inputs: sentences of data/classify/test.tsv, tokens counted with the model's own tokenizer ----------
make_inputs() {
  awk -F'\t' 'NR > 1 && $1 != "" { print $1 }' data/classify/test.tsv > "$OUT/sentences.txt"
  "$BF" tokenizer encode --tokenizer "$MODEL" < "$OUT/sentences.txt" | awk '{ print NF }' > "$OUT/sentence_tokens.txt"
  # short: single sentences of 16-24 tokens with [CLS] and [SEP]
  paste "$OUT/sentence_tokens.txt" "$OUT/sentences.txt" | awk -F'\t' '$1 + 2 >= 16 && $1 + 2 <= 24 { print $2 }' \
    > "$OUT/short.txt"
  # long: consecutive sentences joined until 120-140 tokens (WordPiece and SentencePiece split at spaces first,
  # so the tokens of a join are the sum)
  paste "$OUT/sentence_tokens.txt" "$OUT/sentences.txt" | awk -F'\t' '
    { n[NR] = $1; s[NR] = $2 }
    END { for (i = 1; i <= NR; i += 3) { t = 2; text = ""
            for (j = i; j <= NR && t < 120; j++) { t += n[j]; text = text (text == "" ? "" : " ") s[j] }
            if (t >= 120 && t <= 140) print text } }' > "$OUT/long.txt"
  local kind
  for kind in short long; do
    [[ $(wc -l < "$OUT/$kind.txt") -ge 20 ]] || { echo "too few $kind inputs in $OUT/$kind.txt" >&2; exit 1; }
    jq -Rc '{inputs: .}' "$OUT/$kind.txt" > "$OUT/$kind.jsonl"
    "$BF" tokenizer encode --tokenizer "$MODEL" --special < "$OUT/$kind.txt" | awk '{ print NF }' > "$OUT/$kind.tokens"
  done
}

# tokens the model sees: truncated to its trained max_seq_length (bertforge_data), else 512
max_len() { jq -r '.bertforge_data.max_seq_length // 512' "$MODEL/config.json"; }
mean_tokens() { awk -v m="$(max_len)" '{ s += ($1 < m ? $1 : m) } END { printf "%.0f", s / NR }' "$OUT/$1.tokens"; }

# --- offline reference -----------------------------------------------------------------------------------
now() { date +%s.%N; }
# seconds of `predict` over the first N lines of FILE repeated as needed (extra flags after)
predict_seconds() {
  local file=$1 n=$2; shift 2
  local in=$OUT/predict_in.txt
  awk -v n="$n" '{ a[NR] = $0 } END { for (i = 0; i < n; i++) print a[i % NR + 1] }' "$file" > "$in"
  local t0; t0=$(now)
  "$BF" predict --model "$MODEL" --input "$in" --format text --output - --threads "$THREADS" \
    --log-level warn "$@" > /dev/null
  awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.4f", b - a }'
}
# seconds per input, marginal over a one-line run (load time cancels), N grown until it takes >= 2 s
per_input_seconds() {
  local file=$1; shift
  local t1 t n=32
  t1=$(predict_seconds "$file" 1 "$@")
  t1=$(awk -v a="$t1" -v b="$(predict_seconds "$file" 1 "$@")" 'BEGIN { print (a < b ? a : b) }')
  while :; do
    t=$(predict_seconds "$file" "$n" "$@")
    if awk -v t="$t" -v a="$t1" 'BEGIN { exit !(t - a >= 2) }' || [[ $n -ge 65536 ]]; then break; fi
    n=$((n * 4))
  done
  # the best of two: other processes on the 2 cores only ever slow a run down
  t=$(awk -v a="$t" -v b="$(predict_seconds "$file" "$n" "$@")" 'BEGIN { print (a < b ? a : b) }')
  awk -v t="$t" -v a="$t1" -v n="$n" 'BEGIN { printf "%.6f", (t - a) / (n - 1) }'
}

# --- the server ----------------------------------------------------------------------------------------
SERVER_PID="" PORT="" SAMPLER_PID=""
start_server() {
  local log=$OUT/server_$1.log; shift
  "$BF" serve --model "$MODEL" --port 0 "${SERVE_FLAGS[@]}" "$@" > "$log" 2>&1 &
  SERVER_PID=$!
  local i
  for i in $(seq 1 600); do
    PORT=$(grep -o 'ready: http://[0-9.]*:[0-9]*' "$log" | sed 's/.*://' || true)
    [[ -n $PORT ]] && curl -fs "http://127.0.0.1:$PORT/health" >/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { tail "$log" >&2; echo "server exited" >&2; exit 1; }
    sleep 0.1
  done
  echo "server not ready in 60 s" >&2; exit 1
}
stop_server() {
  local rc=0
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID" || rc=$?
  SERVER_PID=""
  [[ $rc -eq 0 ]] || { echo "server exited $rc after SIGTERM (want 0)" >&2; exit 1; }
}
sample_rss() {  # VmRSS (kB) of the server every second into $1
  local file=$1; : > "$file"
  ( while kill -0 "$SERVER_PID" 2>/dev/null; do
      awk -v t="$(date +%s)" '/^VmRSS/ { print t, $2 }' "/proc/$SERVER_PID/status" >> "$file" 2>/dev/null || true
      sleep 1
    done ) &
  SAMPLER_PID=$!
}
stop_sampler() { [[ -n $SAMPLER_PID ]] && kill "$SAMPLER_PID" 2>/dev/null; wait "$SAMPLER_PID" 2>/dev/null || true; SAMPLER_PID=""; }
cleanup() { stop_sampler; [[ -n $SERVER_PID ]] && kill -TERM "$SERVER_PID" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT

# one wrk run: CLIENTS SECONDS BODIES [RATE]; prints its RESULT line (FIRST_OTHER to stderr)
listen_overflows() { awk '/^TcpExt:/ { if (!h) { split($0, k); h = 1 } else { split($0, v); for (i in k) if (k[i] == "ListenOverflows") print v[i] } }' /proc/net/netstat; }
wrk_run() {
  local out l0
  l0=$(listen_overflows)
  out=$(wrk -t1 -c"$1" -d"$2"s --timeout 60s -s "$LUA" "http://127.0.0.1:$PORT" -- "$3" "$ROUTE" "${4:-0}")
  grep '^FIRST_OTHER' <<< "$out" >&2 || true
  echo "$(grep '^RESULT' <<< "$out") listen_overflows=$(( $(listen_overflows) - l0 ))"
}
# Requests a finished wrk run left behind are still answered by the server: one request more, queued
# after them, returns once they are done, so the next run starts on an idle server.
drain() { curl -s -o /dev/null --max-time 120 -H 'Content-Type: application/json' -d @"$OUT/short_body.json" "http://127.0.0.1:$PORT$ROUTE"; }
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<< " $1"; }

# --- the table -------------------------------------------------------------------------------------------
machine() {
  local flags
  flags=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|avx512f|avx512_bf16|avx512_vnni|amx_bf16|amx_int8)$' | tr '\n' ' ')
  echo "machine: $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) cores, ${flags% }"
}

run_table() {
  local precisions=(fp32) p kind c r
  [[ $BF16 -eq 1 ]] && precisions+=(bf16)
  echo "| precision | input (tokens) | clients | req/s | p50 ms | p95 ms | p99 ms | non-200 | listen overflows |" > "$OUT/table.md"
  echo "|---|---|---|---|---|---|---|---|---|" >> "$OUT/table.md"
  : > "$OUT/targets.txt"
  for p in "${precisions[@]}"; do
    declare -A offline forward
    for kind in short long; do
      offline[$kind]=$(awk -v s="$(per_input_seconds "$OUT/$kind.txt" --precision "$p")" 'BEGIN { printf "%.1f", 1 / s }')
      forward[$kind]=$(awk -v s="$(per_input_seconds "$OUT/$kind.txt" --precision "$p" --batch-size 1)" 'BEGIN { printf "%.2f", s * 1000 }')
    done
    start_server "table_$p" --precision "$p"
    wrk_run 8 3 "$OUT/short.jsonl" > /dev/null  # warm-up
    for kind in short long; do
      for c in 1 8 64; do
        drain
        r=$(wrk_run "$c" "$DURATION" "$OUT/$kind.jsonl")
        echo "$p $kind $c $r" >> "$OUT/raw.txt"
        echo "| $p | $kind ($(mean_tokens "$kind")) | $c | $(field "$r" rps_ok) | $(field "$r" p50_ms) | $(field "$r" p95_ms) | $(field "$r" p99_ms) | $(( $(field "$r" busy) + $(field "$r" other) + $(field "$r" sock_errors) )) | $(field "$r" listen_overflows) |" >> "$OUT/table.md"
        if [[ $c -eq 64 ]]; then
          awk -v r="$(field "$r" rps_ok)" -v o="${offline[$kind]}" -v p="$p" -v k="$kind" 'BEGIN {
            printf "%s %s: 64 clients %.1f req/s vs offline predict %.1f seq/s = %.0f %% (target >= 90 %%): %s\n",
              p, k, r, o, 100 * r / o, (r >= 0.9 * o ? "PASS" : "MISS") }' >> "$OUT/targets.txt"
          [[ $p == fp32 && $kind == short ]] && field "$r" rps_ok > "$OUT/sustainable_rate"
        fi
        if [[ $c -eq 1 ]]; then
          awk -v l="$(field "$r" p50_ms)" -v f="${forward[$kind]}" -v p="$p" -v k="$kind" 'BEGIN {
            printf "%s %s: 1 client p50 %.2f ms vs one batch-1 forward %.2f ms = %.2fx (target <= 1.3x): %s\n",
              p, k, l, f, l / f, (l <= 1.3 * f ? "PASS" : "MISS") }' >> "$OUT/targets.txt"
        fi
      done
    done
    stop_server
    unset offline forward
  done
}

# --- overload ----------------------------------------------------------------------------------------------
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
run_overload() {
  local rate over r probe steady during
  rate=$(cat "$OUT/sustainable_rate")
  over=$(awk -v r="$rate" 'BEGIN { printf "%.0f", 4 * r }')
  start_server overload --precision fp32 --max-queued "$OVERLOAD_QUEUE"
  sample_rss "$OUT/rss_overload.txt"
  wrk_run 64 20 "$OUT/short.jsonl" > "$OUT/overload_steady.txt"
  steady=$(awk '{ print $2 }' "$OUT/rss_overload.txt" | tail -n 10 | median)
  local mark; mark=$(wc -l < "$OUT/rss_overload.txt")
  # the probe: 2 hey workers at 5 req/s each among the load, the latency of accepted requests
  hey -z "${OVERLOAD_S}s" -c 2 -q 5 -t 60 -m POST -T application/json -D "$OUT/short_body.json" -o csv \
    "http://127.0.0.1:$PORT$ROUTE" > "$OUT/overload_probe.csv" &
  local hey_pid=$!
  r=$(wrk_run 192 "$OVERLOAD_S" "$OUT/short.jsonl" "$over")
  wait "$hey_pid"
  during=$(awk -v m="$mark" 'NR > m { print $2 }' "$OUT/rss_overload.txt" | sort -n | tail -n 1)
  curl -fs "http://127.0.0.1:$PORT/health" > /dev/null || { echo "no /health after the overload" >&2; exit 1; }
  stop_sampler
  curl -s "http://127.0.0.1:$PORT/metrics" | grep '^bertforge_requests_total' > "$OUT/overload_metrics.txt" || true
  stop_server
  probe=$(awk -F, 'NR > 1 && $7 == 200 { print $1 * 1000 }' "$OUT/overload_probe.csv" | sort -n |
    awk '{ a[NR] = $1 } END { i = int(0.99 * NR + 0.999); printf "n=%d p50=%.1f p99=%.1f", NR, a[int(0.5 * NR + 0.999)], a[i] }')
  local probe_ok probe_busy probe_other
  probe_ok=$(awk -F, 'NR > 1 && $7 == 200' "$OUT/overload_probe.csv" | wc -l)
  probe_busy=$(awk -F, 'NR > 1 && $7 == 429' "$OUT/overload_probe.csv" | wc -l)
  probe_other=$(awk -F, 'NR > 1 && $7 != 200 && $7 != 429' "$OUT/overload_probe.csv" | wc -l)
  {
    echo "overload: ${OVERLOAD_S} s at $over req/s offered (4 x $rate), 192 connections (wrk, paced), short inputs, --max-queued $OVERLOAD_QUEUE"
    echo "  wrk: $(field "$r" responses) answers ($(field "$r" rps_ok) accepted/s): 200 = $(field "$r" ok), 429 = $(field "$r" busy), other = $(field "$r" other), socket errors = $(field "$r" sock_errors); latency of all answers p50 $(field "$r" p50_ms) / p99 $(field "$r" p99_ms) / max $(field "$r" max_ms) ms; listen overflows $(field "$r" listen_overflows)"
    echo "  probe (hey, 2 workers x 5 req/s): 200 = $probe_ok, 429 = $probe_busy, other = $probe_other; accepted: $probe ms"
    awk -v s="$steady" -v d="$during" 'BEGIN { printf "  RSS: %.1f MB at the sustainable rate (median of 10 s), %.1f MB max during = %+.1f %% (target within 10 %%): %s\n", s / 1024, d / 1024, 100 * (d - s) / s, (d <= 1.1 * s ? "PASS" : "MISS") }'
    local others=$(( $(field "$r" other) + $(field "$r" sock_errors) + probe_other ))
    echo "  other than 200/429: $others (target 0): $([[ $others -eq 0 ]] && echo PASS || echo MISS)"
  } | tee "$OUT/overload.txt"
}

# --- soak --------------------------------------------------------------------------------------------------
run_soak() {
  local rate half r
  if [[ -s $OUT/sustainable_rate ]]; then
    rate=$(cat "$OUT/sustainable_rate")
  else
    start_server soak_rate --precision fp32
    rate=$(field "$(wrk_run 64 "$DURATION" "$OUT/short.jsonl")" rps_ok)
    stop_server
  fi
  half=$(awk -v r="$rate" 'BEGIN { printf "%.0f", r / 2 }')
  start_server soak --precision fp32
  sample_rss "$OUT/rss_soak.txt"
  r=$(wrk_run 64 "$SOAK_S" "$OUT/short.jsonl" "$half")
  stop_sampler
  stop_server
  local errors=$(( $(field "$r" busy) + $(field "$r" other) + $(field "$r" sock_errors) ))
  {
    echo "soak: ${SOAK_S} s at $half req/s (half of $rate), 64 connections (wrk, paced), short inputs"
    echo "  $(field "$r" responses) answers, $(field "$r" rps_ok) req/s: 200 = $(field "$r" ok), errors = $errors (429 $(field "$r" busy), other $(field "$r" other), socket $(field "$r" sock_errors)) (target 0): $([[ $errors -eq 0 ]] && echo PASS || echo MISS); latency p50 $(field "$r" p50_ms) / p95 $(field "$r" p95_ms) / p99 $(field "$r" p99_ms) / max $(field "$r" max_ms) ms; listen overflows $(field "$r" listen_overflows)"
    awk '{ v[NR] = $2 } END { for (i = 1; i <= 60 && i <= NR; i++) a += v[i]; for (i = NR - 59; i <= NR; i++) if (i > 0) b += v[i]
      a /= (NR < 60 ? NR : 60); b /= (NR < 60 ? NR : 60)
      printf "  RSS: first minute %.1f MB, last minute %.1f MB = %+.1f %% (target <= 5 %%): %s\n", a / 1024, b / 1024, 100 * (b - a) / a, (b <= 1.05 * a ? "PASS" : "MISS")
      # the first minute includes the allocator warm-up (tcmalloc thread caches filling as HTTP threads first allocate): the same from minute 2
      if (NR >= 180) { for (i = 61; i <= 120; i++) c += v[i]; c /= 60
        printf "  RSS after one minute of warm-up: minute 2 %.1f MB, last minute %.1f MB = %+.1f %%\n", c / 1024, b / 1024, 100 * (b - c) / c }
      printf "  RSS by minute (MB):"; for (m = 1; m * 60 <= NR; m++) { s = 0; for (i = (m - 1) * 60 + 1; i <= m * 60; i++) s += v[i]; printf " %.1f", s / 60 / 1024 }; print "" }' "$OUT/rss_soak.txt"
  } | tee "$OUT/soak.txt"
}

echo "bertforge serve load test: $MODEL ($LABEL), $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo '+changes')"
machine
echo "server: bertforge serve --model $MODEL --port 0 ${SERVE_FLAGS[*]} [--precision P]; clients: wrk -t1 (same 2 cores)"
make_inputs
head -n 1 "$OUT/short.jsonl" > "$OUT/short_body.json"
echo "inputs: $(wc -l < "$OUT/short.txt") short (mean $(mean_tokens short) tokens), $(wc -l < "$OUT/long.txt") long (mean $(mean_tokens long) tokens as the model sees them; max length $(max_len)) from data/classify/test.tsv, bodies {\"inputs\": \"...\"} to $ROUTE in turn"
if [[ $SOAK -eq 1 ]]; then run_soak; exit 0; fi
: > "$OUT/raw.txt"
run_table
echo "offline: bertforge predict --threads $THREADS (default batch size) on the same inputs, seq/s marginal over a 1-line run; one batch-1 forward: predict --batch-size 1, time per input"
cat "$OUT/table.md"
cat "$OUT/targets.txt"
if [[ $OVERLOAD -eq 1 ]]; then run_overload; fi
