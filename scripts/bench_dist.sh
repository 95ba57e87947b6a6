#!/usr/bin/env bash
# Data-parallel scaling on this machine (a benchmark, not a test): the same
# pretraining steps as 1 process with 1 thread, and as 2 Gloo ranks on
# loopback with 1 thread each (bertforge launch), each rank with the same
# per-process batch, so the 2-rank run does twice the work per step.
# Prints tokens/s of both, the speed-up, and two shares of the 2-rank step
# time from metrics.jsonl: the communication backward did not hide
# (allreduce_share: the slower rank's wait) and all of rank 0's wait, which
# adds the time it waited for the slower rank (rank_wait_share).
#
# Usage: scripts/bench_dist.sh [build-dir]   (env: PRESET=mini BATCH=16 SEQ=128 STEPS=40 BUCKET_MB=4)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
bin="$build_dir/bertforge"
[[ -x "$bin" ]] || { echo "no $bin; build it first: scripts/setup.sh" >&2; exit 1; }
shared=${BERTFORGE_SHARED:-../shared}
[[ -f "$shared/data/en_pretrain/en_pretrain.txt" ]] || { echo "needs $shared/data/en_pretrain" >&2; exit 1; }
PRESET=${PRESET:-mini}
BATCH=${BATCH:-16}
SEQ=${SEQ:-128}
STEPS=${STEPS:-40}
BUCKET_MB=${BUCKET_MB:-4}
EVERY=$((STEPS / 4))

work=$(mktemp -d "${TMPDIR:-/tmp}/bertforge-bench-dist.XXXXXX")
trap 'rm -rf "$work"' EXIT
common=(--config configs/mini.yaml --set model.preset="$PRESET" --set data.output=runs/data/en_pretrain
        --set data.max_seq_length="$SEQ" --set training.batch_size="$BATCH" --set training.max_steps="$STEPS"
        --set training.precision=fp32 --set run.threads=1 --set eval.every_steps=0 --set eval.max_batches=1
        --set checkpoint.every_steps=0 --set logging.every_steps="$EVERY" --set schedule.warmup_steps=5 --set distributed.bucket_mb="$BUCKET_MB")
echo "machine: $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "preset $PRESET, batch $BATCH x seq $SEQ per process, $STEPS steps, fp32, 1 thread per process, buckets of $BUCKET_MB MB"
"$bin" pretrain "${common[@]}" --set run.output_dir="$work/one" > "$work/one.log" 2>&1 ||
  { tail -20 "$work/one.log"; exit 1; }
"$bin" launch --nproc-per-node 2 --master-port $((29500 + RANDOM % 1000)) -- pretrain "${common[@]}" \
  --set run.output_dir="$work/two" > "$work/two.log" 2>&1 || { tail -20 "$work/two.log"; exit 1; }

python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
def windows(run):
    recs = [json.loads(l) for l in open(f"{work}/{run}/metrics.jsonl")]
    return [r for r in recs if r.get("type") == "train"][1:]  # the first window holds start-up
one, two = windows("one"), windows("two")
t1 = sum(r["tokens_per_s"] for r in one) / len(one)
t2 = sum(r["tokens_per_s"] for r in two) / len(two)
share = sum(r.get("allreduce_share", 0) for r in two) / len(two)
wait = sum(r.get("rank_wait_share", 0) for r in two) / len(two)
print(f"1 process  x 1 thread : {t1:8.0f} tokens/s")
print(f"2 processes x 1 thread: {t2:8.0f} tokens/s (both ranks together)")
print(f"speed-up {t2 / t1:.2f}x (ideal 2.00x), parallel efficiency {100 * t2 / t1 / 2:.0f} %")
print(f"communication not hidden by backward: {100 * share:.1f} % of the 2-rank step time")
print(f"rank 0's whole wait (+ for the slower rank): {100 * wait:.1f} %")
PY
