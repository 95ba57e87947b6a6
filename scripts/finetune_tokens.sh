#!/usr/bin/env bash
# The token classification and QA figures of docs/finetuning.md ("Token
# classification and QA figures"), from ../shared/data:
#
#   wnut      WNUT-17 NER, entity F1 on test (configs/finetune_wnut17.yaml)
#   cmrc      CMRC 2018, EM / F1 on dev (configs/finetune_cmrc2018.yaml)
#   squad     SQuAD v1.1 dev split by article: articles 1-40 train, 41-48 test
#             (the same settings as cmrc, BERT's uncased vocabulary, SQuAD's metric)
#   memorise  the first 300 CMRC train questions as train and dev, a tiny model
#             without dropout trained until it knows them: EM should reach 90+,
#             which checks that windows, labels, decoding and offsets are exact
#   speed     predict throughput of a tagger and a QA model (bench infer --task)
#   encoders  (only when named) first pretrains the two tiny encoders the
#             docs' "pretrained" column used, into runs/enc/tiny-en and
#             runs/enc/tiny-zh (~15 min each on 2 cores), and uses them
#
# Each of wnut, cmrc and squad runs from random initialisation (a tiny BERT)
# and, when a pretrained encoder is given, from it, with the same config.
#
#   scripts/finetune_tokens.sh [--set key=value ...]
#
# Environment:
#   ARMS="wnut cmrc squad memorise speed"  which arms to run (default: all)
#   INITS="scratch pretrained"  which starts wnut, cmrc and squad run from
#                        (default: both; pretrained needs PRETRAINED_EN/ZH)
#   PRETRAINED_EN=DIR    a bertforge run or model directory with a WordPiece
#                        tokenizer, for wnut and squad (unset: those arms skipped)
#   PRETRAINED_ZH=DIR    the same for cmrc (a Chinese WordPiece vocabulary)
#   STEPS=N | EPOCHS=N   training budget of wnut, cmrc and squad (default: the configs')
#   MEMORISE_EPOCHS=N    epochs of the memorise arm (default 25)
#   QA_SEQ=N QA_STRIDE=N window length and doc stride of the QA arms (default
#                        384, 128); a pretrained model needs max_position_embeddings >= QA_SEQ
#   OUT=DIR              where runs and derived data go (default runs/finetune_tokens)
# Extra --set options go to every finetune.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# BF=path/to/bertforge: that binary, packages checked but nothing built.
if [[ -n "${BF:-}" ]]; then "$ROOT/scripts/setup.sh" --no-build; else "$ROOT/scripts/setup.sh"; fi
BF="${BF:-$ROOT/build/bertforge}"
ARMS="${ARMS:-wnut cmrc squad memorise speed}"
INITS="${INITS:-scratch pretrained}"
OUT="${OUT:-runs/finetune_tokens}"
PRETRAINED_EN="${PRETRAINED_EN:-}"
PRETRAINED_ZH="${PRETRAINED_ZH:-}"
MEMORISE_EPOCHS="${MEMORISE_EPOCHS:-25}"
QA_SEQ="${QA_SEQ:-384}"
QA_STRIDE="${QA_STRIDE:-128}"
EN_VOCAB=../shared/data/bert_vocab/bert-base-uncased-vocab.txt
SQUAD=../shared/data/squad_v1.1/dev-v1.1.json
CMRC_TRAIN=../shared/data/cmrc2018/cmrc2018_train.json

BUDGET=()
if [[ -n "${STEPS:-}" ]]; then
  BUDGET=(--set training.max_steps="$STEPS" --set training.max_epochs=0)
elif [[ -n "${EPOCHS:-}" ]]; then
  BUDGET=(--set training.max_epochs="$EPOCHS")
fi
QA_WINDOWS=(--set data.max_seq_length="$QA_SEQ" --set data.doc_stride="$QA_STRIDE")

say() { printf '\n== finetune_tokens: %s\n' "$*"; }
has_arm() { [[ " $ARMS " == *" $1 "* ]]; }
has_init() { [[ " $INITS " == *" $1 "* ]]; }

SUMMARY=()
row() { SUMMARY+=("$(printf '%-10s %-12s %-22s %s' "$@")"); }

# finetune RUN_DIR CONFIG [--set ...]: a fresh run into RUN_DIR.
finetune() {
  local run="$1" config="$2"
  shift 2
  rm -rf "$run"
  "$BF" finetune --config "$config" --set run.output_dir="$run" "$@"
}
ner_figures() {  # RUN/eval_test.json: fractions, printed as percentages
  local v
  mapfile -t v < <(jq -r '.precision * 100, .recall * 100, .f1 * 100' "$1")
  printf 'P %.1f  R %.1f  F1 %.1f' "${v[@]}"
}
qa_figures() {  # RUN/eval_dev.json: EM and F1 already on 0-100
  local v
  mapfile -t v < <(jq -r '.exact_match, .f1, (.total // "?")' "$1")
  printf 'EM %.1f  F1 %.1f  (%s questions)' "${v[@]}"
}

