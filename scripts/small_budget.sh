#!/usr/bin/env bash
# Pretraining on small compute: variants of one recipe, each given the same
# wall-clock budget on this machine, compared by what the encoder is worth
# downstream (the linear probe on data/classify with 50 labels per class, at
# every evaluation and, at the end, on its test set) and by held-out MLM.
#
#   scripts/small_budget.sh [--set key=value ...]
#
# Arms (ARMS, default all), each a change to BERT's recipe (configs/mini.yaml
# with PRESET, fp32, BERT's uncased vocabulary on ../shared/data/en_pretrain):
#   bert        the reference: NSP, 15 % masking, dropout 0.1, 128 tokens, lr 1e-3, batch 32
#   no_nsp      MLM only (data.nsp: false: contiguous full-length segments)
#   mask40      40 % masking (Wettig et al. 2022), 52 predictions per sequence
#   dropout0    no dropout while pretraining (Cramming)
#   seq64_128   90 % of the budget at 64 tokens, then 10 % at 128 (BERT's own schedule)
#   small       no_nsp + dropout0 + seq64_128 together (a Cramming-style recipe)
#   lr2e3_b64   peak lr 2e-3, batch 64
# Each arm first runs CALIBRATE steps to measure its step time, then gets as
# many steps as fit in BUDGET_MIN minutes (its linear schedule ends there),
# with training.max_time_minutes as a guard.
#
# Environment: BUDGET_MIN (30), PRESET (tiny), ARMS, EVALS (5 evaluations per
# arm), CALIBRATE (20), OUT (runs/small_budget), BF (a built bertforge),
# PROBE_SEEDS (1 2 3 4 5: the labelled subsets of the final test probe),
# TABLE_ONLY=1 (print the table of the arms already in OUT, training none).
# Run it on an otherwise idle machine: an arm calibrated while other work
# shares the cores gets fewer steps than its budget allows.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [[ -n "${BF:-}" ]]; then "$ROOT/scripts/setup.sh" --no-build; else "$ROOT/scripts/setup.sh"; fi
BF="${BF:-$ROOT/build/bertforge}"
BUDGET_MIN="${BUDGET_MIN:-30}"
PRESET="${PRESET:-tiny}"
ARMS="${ARMS:-bert no_nsp mask40 dropout0 seq64_128 lr2e3_b64 small}"
EVALS="${EVALS:-5}"
CALIBRATE="${CALIBRATE:-20}"
PROBE_SEEDS="${PROBE_SEEDS:-1 2 3 4 5}"
OUT="${OUT:-runs/small_budget}"
mkdir -p "$OUT"

PROBE=(--set eval.probe.train=data/classify/train.tsv --set eval.probe.dev=data/classify/dev.tsv
       --set eval.probe.labels_per_class=50 --set eval.probe.mode=linear)
BASE=(--config configs/mini.yaml --set model.preset="$PRESET" --set training.precision=fp32
      --set optimizer.lr=1.0e-3 --set optimizer.clip_grad_norm=1.0 --set schedule.warmup_steps=0
      --set eval.max_batches=20 --set checkpoint.keep_last=1 --set logging.every_steps=10)

arm_settings() {  # the arm's changes to BASE
  case "$1" in
    bert) ;;
    no_nsp) echo "--set data.nsp=false" ;;
    mask40) echo "--set data.masked_lm_prob=0.4 --set data.max_predictions_per_seq=52" ;;
    dropout0) echo "--set model.hidden_dropout_prob=0 --set model.attention_probs_dropout_prob=0" ;;
    lr2e3_b64) echo "--set optimizer.lr=2.0e-3 --set training.batch_size=64" ;;
    seq64_128) ;;
    small) echo "$(arm_settings no_nsp) $(arm_settings dropout0)" ;;
    *) echo "small_budget: unknown arm $1" >&2; exit 2 ;;
  esac
}

# steps_for RUN SECONDS TOKENS_PER_STEP: how many steps of RUN's
# calibration (its mean rate after the first 5 steps) fit in SECONDS.
steps_for() {
  jq -s --argjson budget "$2" --argjson per_step "$3" '
    [.[] | select(.type == "train" and .step > 5) | .tokens_per_s] as $r
    | (($r | add) / ($r | length) / $per_step) as $steps_per_s
    | ($budget * $steps_per_s * 0.95) | floor' "$1/metrics.jsonl"
}

# pretrain_for RUN SECONDS BATCH SEQ [--set ...]: calibrate, then the timed run.
pretrain_for() {
  local run="$1" seconds="$2" batch="$3" seq="$4"
  shift 4
  rm -rf "$run-calibrate" "$run"
  "$BF" pretrain "${BASE[@]}" "$@" --set run.output_dir="$run-calibrate" --set training.max_steps="$CALIBRATE" \
    --set logging.every_steps=1 --set eval.every_steps=0 >"$run-calibrate.log" 2>&1
  local steps every
  steps="$(steps_for "$run-calibrate" "$seconds" "$((batch * seq))")"
  every=$(((steps + EVALS - 1) / EVALS))
  rm -rf "$run-calibrate"
  echo "small_budget: $run: $steps steps in $seconds s"
  "$BF" pretrain "${BASE[@]}" "$@" "${PROBE[@]}" --set run.output_dir="$run" --set training.max_steps="$steps" \
    --set schedule.warmup_ratio=0.06 --set eval.every_steps="$every" --set checkpoint.every_steps="$every" \
    --set training.max_time_minutes="$(awk -v s="$seconds" 'BEGIN { print s * 1.15 / 60 }')" >"$run.log" 2>&1
}

