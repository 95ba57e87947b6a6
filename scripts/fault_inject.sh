#!/usr/bin/env bash
# Fault injection for pretraining (docs/reliability.md).
#
#   scripts/fault_inject.sh [KILLS]          # default 20
#
# 1. kills: an uninterrupted reference run, then the same run killed with
#    SIGKILL KILLS times at random moments -- every other kill aimed at a
#    checkpoint write (BERTFORGE_FAULT_WRITE_DELAY_MS slows each file write so
#    the kill lands while a checkpoint's temporary directory is half written)
#    -- and resumed with --resume after each. After every kill the resume must
#    start from the newest complete checkpoint (never a partial one); at the end
#    the per-step losses (the last record of each step in metrics.jsonl) and the
#    final weights must equal the reference's bit for bit.
# 2. diskfull: a checkpoint write that runs out of space -- on a real
#    size-limited tmpfs when this user may mount one, and through the
#    BERTFORGE_FAULT_WRITE_LIMIT_BYTES hook -- reports the error, leaves the
#    previous checkpoint intact and loadable, and stops the run
#    (checkpoint.on_write_error: stop) or trains on (continue).
# 3. badinputs: read-only output directory, missing input files, shards built
#    with another tokenizer, a checkpoint or init_from of another model size:
#    each must fail before any work with a clear message (printed).
#
# Environment: BF (binary, default build/bertforge), WORK (scratch directory,
# default /tmp/bertforge-faults), SECTIONS ("kills diskfull badinputs"),
# STEPS (steps of the killed run, default 300), SEED (for the kill delays).
# Needs ../shared (the tests' data). Runs at nice 10 with one thread.
set -euo pipefail
cd "$(dirname "$0")/.."
KILLS=${1:-20}
BF=$(realpath "${BF:-build/bertforge}")
WORK=${WORK:-/tmp/bertforge-faults}
SECTIONS=${SECTIONS:-kills diskfull badinputs}
STEPS=${STEPS:-300}
SHARED=${BERTFORGE_SHARED:-../shared}
RANDOM=${SEED:-$$}
[[ -x "$BF" ]] || { echo "no binary at $BF (build first: cmake --build build --target bertforge)" >&2; exit 2; }
[[ -d "$SHARED/data/en_pretrain" ]] || { echo "needs the shared data at $SHARED" >&2; exit 2; }

say() { printf '\n== %s\n' "$*"; }
failures=0
bad() { echo "FAIL: $*"; failures=$((failures + 1)); }

# --- set-up: a tiny model (L1 H32, BERT's uncased vocabulary), one thread ---
mkdir -p "$WORK"
WORK=$(realpath "$WORK")
MOUNTS=()
cleanup() {
  for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null || true; done
}
trap cleanup EXIT
mkdir -p "$WORK/tok-en" "$WORK/tok-zh"
cp "$SHARED/data/bert_vocab/bert-base-uncased-vocab.txt" "$WORK/tok-en/vocab.txt"
cp "$SHARED/data/bert_vocab/bert-base-chinese-vocab.txt" "$WORK/tok-zh/vocab.txt"
head -n 1500 "$SHARED/data/en_pretrain/en_pretrain.txt" > "$WORK/corpus.txt"
cat > "$WORK/run.yaml" <<EOF
run: {name: faults, output_dir: $WORK/ref, seed: 7, device: cpu, threads: 1}
tokenizer: $WORK/tok-en
data:
  inputs: [{path: $WORK/corpus.txt, format: google}]
  output: $WORK/data
  heldout_fraction: 0.1
  max_seq_length: 48
  max_predictions_per_seq: 8
  loader_threads: 1
model: {preset: tiny, num_hidden_layers: 1, hidden_size: 32, num_attention_heads: 2, intermediate_size: 64,
        max_position_embeddings: 64}
optimizer: {lr: 1.0e-3}
schedule: {name: linear, warmup_steps: 10}
training: {batch_size: 4, max_steps: $STEPS}
eval: {every_steps: 50, max_batches: 2}
checkpoint: {every_steps: 2, keep_last: 2}
logging: {every_steps: 1, progress_seconds: 1000}
EOF
bf() { nice -n 10 "$BF" "$@"; }

