#!/usr/bin/env bash
# Equal-compute comparison of Chinese masking strategies (docs/data.md,
# "Chinese pretraining"): the same tiny BERT, data and steps, pretrained with
#
#   char   character masking (data.mask_unit: token; no segmentation)
#   wwm    whole-word masking over ICU's words (word_segmentation: icu)
#   span   SpanBERT span masking over ICU's words (mask_unit: span)
#
# for each seed, then each encoder is
#   - fine-tuned on CMRC 2018 (train; EM / F1 with the cmrc metric on the
#     first DEV_ARTICLES articles of dev, about 1,000 questions by default), and
#   - probed on the four classics: which novel a held-out paragraph comes from
#     (a logistic regression on the frozen encoder, 50 paragraphs per class).
#
# The pretraining text is the four classics (minus the probe's paragraphs)
# and the contexts of cmrc2018_train.json (Wikipedia, modern Chinese). Prints
# one row per run and the mean and spread (min-max) per arm.
#
#   scripts/compare_zh_masking.sh
#
# Environment (defaults in brackets):
#   SEEDS ["1 2 3"]  ARMS ["char wwm span"]  PRETRAIN_STEPS [300]
#   FINETUNE_STEPS [150]  QA_SEQ [256]  DEV_ARTICLES [260]  THREADS [0: all cores]
#   OUT [runs/compare_zh_masking]  BF [build/bertforge; built when unset]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [[ -n "${BF:-}" ]]; then "$ROOT/scripts/setup.sh" --no-build; else "$ROOT/scripts/setup.sh"; fi
BF="${BF:-$ROOT/build/bertforge}"
SEEDS="${SEEDS:-1 2 3}"
ARMS="${ARMS:-char wwm span}"
PRETRAIN_STEPS="${PRETRAIN_STEPS:-300}"
FINETUNE_STEPS="${FINETUNE_STEPS:-150}"
DEV_ARTICLES="${DEV_ARTICLES:-260}"
QA_SEQ="${QA_SEQ:-256}"
THREADS="${THREADS:-0}"
OUT="${OUT:-runs/compare_zh_masking}"
CLASSICS=../shared/data/zh_four_classics/four_classics_clean.txt
CMRC_TRAIN=../shared/data/cmrc2018/cmrc2018_train.json
CMRC_DEV=../shared/data/cmrc2018/cmrc2018_dev.json
VOCAB=../shared/data/bert_vocab/bert-base-chinese-vocab.txt
for f in "$CLASSICS" "$CMRC_TRAIN" "$CMRC_DEV" "$VOCAB"; do
  [[ -f "$f" ]] || { echo "compare_zh_masking: $f is missing (../shared beside the repository)" >&2; exit 1; }
done
mkdir -p "$OUT/prep"

# --- the corpora ---------------------------------------------------------
# Which novel a line belongs to: the title lines 《...》 start each novel.
# Every 10th paragraph of 60-400 characters (180-1200 UTF-8 bytes) goes to
# the probe, alternately train and dev, and is left out of pretraining.
awk -v out="$OUT/prep" '
  BEGIN { print "text\tlabel" > (out "/probe_train.tsv"); print "text\tlabel" > (out "/probe_dev.tsv") }
  /^《三国演义》/ { novel = "sanguo" } /^《水浒传》/ { novel = "shuihu" }
  /^《红楼梦》/ { novel = "honglou" } /^《西游记》/ { novel = "xiyou" }
  {
    if (length($0) >= 180 && length($0) <= 1200 && ++eligible % 10 == 0) {
      text = $0; gsub(/\t/, " ", text)
      print text "\t" novel > (out "/" ((++probe % 2) ? "probe_train.tsv" : "probe_dev.tsv"))
      next
    }
    print > (out "/classics_pretrain.txt")
  }' "$CLASSICS"
# One CMRC context per line, a document each (blank line between).
jq -r '.data[].paragraphs[].context | gsub("[\r\n]+"; " ") + "\n"' "$CMRC_TRAIN" >"$OUT/prep/cmrc_contexts.txt"
# The dev questions scored: the first DEV_ARTICLES articles (one evaluation
# of the whole dev set costs as much as the fine-tuning itself here).
jq --argjson n "$DEV_ARTICLES" '.data |= .[:$n]' "$CMRC_DEV" >"$OUT/prep/cmrc_dev_part.json"
echo "compare_zh_masking: probe $(($(wc -l <"$OUT/prep/probe_train.tsv") - 1)) train /" \
  "$(($(wc -l <"$OUT/prep/probe_dev.tsv") - 1)) dev paragraphs; pretraining" \
  "$(stat -c %s "$OUT/prep/classics_pretrain.txt") bytes of the classics +" \
  "$(stat -c %s "$OUT/prep/cmrc_contexts.txt") bytes of CMRC contexts"

cat >"$OUT/prep/pretrain.yaml" <<EOF
run:
  name: zh-masking
  output_dir: $OUT/unused
  seed: 1
  device: auto
  threads: $THREADS
tokenizer: $VOCAB
data:
  inputs:
    - {path: $OUT/prep/classics_pretrain.txt, format: paragraph}
    - {path: $OUT/prep/cmrc_contexts.txt, format: paragraph}
  output: $OUT/data-none
  heldout_fraction: 0.01
  max_seq_length: 128
  max_predictions_per_seq: 20
  masked_lm_prob: 0.15
