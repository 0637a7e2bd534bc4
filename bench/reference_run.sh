#!/usr/bin/env bash
# The README's reference run: the ablation's picks at 128 px on tiles 1-2, scored on held-out tile 3.
# Usage: bench/reference_run.sh [OUT] (default runs/reference); about 40 min on 2 shared CPU cores.
set -euo pipefail
out=${1:-runs/reference}
mkdir -p "$out/split/train" "$out/split/test"
cp -r lcgan/data/sample/tile1 lcgan/data/sample/tile2 lcgan/data/sample/legend.json "$out/split/train/"
cp -r lcgan/data/sample/tile3 lcgan/data/sample/legend.json "$out/split/test/"
common=(--data-dir "$out/split/train" --image-size 128 --width 16 --batch-size 8 --vgg-weights none)
run_task() {  # task, steps, options...
  local task=$1 steps=$2; shift 2
  python -m lcgan train --task "$task" "${common[@]}" --epochs $((steps / 100)) --steps-per-epoch 100 \
      "$@" --out "$out/$task"
  python -m lcgan evaluate --generator "$out/$task/export" --data "$out/split/test" --task "$task" \
      --image-size 128 --batch-size 8 --batches 8 --out "$out/$task/eval"
}
case "${TASK:-both}" in
  mixlc|both) run_task mixlc 600 --discriminator oasis --mask-input --feature-matching-weight 10 \
                  --l1-inside-weight 0.1 ;;&
  inpaint|both) run_task inpaint 500 --discriminator oasis ;;
esac