# The last record of each step and type, without the fields that are timings.
records() {
  jq -c 'select(.type == "train" or .type == "eval") | del(.tokens_per_s, .seconds)' "$1" |
    jq -sc 'group_by([.type, .step]) | map(last) | .[]'
}
# Compares a run with the reference: per-step records and final weights.
same_as_reference() {  # run_dir what
  local run=$1 what=$2 ok=1
  if ! diff <(records "$WORK/ref/metrics.jsonl") <(records "$run/metrics.jsonl") > "$run.diff"; then
    bad "$what: metrics differ from the reference (first lines of $run.diff):"; head -4 "$run.diff"; ok=0
  fi
  if ! cmp -s "$WORK/ref/model/model.safetensors" "$run/model/model.safetensors"; then
    bad "$what: final weights differ from the reference"; ok=0
  fi
  if [[ $ok == 1 ]]; then
    echo "$what: all $(records "$run/metrics.jsonl" | grep -c '"type":"train"') steps' losses and the final weights equal the reference's"
  fi
}
newest_checkpoint() {  # run_dir -> name of the newest step-* directory, or ""
  ls -1 "$1/checkpoints" 2>/dev/null | grep -E '^step-[0-9]+$' | sort | tail -n 1 || true
}
wait_for() {  # seconds command...: polls every 10 ms
  local until=$((SECONDS + $1)); shift
  while ! "$@" 2>/dev/null; do
    [[ $SECONDS -ge $until ]] && return 1
    sleep 0.01
  done
}

say "reference: $STEPS uninterrupted steps"
rm -rf "$WORK/ref" "$WORK/data"
bf pretrain --config "$WORK/run.yaml" > "$WORK/ref.log" 2>&1 || { cat "$WORK/ref.log"; exit 1; }
echo "reference: $(records "$WORK/ref/metrics.jsonl" | grep -c '"type":"train"') steps in $WORK/ref"

