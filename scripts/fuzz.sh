#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/targets/) with clang, ASan and UBSan
# into build-fuzz/ and runs each for a bounded time. Not part of the default
# test suite or CI (it needs clang and minutes per target); what it finds is
# kept: a crashing input is copied to tests/fuzz/regressions/<target>/, which
# the default suite replays (tests/fuzz/test_fuzz_regressions.cpp).
#
#   scripts/fuzz.sh                          every target, 60 s each
#   scripts/fuzz.sh --seconds 300            longer
#   scripts/fuzz.sh --seconds 30 rows shard  some targets (names without fuzz_)
#   scripts/fuzz.sh --no-build               run what build-fuzz/ holds
#
# Environment: BERTFORGE_FUZZ_BUILD_DIR (default build-fuzz), BERTFORGE_JOBS
# (build jobs, default nproc), BERTFORGE_SHARED (the shared data, default ../shared).
# Exit status: 0 when no target crashed, 1 when one did, 2 on a usage error.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_PER_TARGET=60
BUILD=1
TARGETS=()
while (($#)); do
  case "$1" in
    --seconds) SECONDS_PER_TARGET="${2:?--seconds needs a number}"; shift 2 ;;
    --seconds=*) SECONDS_PER_TARGET="${1#*=}"; shift ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz: unknown option $1" >&2; exit 2 ;;
    *) TARGETS+=("${1#fuzz_}"); shift ;;
  esac
done
[[ "$SECONDS_PER_TARGET" =~ ^[0-9]+$ && "$SECONDS_PER_TARGET" -gt 0 ]] || { echo "fuzz: --seconds must be a positive integer" >&2; exit 2; }

BUILD_DIR="${BERTFORGE_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
JOBS="${BERTFORGE_JOBS:-$(nproc)}"

# clang and its runtime libraries (libFuzzer, ASan, UBSan), plus what the
# project itself needs (scripts/setup.sh --no-build installs only what is missing).
"$ROOT/scripts/setup.sh" --no-build
missing=()
for pkg in clang libclang-rt-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  echo "fuzz: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ((BUILD)); then
  if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
    # -O1 and line tables only: fast enough to fuzz, symbolised reports, and a
    # build that stays minutes on 2 cores.
    cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang \
      -DBERTFORGE_FUZZ=ON -DBERTFORGE_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" >/dev/null
  else
    cmake "$BUILD_DIR" >/dev/null  # picks up new targets (the sources are globbed)
  fi
  LOG="$BUILD_DIR/fuzz-build.log"
  echo "fuzz: building the targets in $BUILD_DIR (log: $LOG)"
  if ! cmake --build "$BUILD_DIR" -j"$JOBS" --target fuzz_targets >"$LOG" 2>&1; then
    grep -E "error|Error" "$LOG" | head -40 >&2 || true
    echo "fuzz: build failed; full log in $LOG" >&2
    exit 1
  fi
fi

if ((${#TARGETS[@]} == 0)); then
  for src in "$ROOT"/tests/fuzz/targets/fuzz_*.cpp; do
    name="$(basename "$src" .cpp)"
    TARGETS+=("${name#fuzz_}")
  done
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:symbolize=1:detect_stack_use_after_return=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

RESULTS=()
any_crash=0
for target in "${TARGETS[@]}"; do
  exe="$BUILD_DIR/fuzz/fuzz_$target"
  [[ -x "$exe" ]] || { echo "fuzz: no target $exe (build first)" >&2; exit 2; }
  seeds="$ROOT/tests/fuzz/corpus/$target"
  work="$BUILD_DIR/fuzz/work/$target"          # grows with what libFuzzer finds; not committed
  artifacts="$BUILD_DIR/fuzz/artifacts/$target"
  regressions="$ROOT/tests/fuzz/regressions/$target"
  mkdir -p "$work" "$artifacts"
  log="$BUILD_DIR/fuzz/$target.log"
  : >"$log"
  execs=0; crashes=0; left=$SECONDS_PER_TARGET; start=$(date +%s)
  echo "fuzz: fuzz_$target for ${SECONDS_PER_TARGET}s (log: $log)"
  # libFuzzer stops at the first crash: keep the input and go on until the time
  # is spent (at most 5 crashes per target; a sixth would likely repeat one).
  while ((left > 0 && crashes < 5)); do
    before=$(ls "$artifacts" | wc -l)
    set +e
    "$exe" "$work" "$seeds" -max_total_time="$left" -timeout=10 -rss_limit_mb=4096 -malloc_limit_mb=1024 \
      -print_final_stats=1 -artifact_prefix="$artifacts/" >>"$log" 2>&1
    rc=$?
    set -e
    run_execs=$(grep -a "stat::number_of_executed_units" "$log" | tail -1 | awk '{print $2}')
    execs=$((execs + ${run_execs:-0}))
    # Mark this run's statistics as counted.
    sed -i 's/^stat::number_of_executed_units/counted::number_of_executed_units/' "$log"
    after=$(ls "$artifacts" | wc -l)
    if ((rc != 0 || after > before)); then
      crashes=$((crashes + 1)); any_crash=1
      mkdir -p "$regressions"
      for f in "$artifacts"/*; do
        [[ -f "$f" ]] && [[ ! -e "$regressions/$(basename "$f")" ]] && cp "$f" "$regressions/" &&
          echo "fuzz: fuzz_$target crashed; input kept as tests/fuzz/regressions/$target/$(basename "$f")"
      done
      ((after > before)) || { echo "fuzz: fuzz_$target failed (exit $rc) without an artifact; see $log" >&2; break; }
    fi
    left=$((SECONDS_PER_TARGET - ($(date +%s) - start)))
  done
  elapsed=$(($(date +%s) - start))
  RESULTS+=("$target $elapsed $execs $((execs / (elapsed > 0 ? elapsed : 1))) $(ls "$work" | wc -l) $crashes")
done

echo
printf '%-16s %8s %12s %9s %8s %8s\n' target seconds executions exec/s corpus crashes
for row in "${RESULTS[@]}"; do
  # shellcheck disable=SC2086
  printf '%-16s %8s %12s %9s %8s %8s\n' $row
done
exit "$any_crash"
