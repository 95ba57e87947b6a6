#!/usr/bin/env bash
# --precision int8 against fp32 and bf16 (docs/performance.md, "int8 and bf16
# inference"): predict speed and the answers' agreement on the same texts.
#
#   scripts/bench_int8.sh [tiny|base|accuracy ...]   (default: all three)
#
# tiny:     bench infer --preset tiny (the quickstart's and the SST-2 model's
#           size) on SST-2 dev, fp32 | bf16 | int8
# base:     bench infer --preset base (random init) on SST-2 dev, as
#           ../shared/facts/inference-peers.md ran ONNX Runtime; int8 and
#           bf16 also print their labels' agreement with fp32
# avx2:     base, fp32 and int8, with LibTorch and oneDNN capped at AVX2 (no
#           AVX-512, VNNI or AMX), as on an AVX2-only machine, where bf16 has
#           no fast path; OpenBLAS (fp32's GEMMs) is left as the environment
#           sets it (OPENBLAS_CORETYPE is not the benchmark's to change)
# accuracy: evaluate --precision fp32 | int8 (| bf16) of the quickstart
#           classifier on data/classify/test.tsv and of a tiny SST-2
#           classifier on SST-2 dev. Both are made first if missing (under
#           runs/int8/: the quickstart's three steps, ~5 min; SST-2 from
#           random init, one epoch, ~4 min).
#
# Each timed command holds /tmp/bf-build.lock (no build runs beside it) and
# takes under 3 minutes on 2 cores. Env: BF, THREADS (default 2), OUT
# (default runs/int8).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BF="${BF:-$ROOT/build/bertforge}"
THREADS="${THREADS:-2}"
OUT="${OUT:-runs/int8}"
SST2_DEV=../shared/data/sst2/dev.tsv
VOCAB="$OUT/vocab"
PARTS=("$@")
[[ ${#PARTS[@]} -gt 0 ]] || PARTS=(tiny base avx2 accuracy)

mkdir -p "$OUT" "$VOCAB"
cp ../shared/data/bert_vocab/bert-base-uncased-vocab.txt "$VOCAB/vocab.txt"
# SST-2 dev's sentences alone, one per line, for bench infer --input.
tail -n +2 "$SST2_DEV" | cut -f1 > "$OUT/sst2_dev.txt"

timed() { flock /tmp/bf-build.lock "$@"; }

grep -m1 "model name" /proc/cpuinfo | sed 's/.*: /cpu: /'
echo "cpu flags: $(grep -m1 flags /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|avx512f|avx512_vnni|avx512_bf16|amx_bf16|amx_int8)$' | tr '\n' ' ')"

# bench infer PRESET TEXTS BATCH MAX_TEXTS REPEAT NAME PRECISIONS...: one
# line per precision.
speed() {
  local preset=$1 texts=$2 batch=$3 max=$4 repeat=$5 name=$6
  shift 6
  for p in "$@"; do
    timed "$BF" bench infer --preset "$preset" --input "$texts" --tokenizer "$VOCAB" --batch "$batch" --pad-to 128 \
      --max-texts "$max" --repeat "$repeat" --threads "$THREADS" --precision "$p" --json "$OUT/bench_${name}_$p.json" \
      --log-level warn >/dev/null
  done
  python3 - "$OUT" "$name" "$@" <<'PY'
import json, sys
out, name, *precisions = sys.argv[1:]
r = {p: json.load(open(f"{out}/bench_{name}_{p}.json")) for p in precisions}
f = r["fp32"]
print(f"\n{name}: preset {f['preset']}, {f['texts']} SST-2 dev sentences (mean {f['mean_tokens']:.1f} tokens), batch {f['batch']}, "
      f"{f['threads']} threads; sequences/s (x fp32)")
print(f"  {'':5s} {'dynamic padding':>22s} {'padded to 128':>22s}   labels = fp32, logits cosine mean/min")
for p, j in r.items():
    d, s = j["dynamic_sequences_per_s"], j["padded_sequences_per_s"]
    a = j.get("against_fp32")
    agree = f"   {100 * a['labels_equal']:.2f} %, {a['cosine_mean']:.5f}/{a['cosine_min']:.5f}" if a else ""
    print(f"  {p:5s} {d:12.1f} ({d / f['dynamic_sequences_per_s']:4.2f}x) {s:12.1f} ({s / f['padded_sequences_per_s']:4.2f}x){agree}")
PY
}

make_quickstart_classifier() {
  [[ -d "$OUT/qs/finetune/best_model" ]] && return
  "$BF" tokenizer train --config configs/quickstart_tokenizer.yaml --set output_dir="$OUT/qs/tokenizer"
  "$BF" pretrain --config configs/quickstart.yaml --set run.output_dir="$OUT/qs/pretrain" \
    --set tokenizer="$OUT/qs/tokenizer" --set data.output="$OUT/qs/data"
  "$BF" finetune --config configs/finetune_quickstart.yaml --set run.output_dir="$OUT/qs/finetune" \
    --set model.init_from="$OUT/qs/pretrain"
}

make_sst2_classifier() {
  [[ -d "$OUT/sst2/best_model" ]] && return
  "$BF" finetune --config configs/finetune_sst2.yaml --set model.init_from= --set model.preset=tiny \
    --set model.tokenizer="$VOCAB" --set run.output_dir="$OUT/sst2" --set training.max_epochs=1
}

# evaluate MODEL DATA NAME: accuracy per precision, and the seconds of the
# whole command (load, read, tokenize, forward).
accuracy() {
  local model=$1 data=$2 name=$3
  echo
  echo "$name: evaluate --model $model --data $data"
  for p in fp32 bf16 int8; do
    local start end
    start=$(date +%s.%N)
    timed "$BF" evaluate --model "$model" --data "$data" --precision "$p" --threads "$THREADS" \
      --output "$OUT/eval_${name}_$p.json" --log-level warn >/dev/null
    end=$(date +%s.%N)
    python3 - "$OUT/eval_${name}_$p.json" "$p" "$start" "$end" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"  {sys.argv[2]:5s} accuracy {100 * r['accuracy']:.2f} %  ({r['examples']} examples, command {float(sys.argv[4]) - float(sys.argv[3]):.2f} s)")
PY
  done
}

for part in "${PARTS[@]}"; do
  case "$part" in
    tiny) speed tiny "$OUT/sst2_dev.txt" 32 872 3 tiny fp32 bf16 int8 ;;
    base) speed base "$OUT/sst2_dev.txt" 32 512 1 base fp32 bf16 int8 ;;
    avx2)
      ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 \
        speed base "$OUT/sst2_dev.txt" 32 256 1 base-avx2 fp32 int8
      ;;
    accuracy)
      make_quickstart_classifier
      make_sst2_classifier
      accuracy "$OUT/qs/finetune/best_model" data/classify/test.tsv quickstart
      accuracy "$OUT/sst2/best_model" "$SST2_DEV" sst2-tiny
      ;;
    *) echo "bench_int8.sh: unknown part $part (tiny, base, avx2 or accuracy)" >&2; exit 2 ;;
  esac
done
