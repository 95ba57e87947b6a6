#!/usr/bin/env bash
# Installs every Debian package bertforge needs (only what is missing) and
# builds it in Release. Idempotent: quiet when everything is already there.
#
#   scripts/setup.sh              install + configure + build into build/
#   scripts/setup.sh --sanitize   the same with ASan + UBSan, into build-asan/
#   scripts/setup.sh --no-build   install packages only
#   BERTFORGE_PCH=OFF scripts/setup.sh   configure a new build dir without the precompiled header
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SANITIZE=0
BUILD=1
for arg in "$@"; do
  case "$arg" in
    --sanitize) SANITIZE=1 ;;
    --no-build) BUILD=0 ;;
    *) echo "usage: $0 [--sanitize] [--no-build]" >&2; exit 2 ;;
  esac
done

PACKAGES=(
  g++ cmake make pkg-config
  libtorch-dev            # LibTorch 1.13 (CPU)
  libopenblas0-openmp     # fast BLAS behind libblas.so.3 (the default reference BLAS is ~30x slower)
  libsentencepiece-dev    # SentencePiece, loaded through src/tokenizer's bridge
  libyaml-cpp-dev libspdlog-dev nlohmann-json3-dev libcli11-dev
  libutf8proc-dev libxxhash-dev zlib1g-dev
  libicu-dev              # ICU's Chinese word break iterator (data.word_segmentation: icu)
  libgloo-dev             # headers of c10d's ProcessGroupGloo
  libcpp-httplib-dev      # bertforge serve's HTTP/1.1 server (a compiled library, found by pkg-config)
  wrk hey                 # scripts/load_test.sh drives a running server with them
  libgoogle-perftools-dev # tcmalloc (minimal), linked as malloc: see docs/performance.md
  catch2
  jq                      # the figure scripts (finetune_tokens.sh, learning_curve.sh) read reports with it
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  [[ "$pkg" == \#* ]] && continue
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]})); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# LibTorch calls libblas.so.3; make sure the alternative is OpenBLAS, not the
# reference implementation that an earlier manual choice may have pinned.
blas_alt="libblas.so.3-$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)"
if update-alternatives --query "$blas_alt" >/dev/null 2>&1; then
  if ! update-alternatives --query "$blas_alt" | grep -q "^Value: .*openblas"; then
    SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    $SUDO update-alternatives --auto "$blas_alt" >/dev/null
  fi
fi

((BUILD)) || exit 0

if ((SANITIZE)); then
  BUILD_DIR="${BERTFORGE_BUILD_DIR:-$ROOT/build-asan}"
  BUILD_TYPE=RelWithDebInfo
else
  BUILD_DIR="${BERTFORGE_BUILD_DIR:-$ROOT/build}"
  BUILD_TYPE=Release
fi
JOBS="${BERTFORGE_JOBS:-$(nproc)}"
if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="$BUILD_TYPE" -DBERTFORGE_SANITIZE="$( ((SANITIZE)) && echo ON || echo OFF)" \
    -DBERTFORGE_PCH="${BERTFORGE_PCH:-ON}" >/dev/null
fi
# A first build takes several minutes on 2 cores (LibTorch headers); its full
# log is kept, and printed only when it fails.
LOG="$BUILD_DIR/build.log"
if ! cmake --build "$BUILD_DIR" -j"$JOBS" >"$LOG" 2>&1; then
  grep -E "error|Error" "$LOG" | head -40 >&2 || true
  echo "setup: build failed; full log in $LOG" >&2
  exit 1
fi
echo "setup: built $BUILD_DIR/bertforge"
