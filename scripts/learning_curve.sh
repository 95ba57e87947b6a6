#!/usr/bin/env bash
# Learning curves: what a pretrained encoder buys over random initialisation
# as the number of labels grows. For each arm (pretrained, random init), each
# size (labels per class) and each seed, every point of one grid of learning
# rates x epochs is fine-tuned; the arm keeps the grid point with the best dev
# accuracy (best checkpoint) and reports its test accuracy. The training
# subset is drawn with the seed (data.labels_per_class, run.seed), so each
# seed is another subset and another initialisation of the head.
#
#   scripts/learning_curve.sh [--set key=value ...]
#
# Environment:
#   TASK=classify        data/classify with the quickstart's encoder (default;
#                        runs scripts/quickstart.sh's pretraining if missing)
#   TASK=sst2            ../shared SST-2 (train; dev split in half: dev / test)
#                        with PRETRAINED, e.g. a tiny en_pretrain run
#   PRETRAINED=DIR       the encoder (default runs/quickstart/pretrain for classify)
#   LABELS="10 50 200 all"   labelled examples per class
#   SEEDS="1 2 3"
#   LRS="1e-4 3e-4 1e-3"     EPOCHS="10 30"     the grid, the same for both arms
#   OUT=DIR              runs and results (default runs/learning_curve/TASK)
# Prints a markdown table (mean and spread over seeds) and writes
# OUT/curve.svg and OUT/results.tsv. Extra --set options go to every finetune.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# BF=path/to/bertforge: that binary, packages checked but nothing built.
if [[ -n "${BF:-}" ]]; then "$ROOT/scripts/setup.sh" --no-build; else "$ROOT/scripts/setup.sh"; fi
BF="${BF:-$ROOT/build/bertforge}"
TASK="${TASK:-classify}"
LABELS="${LABELS:-10 50 200 all}"
SEEDS="${SEEDS:-1 2 3}"
LRS="${LRS:-1e-4 3e-4 1e-3}"
EPOCHS="${EPOCHS:-10 30}"
OUT="${OUT:-runs/learning_curve/$TASK}"
mkdir -p "$OUT"

case "$TASK" in
  classify)
    PRETRAINED="${PRETRAINED:-runs/quickstart/pretrain}"
    if [[ ! -e "$PRETRAINED" && "$PRETRAINED" == runs/quickstart/pretrain ]]; then
      echo "learning_curve: no quickstart encoder yet; pretraining it (configs/quickstart.yaml, ~4 min)"
      "$BF" tokenizer train --config configs/quickstart_tokenizer.yaml
      "$BF" pretrain --config configs/quickstart.yaml
    fi
    CONFIG=configs/finetune_quickstart.yaml
    DATA=(--set data.train=data/classify/train.tsv --set data.dev=data/classify/dev.tsv
          --set data.test=data/classify/test.tsv)
    ;;
  sst2)
    PRETRAINED="${PRETRAINED:?TASK=sst2 needs PRETRAINED (a bertforge run or model directory)}"
    CONFIG=configs/finetune_sst2.yaml
    # SST-2's test labels are not public: its dev set is split in two halves.
    head -n 1 ../shared/data/sst2/dev.tsv >"$OUT/dev.tsv"
    cp "$OUT/dev.tsv" "$OUT/test.tsv"
    tail -n +2 ../shared/data/sst2/dev.tsv | awk 'NR % 2 == 1' >>"$OUT/dev.tsv"
    tail -n +2 ../shared/data/sst2/dev.tsv | awk 'NR % 2 == 0' >>"$OUT/test.tsv"
    DATA=(--set data.train=../shared/data/sst2/train.tsv --set data.dev="$OUT/dev.tsv" --set data.test="$OUT/test.tsv")
    ;;
  *) echo "learning_curve: TASK must be classify or sst2" >&2; exit 2 ;;
esac

# Random initialisation: the pretrained model's shape and tokenizer, fresh weights.
MODEL_CONFIG="$(find -L "$PRETRAINED" -maxdepth 2 -name config.json | sort | head -n 1)"
[[ -n "$MODEL_CONFIG" ]] || { echo "learning_curve: no config.json in $PRETRAINED or its model/" >&2; exit 2; }
RANDOM_INIT=(--set model.init_from= --set model.tokenizer="$(dirname "$MODEL_CONFIG")")
for field in num_hidden_layers hidden_size num_attention_heads intermediate_size max_position_embeddings; do
  RANDOM_INIT+=(--set "model.$field=$(jq -r ".$field" "$MODEL_CONFIG")")
done

RESULTS="$OUT/results.tsv"
printf 'arm\tlabels\tseed\tlr\tepochs\tdev_accuracy\ttest_accuracy\n' >"$RESULTS"
for arm in pretrained random; do
  for labels in $LABELS; do
    per_class=0
    [[ "$labels" != all ]] && per_class="$labels"
    for seed in $SEEDS; do
      for lr in $LRS; do
        for epochs in $EPOCHS; do
          run="$OUT/$arm-$labels-s$seed-lr$lr-e$epochs"
          if [[ ! -f "$run/eval_test.json" ]]; then
            rm -rf "$run"
            init=(--set model.init_from="$PRETRAINED")
            [[ "$arm" == random ]] && init=("${RANDOM_INIT[@]}")
            "$BF" finetune --config "$CONFIG" "${DATA[@]}" "${init[@]}" --set run.output_dir="$run" \
              --set run.seed="$seed" --set data.labels_per_class="$per_class" --set optimizer.lr="$lr" \
              --set training.max_epochs="$epochs" --set training.max_steps=0 --set eval.every_steps=0 \
              --set eval.metric=accuracy --set checkpoint.keep_last=1 "$@" >"$run.log" 2>&1 ||
              { echo "learning_curve: $run failed, see $run.log" >&2; exit 1; }
          fi
          printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$arm" "$labels" "$seed" "$lr" "$epochs" \
            "$(jq -r .accuracy "$run/eval_dev.json")" "$(jq -r .accuracy "$run/eval_test.json")" >>"$RESULTS"
        done
      done
      echo "learning_curve: $arm, $labels labels per class, seed $seed done"
    done
  done