BUDGET_S="$(awk -v m="$BUDGET_MIN" 'BEGIN { print int(m * 60) }')"
[[ "${TABLE_ONLY:-0}" == 1 ]] && ARMS_TO_TRAIN="" || ARMS_TO_TRAIN="$ARMS"
for arm in $ARMS_TO_TRAIN; do
  run="$OUT/$arm"
  data=(--set data.output="$OUT/data-$arm")
  if [[ "$arm" == seq64_128 || "$arm" == small ]]; then
    # shellcheck disable=SC2046
    pretrain_for "$run-64" "$((BUDGET_S * 9 / 10))" 32 64 "${data[@]}-64" --set data.max_seq_length=64 \
      --set data.max_predictions_per_seq=10 $(arm_settings "$arm") "$@"
    # Its newest checkpoint: a run stopped by the time guard exports no model/.
    phase1="$(find "$run-64/checkpoints" -maxdepth 1 -name 'step-*' | sort | tail -n 1)"
    # shellcheck disable=SC2046
    pretrain_for "$run" "$((BUDGET_S / 10))" 32 128 "${data[@]}" --set model.init_from="$phase1" \
      $(arm_settings "$arm") "$@"
  else
    batch=32
    [[ "$arm" == lr2e3_b64 ]] && batch=64
    # shellcheck disable=SC2046
    pretrain_for "$run" "$BUDGET_S" "$batch" 128 "${data[@]}" $(arm_settings "$arm") "$@"
  fi
done

echo
echo "pretraining on small compute: $PRESET, $BUDGET_MIN min of this machine per arm; probe: linear,"
echo "50 labels per class of data/classify (dev during the run, test at the end), random init beside it"
echo
# run_seconds RUN: from its log's first line to "stopped by" (data, probes and all).
run_seconds() {
  local log="$1/train.log" start end
  start="$(head -n 1 "$log" | cut -c2-24)"
  end="$(grep 'stopped by' "$log" | tail -n 1 | cut -c2-24)"
  awk -v s="$(date -d "$start" +%s.%N)" -v e="$(date -d "$end" +%s.%N)" 'BEGIN { printf "%.0f", e - s }'
}

echo "| arm | steps | minutes (whole run) | held-out MLM acc. | NSP acc. | probe dev (last eval) | probe test, mean [min-max] over probe seeds $PROBE_SEEDS | random init, test |"
echo "|---|---|---|---|---|---|---|---|"
for arm in $ARMS; do
  run="$OUT/$arm"
  [[ -f "$run/metrics.jsonl" ]] || continue
  seconds="$(run_seconds "$run")"
  steps="$(jq -s '[.[] | select(.type == "eval")] | last | .step' "$run/metrics.jsonl")"
  if [[ "$arm" == seq64_128 || "$arm" == small ]]; then  # both phases
    seconds=$((seconds + $(run_seconds "$run-64")))
    steps="$(jq -s '[.[] | select(.type == "eval")] | last | .step' "$run-64/metrics.jsonl") + $steps"
  fi
  # The test probe with PROBE_SEEDS subsets of 50 labels per class: the
  # mean (and spread) is less at the mercy of which 200 sentences were drawn.
  for seed in $PROBE_SEEDS; do
    "$BF" probe --model "$run" --train data/classify/train.tsv --dev data/classify/test.tsv --seed "$seed" \
      --labels-per-class 50 --with-random-init --output "$run/probe_test_s$seed.json" --log-level warn >/dev/null
  done
  # shellcheck disable=SC2046
  jq -rs --arg arm "$arm" --arg steps "$steps" --arg minutes "$(awk -v s="$seconds" 'BEGIN { printf "%.1f", s / 60 }')" \
    --slurpfile p <(cat $(printf "$run/probe_test_s%s.json " $PROBE_SEEDS) | jq -s .) '
    def pct: (. * 1000 | round / 10 | tostring) as $t | (if ($t | test("[.]")) then $t else $t + ".0" end) + " %";
    def mean: add / length;
    def spread: "\(mean | pct) [\(min * 1000 | round / 10)-\(max * 1000 | round / 10)]";
    [.[] | select(.type == "eval")] | last as $e
    | "| \($arm) | \($steps) | \($minutes) | \($e.mlm_acc | pct) | \(if $e.nsp_acc then ($e.nsp_acc | pct) else "—" end)"
      + " | \($e.probe_accuracy | pct) | \([$p[0][].accuracy] | spread) | \([$p[0][].random_init.accuracy] | spread) |"' \
    "$run/metrics.jsonl"
done