# (0) Tiny encoders pretrained here: BERT's recipe at lr 1e-3 in fp32 (this
# CPU has no bf16 instructions), batch 32 x 128 pieces.
if has_arm encoders; then
  tiny_encoder() {  # RUN CONFIG STEPS
    say "pretraining a tiny encoder: $2, $3 steps -> $1"
    "$BF" pretrain --config "$2" --set model.preset=tiny --set run.output_dir="$1" --set run.name="$(basename "$1")" \
      --set training.precision=fp32 --set optimizer.lr=1.0e-3 --set schedule.warmup_steps=100 \
      --set training.max_steps="$3" --set eval.every_steps=500 --set checkpoint.every_steps=500
  }
  tiny_encoder runs/enc/tiny-en configs/mini.yaml 1500
  tiny_encoder runs/enc/tiny-zh configs/zh_mini.yaml 1200
  PRETRAINED_EN="${PRETRAINED_EN:-runs/enc/tiny-en}"
  PRETRAINED_ZH="${PRETRAINED_ZH:-runs/enc/tiny-zh}"
fi

# (a) WNUT-17: entity F1 on test.
if has_arm wnut; then
  say "WNUT-17 from random initialisation (tiny)"
  if has_init scratch; then
    finetune "$OUT/wnut17-scratch" configs/finetune_wnut17.yaml "${BUDGET[@]}" "$@"
    row wnut17 scratch "test entity P/R/F1" "$(ner_figures "$OUT/wnut17-scratch/eval_test.json")"
  fi
  if ! has_init pretrained; then
    :
  elif [[ -n "$PRETRAINED_EN" ]]; then
    say "WNUT-17 from $PRETRAINED_EN"
    finetune "$OUT/wnut17-pretrained" configs/finetune_wnut17.yaml \
      --set model.init_from="$PRETRAINED_EN" --set model.tokenizer= "${BUDGET[@]}" "$@"
    row wnut17 pretrained "test entity P/R/F1" "$(ner_figures "$OUT/wnut17-pretrained/eval_test.json")"
  else
    echo "finetune_tokens: PRETRAINED_EN is not set; skipping WNUT-17 from a pretrained encoder"
    row wnut17 pretrained "test entity P/R/F1" "skipped (PRETRAINED_EN unset)"
  fi
fi

# (b) CMRC 2018: EM / F1 on dev (its official metric).
if has_arm cmrc; then
  say "CMRC 2018 from random initialisation (tiny)"
  if has_init scratch; then
    finetune "$OUT/cmrc2018-scratch" configs/finetune_cmrc2018.yaml "${QA_WINDOWS[@]}" "${BUDGET[@]}" "$@"
    row cmrc2018 scratch "dev EM/F1 (cmrc)" "$(qa_figures "$OUT/cmrc2018-scratch/eval_dev.json")"
  fi
  if ! has_init pretrained; then
    :
  elif [[ -n "$PRETRAINED_ZH" ]]; then
    say "CMRC 2018 from $PRETRAINED_ZH"
    finetune "$OUT/cmrc2018-pretrained" configs/finetune_cmrc2018.yaml \
      --set model.init_from="$PRETRAINED_ZH" --set model.tokenizer= "${QA_WINDOWS[@]}" "${BUDGET[@]}" "$@"
    row cmrc2018 pretrained "dev EM/F1 (cmrc)" "$(qa_figures "$OUT/cmrc2018-pretrained/eval_dev.json")"
  else
    echo "finetune_tokens: PRETRAINED_ZH is not set; skipping CMRC 2018 from a pretrained encoder"
    row cmrc2018 pretrained "dev EM/F1 (cmrc)" "skipped (PRETRAINED_ZH unset)"
  fi
fi