done

# Per (arm, labels, seed): the grid point with the best dev accuracy (the
# first such in grid order), then mean and min-max of its test accuracy.
SUMMARY="$OUT/summary.tsv"
awk -F'\t' 'NR > 1 {
    key = $1 "\t" $2 "\t" $3
    if (!(key in best) || $6 > best[key]) { best[key] = $6; test[key] = $7; order[key] = ++n }
  }
  END { for (k in test) print k "\t" test[k] }' "$RESULTS" |
  awk -F'\t' '{
    key = $1 "\t" $2; sum[key] += $4; cnt[key]++
    if (!(key in lo) || $4 < lo[key]) lo[key] = $4
    if (!(key in hi) || $4 > hi[key]) hi[key] = $4
  }
  END { for (k in sum) printf "%s\t%.4f\t%.4f\t%.4f\t%d\n", k, sum[k] / cnt[k], lo[k], hi[k], cnt[k] }' |
  sort -t$'\t' -k1,1 -k2,2n >"$SUMMARY"

echo
echo "learning curve ($TASK, test accuracy of the best grid point by dev; mean [min-max] over seeds $SEEDS):"
echo "grid: lr {$LRS} x epochs {$EPOCHS}; pretrained = $PRETRAINED"
echo
printf '| labels per class |'
for labels in $LABELS; do printf ' %s |' "$labels"; done
printf '\n|---|'
for labels in $LABELS; do printf '%s' '---|'; done
printf '\n'
for arm in pretrained random; do
  printf '| %s |' "$arm"
  for labels in $LABELS; do
    awk -F'\t' -v a="$arm" -v l="$labels" '$1 == a && $2 == l {
      printf " %.1f [%.1f-%.1f] |", 100 * $3, 100 * $4, 100 * $5 }' "$SUMMARY"
  done
  printf '\n'
done

# The plot: mean test accuracy against labels per class ("all" drawn last).
awk -F'\t' -v labels="$LABELS" -v task="$TASK" '
  BEGIN { n = split(labels, L, " "); for (i = 1; i <= n; i++) pos[L[i]] = i }
  { m[$1, $2] = 100 * $3; lo[$1, $2] = 100 * $4; hi[$1, $2] = 100 * $5 }
  END {
    W = 520; H = 320; x0 = 60; x1 = W - 20; y0 = H - 50; y1 = 30
    ymin = 100; ymax = 0
    for (k in lo) { if (lo[k] < ymin) ymin = lo[k]; if (hi[k] > ymax) ymax = hi[k] }
    ymin = int(ymin / 10) * 10; ymax = (int(ymax / 10) + 1) * 10; if (ymax > 100) ymax = 100
    printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">\n", W, H
    printf "<text x=\"%d\" y=\"18\">%s: test accuracy (%%) vs labels per class</text>\n", x0, task
    printf "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>\n", x0, y1, x1 - x0, y0 - y1
    for (v = ymin; v <= ymax; v += 10) {
      y = y0 - (v - ymin) / (ymax - ymin) * (y0 - y1)
      printf "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/><text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%d</text>\n", x0, x1, y, y, x0 - 6, y + 4, v
    }
    for (i = 1; i <= n; i++) {
      x = x0 + (i - 0.5) / n * (x1 - x0)
      printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", x, y0 + 18, L[i]
    }
    split("pretrained random", arms, " "); color["pretrained"] = "#1f77b4"; color["random"] = "#d62728"
    for (a = 1; a <= 2; a++) {
      arm = arms[a]; pts = ""
      for (i = 1; i <= n; i++) {
        if (!((arm, L[i]) in m)) continue
        x = x0 + (i - 0.5) / n * (x1 - x0)
        y = y0 - (m[arm, L[i]] - ymin) / (ymax - ymin) * (y0 - y1)
        ylo = y0 - (lo[arm, L[i]] - ymin) / (ymax - ymin) * (y0 - y1)
        yhi = y0 - (hi[arm, L[i]] - ymin) / (ymax - ymin) * (y0 - y1)
        pts = pts sprintf("%.1f,%.1f ", x, y)
        printf "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/><circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", x, x, ylo, yhi, color[arm], x, y, color[arm]
      }
      printf "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"%s\"/>\n", color[arm], pts
      printf "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%d\" y=\"%d\">%s</text>\n", x0 + 10, y1 + 8 + 16 * (a - 1), color[arm], x0 + 24, y1 + 17 + 16 * (a - 1), arm == "random" ? "random init" : "pretrained"
    }
    printf "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">labelled examples per class (mean over seeds, bars: min-max)</text>\n</svg>\n", (x0 + x1) / 2, H - 10
  }' "$SUMMARY" >"$OUT/curve.svg"
echo
echo "learning_curve: $RESULTS, $SUMMARY, $OUT/curve.svg"