model:
  preset: tiny
  max_position_embeddings: 512
optimizer:
  name: adamw
  lr: 1.0e-3
  weight_decay: 0.01
  eps: 1.0e-6
  clip_grad_norm: 1.0
schedule:
  name: linear
  warmup_ratio: 0.05
training:
  batch_size: 32
  max_steps: $PRETRAIN_STEPS
eval:
  every_steps: $PRETRAIN_STEPS
  max_batches: 20
checkpoint:
  every_steps: $PRETRAIN_STEPS
  keep_last: 1
logging:
  every_steps: 50
EOF

arm_settings() {  # the --set options that make an arm
  case "$1" in
    char) echo "--set data.output=$OUT/data-none --set data.word_segmentation=none --set data.mask_unit=token" ;;
    wwm) echo "--set data.output=$OUT/data-icu --set data.word_segmentation=icu --set data.mask_unit=whole_word" ;;
    span) echo "--set data.output=$OUT/data-icu --set data.word_segmentation=icu --set data.mask_unit=span" ;;
    *) echo "compare_zh_masking: unknown arm $1" >&2; exit 2 ;;
  esac
}

ROWS=()
for arm in $ARMS; do
  for seed in $SEEDS; do
    run="$OUT/$arm-seed$seed"
    # shellcheck disable=SC2046
    set -- $(arm_settings "$arm")
    if [[ ! -f "$run/pretrain/run_state.json" && ! -f "$run/pretrain.done" ]]; then
      rm -rf "$run"
      echo "== compare_zh_masking: pretrain $arm seed $seed"
      "$BF" pretrain --config "$OUT/prep/pretrain.yaml" --set run.output_dir="$run/pretrain" \
        --set run.seed="$seed" "$@"
      touch "$run/pretrain.done"
    fi
    echo "== compare_zh_masking: CMRC 2018 from $arm seed $seed"
    rm -rf "$run/cmrc"
    # No dev set while training (no evaluations to choose a best model): the
    # last model is scored once, below.
    "$BF" finetune --config configs/finetune_cmrc2018.yaml --set run.output_dir="$run/cmrc" \
      --set run.seed="$seed" --set run.threads="$THREADS" --set model.init_from="$run/pretrain" \
      --set model.tokenizer= --set data.dev= --set data.max_seq_length="$QA_SEQ" --set data.doc_stride=128 \
      --set training.max_steps="$FINETUNE_STEPS" --set training.max_epochs=0 \
      --set checkpoint.every_steps="$FINETUNE_STEPS" --set logging.every_steps=50
    "$BF" evaluate --model "$run/cmrc/model" --data "$OUT/prep/cmrc_dev_part.json" --threads "$THREADS" \
      --output "$run/cmrc/eval_dev_part.json"
    echo "== compare_zh_masking: probe $arm seed $seed"
    "$BF" probe --model "$run/pretrain" --train "$OUT/prep/probe_train.tsv" --dev "$OUT/prep/probe_dev.tsv" \
      --labels-per-class 50 --seed "$seed" --output "$run/probe.json"
    em=$(jq -r '.exact_match' "$run/cmrc/eval_dev_part.json")
    f1=$(jq -r '.f1' "$run/cmrc/eval_dev_part.json")
    probe=$(jq -r '.accuracy * 100' "$run/probe.json")
    mlm=$(grep '"type":"eval"' "$run/pretrain/metrics.jsonl" | tail -n 1 | jq -r '.mlm_acc * 100')
    ROWS+=("$arm $seed $em $f1 $probe $mlm")
  done
done

printf '\n%-6s %-5s %8s %8s %10s %14s\n' arm seed "CMRC EM" "CMRC F1" "probe acc" "held-out MLM"
for r in "${ROWS[@]}"; do
  # shellcheck disable=SC2086
  printf '%-6s %-5s %8.2f %8.2f %10.1f %14.1f\n' $r
done
printf '\nper arm: mean [min, max] over seeds %s (pretraining %s steps of 32 x 128, CMRC %s steps of 32 x %s, %s dev questions)\n' \
  "$SEEDS" "$PRETRAIN_STEPS" "$FINETUNE_STEPS" "$QA_SEQ" "$(jq '[.data[].paragraphs[].qas | length] | add' "$OUT/prep/cmrc_dev_part.json")"
printf '%s\n' "${ROWS[@]}" | awk '
  { n[$1]++; for (k = 3; k <= 6; k++) { v = $k; s[$1, k] += v
      if (n[$1] == 1 || v < lo[$1, k]) lo[$1, k] = v
      if (n[$1] == 1 || v > hi[$1, k]) hi[$1, k] = v }
    if (!($1 in seen)) { seen[$1] = 1; order[++arms] = $1 } }
  END {
    split("CMRC_EM CMRC_F1 probe_acc heldout_MLM", name, " ")
    for (a = 1; a <= arms; a++) {
      line = sprintf("%-6s", order[a])
      for (k = 3; k <= 6; k++)
        line = line sprintf("  %s %.2f [%.2f, %.2f]", name[k - 2], s[order[a], k] / n[order[a]], lo[order[a], k], hi[order[a], k])
      print line
    }
  }'
echo "(held-out MLM accuracy is measured on each arm's own masking: not comparable across arms)"
