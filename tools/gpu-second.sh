#!/usr/bin/env bash
# gpu-second.sh: the second device command of a GPU window (after gpu-first.sh), at most BUDGET_S seconds
# (default 520), each step a process of its own under a cap:
#   1 sanitizer  compute-sanitizer memcheck, then racecheck, over `tpk verify --quick`           sanitizer.log
#   2 bench      the whole `tpk bench --backend cuda` with the roofline chart, rows streamed        bench.log, roofline.svg
#   3 ncu        one Nsight Compute profile of the prefill GEMM (the LM head at M = 4096)           ncu.log
#   4 nvrtc      `tpk verify --quick` with the kernels compiled by NVRTC instead of the packaged PTX nvrtc.log
#   5 jmh        the host cost of a launch, FFM against JCuda (JMH)                                  jmh.log
# and summary.txt, one line per step: 7 files. A tool the host lacks (compute-sanitizer, ncu, NVRTC) is a
# "skipped" line. Run as gpu-first.sh is (same OUT conventions; a dry run with TPK_CUDA_LIBRARY_PATH set).
set -uo pipefail
. "$(dirname "$0")/gpu-common.sh"
start_summary gpu-second

# 1. memory and race errors in every kernel path
if command -v compute-sanitizer > /dev/null; then
  for tool in memcheck racecheck; do
    step "sanitizer: $tool" 150 "$out/sanitizer.log" compute-sanitizer --tool "$tool" --target-processes all \
      --error-exitcode 3 "${TPK[@]}" verify --quick
  done
else
  skip "sanitizer: memcheck, racecheck" "compute-sanitizer is not installed"
fi

# 2. everything tpk bench measures, and the roofline
step "bench: all kernels + roofline" 200 "$out/bench.log" "${TPK[@]}" bench --backend cuda \
  --plot "$out/roofline.svg" ${quick[@]+"${quick[@]}"} $([ $DRY = 1 ] && echo --runs 1)

# 3. one profile of the prefill GEMM
if command -v ncu > /dev/null; then
  step "ncu: prefill GEMM" 150 "$out/ncu.log" ncu --target-processes all --kernel-name regex:tpk_gemm_wgmma \
    --launch-count 1 --section SpeedOfLight --section MemoryWorkloadAnalysis "${TPK[@]}" bench --backend cuda \
    --kernel lm-head --runs 20 --warmup 0
else
  skip "ncu: prefill GEMM" "ncu is not installed"
fi

# 4. the NVRTC path: the same checks with every module compiled on this host
"${TPK[@]}" info > "$work/info.txt" 2>&1
if grep -qE "^  NVRTC +/" "$work/info.txt"; then
  tpk_with -Dtpk.ptx.source=nvrtc
  step "nvrtc: verify --quick" 150 "$out/nvrtc.log" "${TPK[@]}" verify --quick
  tpk_with
else
  skip "nvrtc: verify --quick" "tpk info found no NVRTC"
fi

# 5. JMH: the host cost of one launch through this library's FFM binding and through JCuda
jmh_args=('LaunchOverheadBenchmark|JcudaLaunchBenchmark' -f 1)
[ $DRY = 1 ] && jmh_args+=(-wi 1 -i 1 -w 1s -r 1s) || jmh_args+=(-wi 3 -i 5)
if [ -f "$bundle" ]; then
  step "jmh: launch FFM vs JCuda" 150 "$out/jmh.log" bash "$bundle" main org.openjdk.jmh.Main "${jmh_args[@]}"
elif [ -f bench/target/benchmarks.jar ] && . .mvn/find-jdk.sh && tpk_find_jdk; then
  step "jmh: launch FFM vs JCuda" 150 "$out/jmh.log" "$TPK_JDK/bin/java" --add-modules jdk.incubator.vector \
    -jar bench/target/benchmarks.jar "${jmh_args[@]}"
else
  skip "jmh: launch FFM vs JCuda" "no bundle and no bench/target/benchmarks.jar"
fi

{
  echo
  echo "== sanitizer"
  grep -E "ERROR SUMMARY|========= (Invalid|Race|Error)" "$out/sanitizer.log" 2>/dev/null | sort | uniq -c | head -20
  echo "== jmh"
  grep -E "^(Benchmark|LaunchOverhead|JcudaLaunch)" "$out/jmh.log" 2>/dev/null | sed 's/^/  /'
  echo "gpu-second: done in $((SECONDS - T0)) s"
} >> "$S"
cat "$S"
grep -qE "FAILED|TIMED OUT" "$S" && exit 1
exit 0
