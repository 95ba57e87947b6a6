#!/usr/bin/env bash
# Data pipeline throughput (a benchmark, not a test):
#   build: MB of raw text per second tokenizing shared/data/en_pretrain (25 MB) on all cores
#   loader: sequences per second at max_seq_length 128 with dynamic masking, and
#           how many times what a base-preset training step consumes that is
# Usage: scripts/bench_data.sh [build-dir] [extra `data bench` args, e.g. --seconds 10]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
shift || true
bin="$build_dir/bertforge"
[[ -x "$bin" ]] || { echo "no $bin; build it first: cmake --build $build_dir --target bertforge" >&2; exit 1; }
shared=${BERTFORGE_SHARED:-../shared}
corpus="$shared/data/en_pretrain/en_pretrain.txt"
vocab="$shared/data/bert_vocab/bert-base-uncased-vocab.txt"
[[ -f "$corpus" && -f "$vocab" ]] || { echo "needs $corpus and $vocab" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/bertforge-bench-data.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tokenizer"
cp "$vocab" "$work/tokenizer/vocab.txt"
cat > "$work/bench.yaml" <<YAML
tokenizer: $work/tokenizer
data:
  inputs: [{path: $corpus, format: google}]
  output: $work/shards
  heldout_fraction: 0.01
  max_seq_length: 128
  max_predictions_per_seq: 20
YAML
echo "machine: $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$bin" data bench --config "$work/bench.yaml" "$@"
# The same loader with whole-word masking, for comparison.
echo "--- with whole-word masking:"
"$bin" data bench --config "$work/bench.yaml" --set data.whole_word_masking=true --reuse "$@"
