#!/usr/bin/env bash
# One check of lcgan on a machine with a GPU, in at most 8 minutes; run it once from the repository
# root of a session that was lent a GPU:
#
#     bash bench/gpu_check.sh                # install .[gpu], GPU tests, timings -> bench/results/gpu.md
#     bash bench/gpu_check.sh --smoke OUT.md # tiny, no install: checks the script itself (CPU is fine)
#
# 1. installs the package with its GPU extra (`pip install -e ".[gpu,test]"`, at most 120 s; without
#    network access the installed TensorFlow is used and the failure is noted in the results);
# 2. runs the tests marked `gpu` (mixed_float16 steps finite with loss scaling, samples built inside a
#    jit_compile train step, export and reload on the device; they skip without a GPU), at most 100 s;
# 3. runs bench/gpu_check.py (the equal-configuration ratio, the recipe timings per dtype policy and
#    sample placement, % of the bf16 matmul peak, scene path vs raw model) in the time that is left:
#    it starts no new row later than 60 s before the 8 minutes are up and is stopped 10 s before;
#    rows are written as they finish, most important first.
# The results file ends with the install and test outcome.
set -u
cd "$(dirname "$0")/.."
smoke=0
out=bench/results/gpu.md
for arg in "$@"; do
    case "$arg" in
        --smoke) smoke=1 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) out="$arg" ;;
    esac
done
python=${PYTHON:-python}
status=$(mktemp)
trap 'rm -f "$status"' EXIT

limit=480  # seconds, the whole script
if [ "$smoke" = 1 ]; then
    echo "install: skipped (--smoke)" >> "$status"
    limit=600  # generous: on a busy machine the tiny rows must still run, not be skipped
    tests=(tests/test_gpu.py)
else
    if timeout 120 "$python" -m pip install -q -e ".[gpu,test]"; then
        echo "install: pip install -e .[gpu,test] done" >> "$status"
    else
        echo "install: pip install -e .[gpu,test] FAILED or timed out; the installed TensorFlow was used" >> "$status"
    fi
    tests=()
fi
# -m gpu selects the GPU tests wherever they live; --smoke names their file to keep collection short.
timeout 100 "$python" -m pytest -q -m gpu -p no:cacheprovider "${tests[@]}" > "$status.tests" 2>&1
code=$?
echo "gpu tests (exit $code): $(tail -n 1 "$status.tests")" >> "$status"
rm -f "$status.tests"

timeout $((limit - SECONDS - 10)) "$python" bench/gpu_check.py --out "$out" \
    --budget $((limit - SECONDS - 60)) $([ "$smoke" = 1 ] && echo --smoke)
bench=$?
{ echo; echo "## Setup and tests"; echo; sed 's/^/- /' "$status"; echo "- gpu_check.py exit status: $bench"; } >> "$out"
cat "$out"
exit $bench