# (c) SQuAD v1.1: only its dev set is here; split it by article so that no
# context is shared between train and test. The 8 test articles also serve
# as the dev set that picks the best checkpoint.
if has_arm squad; then
  say "SQuAD v1.1 dev split by article (40 train, 8 test)"
  mkdir -p "$OUT/data"
  jq -c '.data |= .[0:40]' "$SQUAD" >"$OUT/data/squad-train40.json"
  jq -c '.data |= .[40:48]' "$SQUAD" >"$OUT/data/squad-test8.json"
  SQUAD_SET=(--set data.train="$OUT/data/squad-train40.json" --set data.dev="$OUT/data/squad-test8.json"
             --set data.qa_metric=squad)
  if has_init scratch; then
    finetune "$OUT/squad-scratch" configs/finetune_cmrc2018.yaml "${SQUAD_SET[@]}" \
      --set model.tokenizer="$EN_VOCAB" --set run.name=squad8 "${QA_WINDOWS[@]}" "${BUDGET[@]}" "$@"
    row squad8 scratch "test EM/F1 (squad)" "$(qa_figures "$OUT/squad-scratch/eval_dev.json")"
  fi
  if ! has_init pretrained; then
    :
  elif [[ -n "$PRETRAINED_EN" ]]; then
    say "SQuAD split from $PRETRAINED_EN"
    finetune "$OUT/squad-pretrained" configs/finetune_cmrc2018.yaml "${SQUAD_SET[@]}" \
      --set model.init_from="$PRETRAINED_EN" --set model.tokenizer= --set run.name=squad8 \
      "${QA_WINDOWS[@]}" "${BUDGET[@]}" "$@"
    row squad8 pretrained "test EM/F1 (squad)" "$(qa_figures "$OUT/squad-pretrained/eval_dev.json")"
  else
    row squad8 pretrained "test EM/F1 (squad)" "skipped (PRETRAINED_EN unset)"
  fi
fi

# (d) Exactness: a model that has memorised its questions must give back
# their answers character for character; a fault in windows, start/end
# labels, decoding or byte offsets caps EM well below 90.
if has_arm memorise; then
  say "memorise the first 300 CMRC train questions ($MEMORISE_EPOCHS epochs, no dropout)"
  mkdir -p "$OUT/data"
  jq --argjson n 300 '
    .data |= (reduce .[] as $article ({kept: [], left: $n};
      if .left <= 0 then . else
        (reduce $article.paragraphs[] as $p ({ps: [], left: .left};
           if .left <= 0 then . else
             .left as $l | .ps += [$p | .qas |= .[:$l]] | .left -= ($p.qas | length)
           end)) as $r
        | .kept += [$article | .paragraphs = $r.ps] | .left = $r.left
      end) | .kept)' "$CMRC_TRAIN" >"$OUT/data/cmrc-train300.json"
  finetune "$OUT/cmrc-memorise" configs/finetune_cmrc2018.yaml \
    --set data.train="$OUT/data/cmrc-train300.json" --set data.dev="$OUT/data/cmrc-train300.json" \
    --set training.max_epochs="$MEMORISE_EPOCHS" --set model.hidden_dropout_prob=0 \
    --set model.attention_probs_dropout_prob=0 --set run.name=cmrc-memorise "${QA_WINDOWS[@]}" \
    --set data.max_answer_length=128 --set training.batch_size=16 --set optimizer.lr=2.0e-3 \
    --set eval.every_steps=1000000 "$@"
  row memorise scratch "train300 EM/F1 (>=90)" "$(qa_figures "$OUT/cmrc-memorise/eval_dev.json")"
fi

# (e) Predict throughput with dynamic padding: the whole path (windows,
# batches, model, tags or decoded answers), random weights of the given preset.
if has_arm speed; then
  say "predict throughput (bench infer --task)"
  "$BF" bench infer --task token_classification --preset "${SPEED_PRESET:-base}" \
    --input ../shared/data/wnut17/test.conll --tokenizer "$EN_VOCAB" --batch 32 --pad-to 128 --max-texts 1287 \
    --json "$OUT/speed-ner.json"
  row speed "${SPEED_PRESET:-base}" "WNUT-17 test predict" "$(jq -r '"\(.sentences_per_s | floor) sentences/s"' "$OUT/speed-ner.json")"
  "$BF" bench infer --task question_answering --preset "${SPEED_PRESET:-base}" \
    --input ../shared/data/cmrc2018/cmrc2018_dev.json --tokenizer ../shared/data/bert_vocab/bert-base-chinese-vocab.txt \
    --batch 32 --pad-to 384 --max-texts 256 --json "$OUT/speed-qa.json"
  row speed "${SPEED_PRESET:-base}" "CMRC dev predict" "$(jq -r '"\(.questions_per_s * 10 | floor / 10) questions/s"' "$OUT/speed-qa.json")"
fi

echo
echo "token classification and QA figures (best checkpoint by dev; runs in $OUT):"
printf '  %-10s %-12s %-22s %s\n' arm init split figures
for line in "${SUMMARY[@]}"; do
  echo "  $line"
done
