#!/usr/bin/env bash
# Installs what is missing, builds, and runs the test suite through ctest.
# Tests read ../shared beside the repository and fail if it is missing.
#
#   scripts/test.sh              every test: labels quick + long (Release build in build/)
#   scripts/test.sh --quick      the quick set only (under ~3 minutes on 2 cores)
#   scripts/test.sh --sanitize   the same under ASan + UBSan (build-asan/)
#   scripts/test.sh -R regex     extra arguments go to ctest
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SETUP_ARGS=()
CTEST_ARGS=()
LABEL_ARGS=()
BUILD_DIR="${BERTFORGE_BUILD_DIR:-$ROOT/build}"
while (($#)); do
  case "$1" in
    --sanitize) SETUP_ARGS+=(--sanitize); BUILD_DIR="${BERTFORGE_BUILD_DIR:-$ROOT/build-asan}" ;;
    --quick) LABEL_ARGS=(-L quick) ;;
    *) CTEST_ARGS+=("$1") ;;
  esac
  shift
done

if [[ ! -d "$ROOT/../shared" && -z "${BERTFORGE_SHARED:-}" ]]; then
  echo "test: warning: $ROOT/../shared is missing; tests that need it will fail" >&2
fi

"$ROOT/scripts/setup.sh" "${SETUP_ARGS[@]}"
if [[ " ${SETUP_ARGS[*]-} " == *" --sanitize "* ]]; then
  # sentencepiece's bridge lives in its own link namespace, which ASan does not follow.
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
fi
cd "$BUILD_DIR"
ctest --output-on-failure -j"${BERTFORGE_TEST_JOBS:-$(nproc)}" "${LABEL_ARGS[@]}" "${CTEST_ARGS[@]}"
