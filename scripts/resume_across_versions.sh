#!/usr/bin/env bash
# A checkpoint written by one build must resume bit-identically in another:
# OLD stops a tiny pretraining run and a tiny fine-tuning run halfway (a
# checkpoint), NEW resumes them, and both are compared with OLD's
# uninterrupted runs (every step's loss, the final weights byte for byte).
#
#   scripts/resume_across_versions.sh OLD_BERTFORGE NEW_BERTFORGE [WORKDIR]
set -euo pipefail
OLD="$1"; NEW="$2"; W="${3:-$(mktemp -d)}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${BERTFORGE_SHARED:-$ROOT/../shared}"
mkdir -p "$W/tok"
cp "$SHARED/data/bert_vocab/bert-base-uncased-vocab.txt" "$W/tok/vocab.txt"
head -n 1500 "$SHARED/data/en_pretrain/en_pretrain.txt" > "$W/corpus.txt"
head -n 161 "$SHARED/data/sst2/train.tsv" > "$W/train.tsv"
head -n 49 "$SHARED/data/sst2/dev.tsv" > "$W/dev.tsv"

cat > "$W/pretrain.yaml" <<YAML
run: {name: compat, output_dir: OUT, seed: 7, device: cpu, threads: 1}
tokenizer: $W/tok
data: {inputs: [{path: $W/corpus.txt, format: google}], output: $W/data, heldout_fraction: 0.1, max_seq_length: 48, max_predictions_per_seq: 8}
model: {preset: tiny, hidden_size: 32, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 64}
optimizer: {lr: 1.0e-3}
schedule: {name: linear, warmup_steps: 2}
training: {batch_size: 4, max_steps: 8}
eval: {every_steps: 4, max_batches: 2}
checkpoint: {every_steps: 0, keep_last: 5}
logging: {every_steps: 1, progress_seconds: 1000}
YAML
cat > "$W/finetune.yaml" <<YAML
run: {name: compat, output_dir: OUT, seed: 11, device: cpu, threads: 1}
model: {preset: tiny, hidden_size: 32, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 64, tokenizer: $W/tok}
data: {train: $W/train.tsv, dev: $W/dev.tsv, text_column: sentence, max_seq_length: 48}
optimizer: {lr: 1.0e-3}
schedule: {name: linear, warmup_steps: 1}
training: {batch_size: 8, max_steps: 8}
eval: {every_steps: 4, batch_size: 16}
checkpoint: {every_steps: 0, keep_last: 5}
logging: {every_steps: 1, progress_seconds: 1000}
YAML

losses() { grep '"type":"train"' "$1/metrics.jsonl" | sed -E 's/.*"loss":([^,}]*).*"step":([0-9]+).*/\2 \1/' | sort -n; }
status=0
for job in pretrain finetune; do
  "$OLD" "$job" --config "$W/$job.yaml" --set run.output_dir="$W/$job-straight" >"$W/$job-straight.log" 2>&1
  "$OLD" "$job" --config "$W/$job.yaml" --set run.output_dir="$W/$job-resumed" --set training.session_steps=4 \
    >"$W/$job-first.log" 2>&1
  "$NEW" "$job" --config "$W/$job.yaml" --set run.output_dir="$W/$job-resumed" --resume >"$W/$job-second.log" 2>&1
  if diff <(losses "$W/$job-straight") <(losses "$W/$job-resumed") >/dev/null &&
     cmp -s "$W/$job-straight/model/model.safetensors" "$W/$job-resumed/model/model.safetensors"; then
    echo "$job: resumed by the new build = uninterrupted old run ($(losses "$W/$job-straight" | wc -l) steps, weights byte-identical)"
  else
    echo "$job: DIFFERENT (logs in $W)"; status=1
  fi
done
exit $status
