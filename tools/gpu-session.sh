#!/usr/bin/env bash
# tools/gpu-session.sh: everything a session with a GPU should check, in ONE device call (device time is
# scarce: 30 minutes a session, 10 a call). Build the bundle first, here: tools/gpu-prepare.sh; then
#   run(command="bash tools/gpu-session.sh", carry=[".gpu-bundle"])
# Each step's whole output goes to $OUT/<step>.log (the device tool brings $OUT back) and its tail to stdout;
# a step that fails or times out does not stop the next. STEPS picks steps (default: all, in this order):
#   env      what the host has (GPU, driver, the CUDA libraries found)
#   tests    the tests tagged gpu (JUnit XML in $OUT/junit)
#   bench    tpk bench --backend cuda: the table (ceilings, kernels, baselines) and the roofline ($OUT/roofline.svg)
#   demo     tpk demo --backend cuda --dtype bf16
#   jmh      the host cost of a launch, FFM against JCuda (LaunchOverheadBenchmark, JcudaLaunchBenchmark)
# STEP_SECONDS caps each step (default 240); BENCH_ARGS adds options to tpk bench (--kernel lora, --quick).
# A call may run 600 s at most and all steps may take longer on a cold machine: split them over calls, e.g.
# STEPS="env tests", then STEPS="bench", then STEPS="demo jmh"; $OUT comes back even from a call cut short.
set -uo pipefail
out=${OUT:-gpu-out}
mkdir -p "$out"
run=.gpu-bundle/run
[ -f "$run" ] || { echo "no $run: build it first with tools/gpu-prepare.sh and carry .gpu-bundle" >&2; exit 2; }
tpk=(bash "$run" main io.tpkernels.cli.Tpk)  # an array, not a function: timeout runs commands only

step() {
  local name=$1; shift
  local t0=$SECONDS
  echo "=== $name: $*"
  timeout "${STEP_SECONDS:-240}" "$@" > "$out/$name.log" 2>&1
  local rc=$?
  echo "=== $name: exit $rc after $((SECONDS - t0)) s (124: timed out); last lines:"
  tail -n "${TAIL_LINES:-30}" "$out/$name.log"
}

for s in ${STEPS:-env tests bench demo jmh}; do
  case $s in
    env) step env bash "$run" env; nvidia-smi > "$out/nvidia-smi.log" 2>&1 || true ;;
    tests) step tests bash "$run" test --include-tag gpu --details=summary --reports-dir="$out/junit" ;;
    bench) step bench "${tpk[@]}" bench --backend cuda --plot "$out/roofline.svg" ${BENCH_ARGS:-} ;;
    demo) step demo "${tpk[@]}" demo --backend cuda --dtype bf16 ;;
    jmh) step jmh bash "$run" main org.openjdk.jmh.Main 'LaunchOverheadBenchmark|JcudaLaunchBenchmark' -f 1 -wi 3 -i 5 ;;
    *) echo "unknown step $s" >&2 ;;
  esac
done
