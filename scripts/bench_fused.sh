#!/usr/bin/env bash
# Before/after for the fused CPU kernels (src/model/fused): `bench train`
# with and without --unfused, alternated ROUNDS times so that both see the
# same drift of a shared machine, then the median step time of each and the
# peak memory. A benchmark, not a test; run it on an otherwise idle machine.
#
#   scripts/bench_fused.sh [BUILD_DIR]   (env: PRESET=mini BATCH=32 STEPS=6 ROUNDS=3)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-build}/bertforge"
[[ -x "$bin" ]] || { echo "no $bin; build it first: scripts/setup.sh" >&2; exit 1; }
PRESET=${PRESET:-mini}
BATCH=${BATCH:-32}
STEPS=${STEPS:-6}
ROUNDS=${ROUNDS:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/bertforge-bench-fused.XXXXXX")
trap 'rm -rf "$work"' EXIT
for round in $(seq "$ROUNDS"); do
  for variant in fused unfused; do
    flag=()
    [[ "$variant" == unfused ]] && flag=(--unfused)
    "$bin" bench train --preset "$PRESET" --batch "$BATCH" --seq 128 --steps "$STEPS" --warmup 2 "${flag[@]}" \
      --json "$work/$variant-$round.json" >/dev/null
  done
done
python3 - "$work" "$ROUNDS" "$PRESET" "$BATCH" <<'PY'
import json, statistics, sys
work, rounds, preset, batch = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
runs = {v: [json.load(open(f"{work}/{v}-{r}.json")) for r in range(1, rounds + 1)] for v in ("fused", "unfused")}
print(f"{preset}, B {batch} x S 128, fp32, {rounds} alternated rounds (median step of each run):")
for v, rs in runs.items():
    steps = [r["median_step_s"] for r in rs]
    listed = " ".join("%.3f" % s for s in steps)
    peaks = " ".join("%.0f" % r["gemm_peak_fp32_gflops"] for r in rs)
    rss = max(r["peak_rss_gib"] for r in rs)
    print(f"  {v:8s} steps {listed} s; median {statistics.median(steps):.3f} s; peak RSS {rss:.2f} GiB; "
          f"GEMM peaks {peaks} GFLOP/s")
f = statistics.median(r["median_step_s"] for r in runs["fused"])
u = statistics.median(r["median_step_s"] for r in runs["unfused"])
print(f"  fused / unfused step time: {f / u:.3f} ({100 * (1 - f / u):+.1f} % faster)")
PY