# --------------------------------------------------------------------------
if [[ " $SECTIONS " == *" kills "* ]]; then
  say "kills: $KILLS SIGKILLs at random moments, every other one aimed at a checkpoint write"
  RUN=$WORK/killed
  rm -rf "$RUN"
  survived=0 during_write=0 partial_seen=0 fresh_starts=0
  pid=
  start() {  # [extra env...]: starts (or resumes) the run in the background
    local resume=()
    [[ -n "$(newest_checkpoint "$RUN")" ]] && resume=(--resume)
    [[ ${#resume[@]} == 0 ]] && fresh_starts=$((fresh_starts + 1))
    : > "$RUN.log"
    env "$@" nice -n 10 "$BF" pretrain --config "$WORK/run.yaml" --set "run.output_dir=$RUN" "${resume[@]}" \
      >> "$RUN.log" 2>&1 &
    pid=$!
  }
  resumed_from() { grep -o 'resumed from [^ ]* at step [0-9]*' "$RUN.log" | tail -n 1 | awk '{print $3}'; }
  mkdir -p "$RUN"
  for ((k = 1; k <= KILLS; k++)); do
    aimed=$((k % 2 == 0))
    expected=$(newest_checkpoint "$RUN")
    if [[ $aimed == 1 ]]; then
      start BERTFORGE_FAULT_WRITE_DELAY_MS=$((20 + RANDOM % 60))
    else
      start
    fi
    # The resume (if any) must name the newest complete checkpoint.
    resume_ok=1
    if [[ -n "$expected" ]]; then
      if wait_for 60 grep -q 'resumed from' "$RUN.log"; then
        got=$(basename "$(resumed_from)")
        if [[ "$got" != "$expected" ]]; then
          bad "kill $k: resumed from $got, the newest complete checkpoint is $expected"; resume_ok=0
        fi
      else
        bad "kill $k: the resume did not start:"; tail -5 "$RUN.log"; resume_ok=0
      fi
    fi
    if [[ $aimed == 1 ]]; then
      # Wait for a checkpoint's temporary directory, then kill at a random moment inside its write.
      wait_for 60 compgen -G "$RUN/checkpoints/.tmp-step-*" > /dev/null || true
      sleep "0.$((RANDOM % 300))"
    else
      sleep "$((RANDOM % 3)).$((RANDOM % 1000))"
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid" || true
      if grep -q 'stopped by max_steps' "$RUN.log"; then
        echo "kill $k: the run finished before the kill ($STEPS steps were too few); restarting the count is not needed"
        break
      fi
      bad "kill $k: the run died on its own:"; tail -5 "$RUN.log"; continue
    fi
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
    at_step=$(jq -s 'map(select(.type == "train")) | last | .step // 0' "$RUN/metrics.jsonl" 2>/dev/null || echo "?")
    partial=""
    if compgen -G "$RUN/checkpoints/.tmp-step-*" > /dev/null; then
      during_write=$((during_write + 1)); partial_seen=$((partial_seen + 1))
      partial=" (inside the write of $(basename "$(compgen -G "$RUN/checkpoints/.tmp-step-*" | head -n 1)"))"
    fi
    echo "kill $k: $([[ $aimed == 1 ]] && echo aimed || echo random) SIGKILL near step $at_step$partial; newest complete checkpoint $(newest_checkpoint "$RUN")"
    [[ $resume_ok == 1 ]] && survived=$((survived + 1))
  done
  # The last resume runs to the end; it too must start from the newest complete checkpoint.
  expected=$(newest_checkpoint "$RUN")
  start
  if wait "$pid"; then
    got=$(basename "$(resumed_from)")
    [[ -z "$expected" || "$got" == "$expected" ]] || bad "final resume from $got, expected $expected"
  else
    bad "the final resume failed:"; tail -5 "$RUN.log"
  fi
  leftovers=$(find "$RUN" -name '.*tmp*' | wc -l)
  [[ $leftovers == 0 ]] || bad "$leftovers temporary files or directories left in $RUN"
  same_as_reference "$RUN" "kills"
  echo "kills inside a checkpoint write: $during_write (a partial .tmp-step-* directory was on disk, never resumed from)"
  echo "fresh starts (killed before the first checkpoint): $fresh_starts"
  echo "kills survived: $survived/$KILLS"
fi

# --------------------------------------------------------------------------
if [[ " $SECTIONS " == *" diskfull "* ]]; then
  say "diskfull"
  ckpt_bytes=$(du -sb "$WORK/ref/checkpoints/$(newest_checkpoint "$WORK/ref")" | cut -f1)
  # (a) A real full disk: a tmpfs with room for the run's files and two
  # checkpoints (keep_last: 2), not for a third in the making.
  FS=$WORK/tmpfs
  mkdir -p "$FS"
  size=$((ckpt_bytes * 5 / 2))
  if mount -t tmpfs -o "size=$size" tmpfs "$FS" 2>/dev/null; then
    MOUNTS+=("$FS")
    RUN=$FS/run
    set +e
    bf pretrain --config "$WORK/run.yaml" --set "run.output_dir=$RUN" > "$WORK/full.log" 2>&1
    rc=$?
    set -e
    newest=$(newest_checkpoint "$RUN")
    echo "tmpfs of $size bytes: exit $rc, newest checkpoint $newest; the error:"
    grep -A1 '^error:' "$WORK/full.log" | sed 's/^/    /'
    [[ $rc == 1 ]] || bad "disk full: exit $rc, expected 1"
    grep -q 'No space left on device' "$WORK/full.log" || bad "disk full: the error does not say so"
    compgen -G "$RUN/checkpoints/.tmp-*" > /dev/null && bad "disk full: the temporary checkpoint was left behind"
    [[ -n "$newest" ]] || bad "disk full: no checkpoint left"
    # Room again (keep_last 2, the best by eval loss, one in the making, the
    # final model): the run resumes from the intact checkpoint and ends as the reference.
    mount -o "remount,size=$((ckpt_bytes * 8))" "$FS"
    if bf pretrain --config "$WORK/run.yaml" --set "run.output_dir=$RUN" --resume > "$WORK/full-resume.log" 2>&1; then
      echo "after freeing space: $(grep -o 'resumed from .*' "$WORK/full-resume.log" | head -n 1)"
      same_as_reference "$RUN" "disk full (tmpfs), then resume"
    else
      bad "resume after the disk-full stop failed:"; tail -5 "$WORK/full-resume.log"
    fi
    umount "$FS"; MOUNTS=()
  else
    echo "cannot mount a tmpfs here (not root?): the real full disk is skipped, the write-limit hook is used below"
  fi

  # (b) The write-limit hook: the checkpoint of step 4 runs out of space.
  limit=$((ckpt_bytes + ckpt_bytes / 2 + 40000))
  for mode in stop continue; do
    RUN=$WORK/hook-$mode
    rm -rf "$RUN"
    set +e
    hook=(BERTFORGE_FAULT_WRITE_LIMIT_BYTES=$limit)
    [[ $mode == continue ]] && hook+=(BERTFORGE_FAULT_WRITE_FAILURES=1)  # the space comes back
    env "${hook[@]}" nice -n 10 "$BF" pretrain --config "$WORK/run.yaml" --set "run.output_dir=$RUN" --set "checkpoint.on_write_error=$mode" \
      > "$RUN.log" 2>&1
    rc=$?
    set -e
    echo "hook, on_write_error: $mode: exit $rc, checkpoints $(ls "$RUN/checkpoints" | grep step- | tr '\n' ' ')"
    grep -E '^error:|training continues' "$RUN.log" | head -n 2 | cut -c1-400 | sed 's/^/    /'
    compgen -G "$RUN/checkpoints/.tmp-*" > /dev/null && bad "hook $mode: the temporary checkpoint was left behind"
    if [[ $mode == stop ]]; then
      [[ $rc == 1 ]] || bad "hook stop: exit $rc, expected 1"
      if bf pretrain --config "$WORK/run.yaml" --set "run.output_dir=$RUN" --resume > "$RUN-resume.log" 2>&1; then
        same_as_reference "$RUN" "disk full (hook, stop), then resume"
      else
        bad "resume after the hook's disk-full stop failed:"; tail -5 "$RUN-resume.log"
      fi
    else
      [[ $rc == 0 ]] || bad "hook continue: exit $rc, expected 0"
      grep -q '"event":"checkpoint_failed"' "$RUN/metrics.jsonl" || bad "hook continue: no checkpoint_failed event"
      same_as_reference "$RUN" "disk full (hook, continue)"
    fi
  done
fi

# --------------------------------------------------------------------------
if [[ " $SECTIONS " == *" badinputs "* ]]; then
  say "badinputs: each must fail before any work"
  expect_error() {  # label run_dir args...
    local label=$1 run=$2; shift 2
    set +e
    out=$(bf pretrain --config "$WORK/run.yaml" --set "run.output_dir=$run" "$@" 2>&1)
    local rc=$?
    set -e
    local msg
    msg=$(printf '%s\n' "$out" | sed -n '/^error:/,$p' | tr '\n' ' ' | sed 's/  */ /g')
    printf '%s | exit %s | %s\n' "$label" "$rc" "$msg"
    [[ $rc != 0 ]] || bad "$label: accepted"
    if [[ -e "$run/checkpoints" || -e "$run/metrics.jsonl" ]]; then bad "$label: work started in $run"; fi
    if printf '%s\n' "$out" | grep -q 'data build:'; then bad "$label: the data build ran first"; fi
  }
  RO=$WORK/readonly
  mkdir -p "$RO"
  if mount -t tmpfs -o ro,size=1m tmpfs "$RO" 2>/dev/null; then
    MOUNTS+=("$RO")
    expect_error "read-only output directory (read-only mount)" "$RO/run"
    umount "$RO"; MOUNTS=()
  fi
  if [[ $(id -u) != 0 ]]; then
    chmod 0555 "$RO"
    expect_error "read-only output directory (mode 0555)" "$RO/run"
    chmod 0755 "$RO"
  fi
  expect_error "missing corpus file" "$WORK/bad-missing" --set "data.output=$WORK/data-missing" \
    --set "data.inputs=[{path: $WORK/no-such-corpus.txt, format: google}]"
  expect_error "missing tokenizer" "$WORK/bad-tok" --set "tokenizer=$WORK/no-such-tokenizer"
  expect_error "shards built with another tokenizer" "$WORK/bad-shards" --set "tokenizer=$WORK/tok-zh"
  expect_error "shards built with another tokenizer (data.inputs empty)" "$WORK/bad-shards2" \
    --set "tokenizer=$WORK/tok-zh" --set "data.inputs=[]"
  ref_ckpt=$WORK/ref/checkpoints/$(newest_checkpoint "$WORK/ref")
  expect_error "--resume a checkpoint of another model size" "$WORK/bad-size" --set model.hidden_size=64 \
    --resume "$ref_ckpt"
  expect_error "--resume it with --allow-config-change" "$WORK/bad-size2" --set model.hidden_size=64 \
    --allow-config-change --resume "$ref_ckpt"
  expect_error "model.init_from of another model size" "$WORK/bad-init" --set model.num_hidden_layers=2 \
    --set "model.init_from=$ref_ckpt"
  rm -rf "$WORK/bad-corrupt"; cp -r "$WORK/ref" "$WORK/bad-corrupt"
  c=$WORK/bad-corrupt/checkpoints/$(newest_checkpoint "$WORK/bad-corrupt")
  printf 'x' | dd of="$c/optimizer.safetensors" bs=1 seek=5000 conv=notrunc status=none
  set +e
  out=$(bf pretrain --config "$WORK/run.yaml" --set "run.output_dir=$WORK/bad-corrupt" --resume 2>&1); rc=$?
  set -e
  printf '%s | exit %s | %s\n' "a corrupted checkpoint file (--resume)" "$rc" "$(printf '%s\n' "$out" | grep '^error:')"
  [[ $rc != 0 ]] || bad "a corrupted checkpoint was resumed from"
fi

say "done: $failures failure(s)"
[[ $failures == 0 ]]
