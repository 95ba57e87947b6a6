#!/usr/bin/env bash
# The fine-tuning figures of docs/finetuning.md: GLUE SST-2 and MRPC from
# ../shared/data, each fine-tuned (a) from a tiny BERT that bertforge
# pretrained on ../shared/data/en_pretrain and (b) from random initialisation,
# same architecture, hyperparameters and budget.
#
#   scripts/finetune_real.sh [--pretrain] [--set key=value ...]
#
# --pretrain first pretrains the tiny model (configs/mini.yaml with a tiny
# preset, fp32, 1,600 steps of 32 x 128 tokens, one pass over the corpus;
# 30 minutes to 2 hours on 2 cores, depending on what else runs).
# Without it, PRETRAINED (default runs/pretrain-tiny) must hold a pretraining
# run, checkpoint or model directory, and PRESET (default tiny) its architecture
# for the baseline, e.g. PRETRAINED=runs/pretrain-mini PRESET=mini.
# Extra --set options go to every finetune.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BF="${BF:-$ROOT/build/bertforge}"
PRETRAINED="${PRETRAINED:-runs/pretrain-tiny}"
# The architecture of PRETRAINED, given to the random-initialisation baseline.
PRESET="${PRESET:-tiny}"
OUT="${OUT:-runs/finetune}"
TOKENIZER=runs/tokenizers/bert-base-uncased-vocab
mkdir -p "$TOKENIZER"
cp ../shared/data/bert_vocab/bert-base-uncased-vocab.txt "$TOKENIZER/vocab.txt"

if [[ "${1:-}" == "--pretrain" ]]; then
  shift
  "$BF" pretrain --config configs/mini.yaml \
    --set model.preset="$PRESET" --set run.output_dir="$PRETRAINED" --set tokenizer="$TOKENIZER" \
    --set data.output=runs/data/en_pretrain_tiny --set training.precision=fp32 --set training.max_steps=1600 \
    --set schedule.warmup_steps=100 --set optimizer.lr=1.0e-3 \
    --set optimizer.clip_grad_norm=1.0 --set checkpoint.every_steps=200 --set eval.every_steps=400 \
    --set eval.max_batches=20
fi

for task in sst2 mrpc; do
  rm -rf "$OUT/$task-pretrained" "$OUT/$task-scratch"
  "$BF" finetune --config "configs/finetune_$task.yaml" --set model.init_from="$PRETRAINED" \
    --set run.output_dir="$OUT/$task-pretrained" "$@"
  "$BF" finetune --config "configs/finetune_$task.yaml" --set model.init_from= --set model.preset="$PRESET" --set model.tokenizer="$TOKENIZER" \
    --set run.output_dir="$OUT/$task-scratch" "$@"
done

echo
echo "dev figures (best checkpoint by dev accuracy):"
for run in sst2-pretrained sst2-scratch mrpc-pretrained mrpc-scratch; do
  python3 - "$OUT/$run/eval_dev.json" "$run" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"  {sys.argv[2]:16s} accuracy {100 * r['accuracy']:.1f}  F1 {100 * r.get('f1', 0):.1f}  MCC {r.get('mcc', 0):.3f}")
PY
done
