#!/usr/bin/env bash
# Which malloc under LibTorch's CPU allocator. `bench train` (mini and base,
# fp32) with glibc and with each maintained allocator Debian ships, preloaded
# into the same binary (what linking it does), and optionally a reference
# binary (e.g. an older build) for comparison. Prints one table: median step,
# share of the GEMM peak of the same run, page faults per step, peak memory.
#
#   scripts/bench_alloc.sh [BUILD_DIR] [REFERENCE_BIN]
#
# BUILD_DIR must be configured with -DBERTFORGE_ALLOCATOR=system (a binary
# that links an allocator keeps it whatever is preloaded). About 10 minutes on
# 2 cores; run it on an otherwise idle machine.
set -euo pipefail
build=${1:-build-system-malloc}
reference=${2:-}
bin="$build/bertforge"
[ -x "$bin" ] || { echo "no $bin (configure a build with -DBERTFORGE_ALLOCATOR=system)" >&2; exit 1; }
if ldd "$bin" | grep -qE 'tcmalloc|jemalloc|mimalloc'; then
  echo "$bin links an allocator already; use a -DBERTFORGE_ALLOCATOR=system build" >&2; exit 1
fi
lib=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
declare -A preload=([glibc]="" [tcmalloc]="$lib/libtcmalloc_minimal.so.4" [jemalloc]="$lib/libjemalloc.so.2"
                    [mimalloc]="$lib/libmimalloc.so.2")
for name in tcmalloc jemalloc mimalloc; do
  [ -f "${preload[$name]}" ] || { echo "missing ${preload[$name]}: apt-get install libtcmalloc-minimal4 libjemalloc2 libmimalloc2.0" >&2; exit 1; }
done

row() {  # label preset batch steps binary [preload]
  local out
  out=$(LD_PRELOAD="${6:-}" "$5" bench train --preset "$2" --batch "$3" --seq 128 --precision fp32 --steps "$4" --warmup 2)
  awk -v label="$1" -v preset="$2" '
    /^  GEMM peak/ { for (i = 1; i <= NF; i++) if ($i == "fp32") peak = $(i + 1) }
    /median step/ { step = $3 }
    /achieved \(fp32\)/ { share = $0; sub(/.*= */, "", share); sub(/%.*/, "", share) }
    /peak resident memory/ { rss = $4; faults = $6 }
    END { printf "| %s | %s | %s | %s | %s %% | %s | %s |\n", preset, label, step, peak, share, faults, rss }' <<<"$out"
}

echo "| preset | malloc | median step s | GEMM peak GFLOP/s | useful share of peak | minor faults / step | peak RSS GiB |"
echo "|---|---|---|---|---|---|---|"
for spec in "mini 32 10" "base 16 3"; do
  set -- $spec
  [ -n "$reference" ] && row "reference ($reference)" "$1" "$2" "$3" "$reference"
  for name in glibc tcmalloc jemalloc mimalloc; do row "$name" "$1" "$2" "$3" "$bin" "${preload[$name]}"; done
done
