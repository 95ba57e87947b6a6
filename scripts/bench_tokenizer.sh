#!/usr/bin/env bash
# Tokenizer throughput on the whole English pretraining corpus: MB/s of raw
# text for WordPiece (bert-base-uncased) and SentencePiece (a 32k unigram
# trained on the same corpus with configs/tokenizer.yaml), on 1 thread and on
# all cores. Targets: WordPiece >= 10 MB/s per core; all cores >= 1.8x one.
#
#   scripts/bench_tokenizer.sh [BUILD_DIR]     (default: build)
#
# Run from the repository root. The SentencePiece model is trained once into
# BUILD_DIR/bench_tokenizer_en_32k and reused.
set -euo pipefail

build=${1:-build}
bin="$build/bertforge"
corpus=../shared/data/en_pretrain/en_pretrain.txt
vocab=../shared/data/bert_vocab/bert-base-uncased-vocab.txt
spm_dir="$build/bench_tokenizer_en_32k"

[ -x "$bin" ] || { echo "no $bin: build it first (cmake --build $build --target bertforge)" >&2; exit 1; }
[ -f "$corpus" ] || { echo "missing $corpus" >&2; exit 1; }

echo "== WordPiece, bert-base-uncased vocab"
"$bin" tokenizer bench --vocab "$vocab" --input "$corpus" --repeat 7

if [ ! -f "$spm_dir/tokenizer_config.json" ]; then
  echo "== training the 32k unigram SentencePiece model (once)"
  /usr/bin/time -f "   trained in %e s" "$bin" tokenizer train --config configs/tokenizer.yaml --set "output_dir=$spm_dir"
fi
echo "== SentencePiece, 32k unigram trained on en_pretrain"
"$bin" tokenizer bench --tokenizer "$spm_dir" --input "$corpus" --repeat 7
