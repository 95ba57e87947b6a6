#!/usr/bin/env bash
# What Chinese word segmentation costs at build time (a benchmark, not a test):
# `data build` of shared/data/zh_four_classics (8.8 MB, paragraph format,
# bert-base-chinese's vocab) with data.word_segmentation none and icu, forced
# rebuilds, alternating, 3 times each. Prints per run the build's own seconds
# and MB/s, the process's CPU seconds (user + sys, start-up included) and
# peak RSS; then the ratios icu/none of the median and of the best build
# times (target: icu adds <= 30 %). On a machine shared with other jobs the
# best times and the CPU seconds are the steadier figures.
# Usage: scripts/bench_segmentation.sh [build-dir] [repeats]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
repeats=${2:-3}
bin="$build_dir/bertforge"
[[ -x "$bin" ]] || { echo "no $bin; build it first: cmake --build $build_dir --target bertforge" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "needs /usr/bin/time (Debian package: time)" >&2; exit 1; }
shared=${BERTFORGE_SHARED:-../shared}
corpus="$shared/data/zh_four_classics/four_classics_clean.txt"
vocab="$shared/data/bert_vocab/bert-base-chinese-vocab.txt"
[[ -f "$corpus" && -f "$vocab" ]] || { echo "needs $corpus and $vocab" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/bertforge-bench-seg.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tokenizer"
cp "$vocab" "$work/tokenizer/vocab.txt"
cat > "$work/build.yaml" <<YAML
tokenizer: $work/tokenizer
data:
  inputs: [{path: $corpus, format: paragraph}]
  output: $work/shards
  heldout_fraction: 0.02
YAML

echo "machine: $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "corpus: $corpus ($(du -k "$corpus" | cut -f1) KB)"
printf '%-6s %4s %9s %8s %8s %12s\n' mode run seconds "MB/s" "CPU s" "peak RSS MB"
declare -A seconds
for ((r = 1; r <= repeats; r++)); do
  for mode in none icu; do
    "/usr/bin/time" -v -o "$work/time.txt" "$bin" data build --config "$work/build.yaml" --force \
      --set data.word_segmentation=$mode >"$work/out.txt" 2>"$work/log.txt"
    # "12.3 MB of text in 1.23 s: 10.00 MB/s" (the build's own figures, reading included)
    read -r secs rate < <(sed -n 's/.* in \([0-9.]*\) s: \([0-9.]*\) MB\/s/\1 \2/p' "$work/out.txt")
    rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.txt")
    cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$work/time.txt")
    printf '%-6s %4d %9.2f %8.2f %8.2f %12.0f\n' "$mode" "$r" "$secs" "$rate" "$cpu" "$((rss_kb / 1024))"
    seconds[$mode]+="$secs "
  done
done
grep -h -m1 "segmentation icu" "$work/out.txt" "$work/log.txt" | sed 's/.*data build: /icu build log: /' || true
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
best() { tr ' ' '\n' | grep -v '^$' | sort -g | head -1; }
for stat in median best; do
  none=$(echo "${seconds[none]}" | $stat)
  icu=$(echo "${seconds[icu]}" | $stat)
  awk -v s="$stat" -v n="$none" -v i="$icu" \
    'BEGIN { printf "%s seconds: none %.2f, icu %.2f; icu/none = %.2f (+%.0f %%)\n", s, n, i, i / n, 100 * (i / n - 1) }'
done
