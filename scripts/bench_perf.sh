#!/usr/bin/env bash
# The performance table of docs/performance.md: pretraining steps (mini and
# base, fp32 and bf16), predict and fine-tuning passes on SST-2 sentences with
# dynamic padding against padding to 128, each beside the GEMM peak measured
# in the same process, and the peer's figures from
# ../shared/facts/peer-throughput.md as shares of its own GEMM peak.
#
#   scripts/bench_perf.sh [BUILD_DIR] [OUT_DIR]   (defaults: build, runs/bench)
#
# Prints a markdown table and writes it to OUT_DIR/table.md (the JSON of each
# run beside it). About 5 minutes on 2 cores; run it on an otherwise idle
# machine. bf16 rows are skipped on CPUs without bf16 matrix instructions
# (AVX512_BF16 or AMX), where LibTorch's bf16 matmul is generic code.
set -euo pipefail

build=${1:-build}
out=${2:-runs/bench}
bin="$build/bertforge"
facts=../shared/facts/peer-throughput.md
sst2=../shared/data/sst2/dev.tsv
vocab=../shared/data/bert_vocab/bert-base-uncased-vocab.txt

[ -x "$bin" ] || { echo "no $bin: build it first (scripts/setup.sh)" >&2; exit 1; }
for f in "$facts" "$sst2" "$vocab"; do
  [ -f "$f" ] || { echo "missing $f (../shared must sit beside the repository)" >&2; exit 1; }
done
command -v python3 >/dev/null || { echo "python3 is needed to assemble the table" >&2; exit 1; }
mkdir -p "$out"

fast_bf16=yes
grep -qwE 'avx512_bf16|amx_bf16' /proc/cpuinfo || fast_bf16=no

train() {  # name preset batch precision steps
  if [ "$4" = bf16 ] && [ "$fast_bf16" = no ]; then
    echo "== $1: skipped (this CPU has no AVX512_BF16/AMX: bf16 matmul is generic code here)"
    return
  fi
  echo "== $1"
  "$bin" bench train --preset "$2" --batch "$3" --seq 128 --precision "$4" --steps "$5" --warmup 2 \
    --json "$out/$1.json"
}

tail -n +2 "$sst2" | cut -f1 > "$out/sst2_dev_sentences.txt"
infer() {  # name preset extra-args...
  local name=$1 preset=$2
  shift 2
  echo "== $name"
  "$bin" bench infer --preset "$preset" --input "$out/sst2_dev_sentences.txt" --tokenizer "$vocab" \
    --batch 32 --max-texts 512 --json "$out/$name.json" "$@"
}

echo "== GEMM peak" && "$bin" bench gemm
train train-mini-fp32 mini 32 fp32 10
train train-mini-bf16 mini 32 bf16 10
train train-base-fp32 base 16 fp32 3
train train-base-bf16 base 16 bf16 3
infer predict-base-sst2 base
infer finetune-mini-sst2 mini --train

python3 - "$out" <<'PY' | tee "$out/table.md"
import json, os, sys
out = sys.argv[1]
# The peer (shared/facts/peer-throughput.md): tokens/s and the GEMM peak of
# the same run, two runs each; its share is tokens/s per GFLOP/s of peak.
peer = {
    ("mini", "fp32"): [(1267, 210.8), (1389, 203.7)],
    ("mini", "bf16"): [(2098, 416.8), (1944, 417.3)],
    ("base", "fp32"): [(203, 210.1), (205, 208.6)],
    ("base", "bf16"): [(283, 399.9), (297, 417.5)],
}
def bf16_peak(r):
    return f"{r['gemm_peak_bf16_gflops']:.0f}" if r["gemm_peak_bf16_gflops"] > 0 else "n/a"
def load(name):
    p = os.path.join(out, name + ".json")
    return json.load(open(p)) if os.path.exists(p) else None

print("| pretraining step | median s | tokens/s | GEMM peak GFLOP/s (fp32 / bf16) | useful GFLOP/s | share of peak | vs peer (tokens/s per peak GFLOP/s) | peak RSS GiB |")
print("|---|---|---|---|---|---|---|---|")
for preset, batch in (("mini", 32), ("base", 16)):
    for prec in ("fp32", "bf16"):
        r = load(f"train-{preset}-{prec}")
        label = f"{preset}, B {batch} x S 128, {prec}"
        if r is None:
            print(f"| {label} | skipped: no fast bf16 on this CPU | | | | | | |")
            continue
        peak = r["gemm_peak_fp32_gflops"] if prec == "fp32" else r["gemm_peak_bf16_gflops"]
        ours = r["tokens_per_s"] / peak
        theirs = sum(t / p for t, p in peer[(preset, prec)]) / 2
        print(f"| {label} | {r['median_step_s']:.3f} | {r['tokens_per_s']:.0f} | "
              f"{r['gemm_peak_fp32_gflops']:.0f} / {bf16_peak(r)} | {r['achieved_gflops']:.1f} | "
              f"{100 * r['achieved_gflops'] / peak:.1f} % of {prec} | {ours / theirs:.2f}x ({ours:.2f} vs {theirs:.2f}) | "
              f"{r['peak_rss_gib']:.2f} |")
print()
print("| short texts (SST-2 dev, batch 32) | dynamic padding seq/s | padded to 128 seq/s | speed-up |")
print("|---|---|---|---|")
for name, label in (("predict-base-sst2", "predict, base"), ("finetune-mini-sst2", "fine-tuning steps, mini")):
    r = load(name)
    print(f"| {label} ({r['texts']} texts, mean {r['mean_tokens']:.1f} tokens) | "
          f"{r['dynamic_sequences_per_s']:.1f} | {r['padded_sequences_per_s']:.1f} | {r['speedup']:.2f}x |")
PY
