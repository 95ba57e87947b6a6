#!/usr/bin/env bash
# The quickstart: installs what is missing, builds, then on the data shipped
# in data/ trains a SentencePiece tokenizer, pretrains a tiny BERT, and
# fine-tunes and evaluates a classifier, and shows what the pretraining bought
# over random weights when labels are few. A few minutes on 2 cores.
# Everything is written under runs/quickstart/ (rerunning starts afresh).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/setup.sh"
BF="$ROOT/build/bertforge"
OUT=runs/quickstart

say() { printf '\n== quickstart: %s\n' "$*"; }

rm -rf "$OUT"
say "1/5 train a SentencePiece tokenizer on data/pretrain (configs/quickstart_tokenizer.yaml)"
"$BF" tokenizer train --config configs/quickstart_tokenizer.yaml
"$BF" tokenizer inspect "$OUT/tokenizer"

say "2/5 pretrain a tiny BERT, MLM + NSP (configs/quickstart.yaml)"
"$BF" pretrain --config configs/quickstart.yaml

say "3/5 fine-tune a classifier from the pretrained model (configs/finetune_quickstart.yaml)"
"$BF" finetune --config configs/finetune_quickstart.yaml

say "4/5 evaluate the fine-tuned classifier on its held-out set"
"$BF" evaluate --model "$OUT/finetune/best_model" --data data/classify/test.tsv

say "5/5 what pretraining bought: the frozen encoder vs random weights, with few labels (bertforge probe)"
for per_class in 10 50; do
  "$BF" probe --model "$OUT/pretrain" --train data/classify/train.tsv --dev data/classify/test.tsv \
    --labels-per-class "$per_class" --with-random-init --log-level warn
done

say "done: see $OUT/pretrain/report.html and $OUT/finetune/report.html"
