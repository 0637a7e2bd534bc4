#!/usr/bin/env bash
# The README's reference run: the recipes' defaults at 128 px on tiles 1-2, scored on held-out tile 3
# with the packaged evaluation segmenter (region FD, landcover read as requested).
# Usage: bench/reference_run.sh [OUT] (default runs/reference); TASK=mixlc or TASK=inpaint for one
# task; MIXLC_STEPS / INPAINT_STEPS (default 1500 each, in steps of 100).
set -euo pipefail
out=${1:-runs/reference}
mkdir -p "$out/split/train" "$out/split/test"
cp -r lcgan/data/sample/tile1 lcgan/data/sample/tile2 lcgan/data/sample/legend.json "$out/split/train/"
cp -r lcgan/data/sample/tile3 lcgan/data/sample/legend.json "$out/split/test/"
common=(--data-dir "$out/split/train" --image-size 128 --width 16 --batch-size 8 --vgg-weights none
        --mixed-precision mixed_bfloat16 --save-every 100)
run_task() {  # task, steps
  local task=$1 steps=$2
  python -m lcgan train --task "$task" "${common[@]}" --epochs $((steps / 100)) --steps-per-epoch 100 \
      --out "$out/$task"
  python -m lcgan evaluate --generator "$out/$task/export" --data "$out/split/test" --task "$task" \
      --image-size 128 --batch-size 8 --batches 8 --out "$out/$task/eval"
}
case "${TASK:-both}" in
  mixlc|both) run_task mixlc "${MIXLC_STEPS:-1500}" ;;&
  inpaint|both) run_task inpaint "${INPAINT_STEPS:-1500}" ;;
esac
