#!/usr/bin/env bash
# gpu-first.sh: the first device command of a GPU window, at most BUDGET_S seconds (default 520), the most
# important facts first, each step a process of its own under a cap, so a hang costs one step, never the ones
# before it:
#   1 env       nvidia-smi, the CUDA libraries found, `tpk info`                                  env.log
#   2 verify    `tpk verify`: every kernel path on silicon against the CPU reference, row by row     verify.log
#   3 bench     the three headline ratios, one JVM each, rows streamed: masked embedding against the
#               plain lookup; LM head decode GB/s and prefill against cuBLAS; fused LoRA against the
#               base GEMM and the unfused cuBLAS sequence                                           bench.log
#   4 oracle    torch float64 against `tpk forward` over several layouts (tpk_oracle.py)            oracle.log
#   5 tests     the rest of the gpu-tagged tests (with the bundle only), JUnit XML packed           tests.log, junit.tgz
#   6 training  if time is left: the fused LM-head loss against the unfused one (times, peak memory)
#               and one fine-tuning step of a K = N = 8192 layer (tokens/s)                        bench.log
# and summary.txt: one line per step, then the verify summary, the headline rows and the oracle lines. 7 files,
# each written as its step goes (the device tool returns at most 8).
#
#   OUT=DIR tools/gpu-first.sh          on a GPU host, with .gpu-bundle (tools/gpu-prepare.sh) carried
#   TPK_CUDA_LIBRARY_PATH=cuda-emulator/target/emulator OUT=DIR tools/gpu-first.sh   the dry run (CI)
# Device tool: run(command="OUT=\$OUT bash tools/gpu-first.sh", carry=[".gpu-bundle"], timeout_s=570).
set -uo pipefail
. "$(dirname "$0")/gpu-common.sh"
start_summary gpu-first

# 1. the host
{
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 || true
  command -v compute-sanitizer ncu python3 2>&1 || true
  python3 -c 'import torch; print("torch", torch.__version__, torch.cuda.is_available())' 2>&1 || true
} >> "$out/env.log"
step "env: tpk info" 60 "$out/env.log" "${TPK[@]}" info
grep -E "^  (cuda|cuda:[0-9]|CUDA driver|NVRTC|cuBLAS|NCCL) " "$out/env.log" | tee -a "$S"

# 2. correctness of every kernel path, row by row
step "verify: every kernel path" 150 "$out/verify.log" "${TPK[@]}" verify ${quick[@]+"${quick[@]}"}
rc_verify=$?
if [ $rc_verify -eq 124 ] || [ $rc_verify -eq 131 ] || [ $rc_verify -eq 137 ]; then
  echo "verify hung: the benches run with the Hopper kernels off (-Dtpk.gemm.hopper=false)" | tee -a "$S"
  tpk_with -Dtpk.gemm.hopper=false
fi

# 3. the headline ratios: rows are printed as measured, so a cap keeps the finished ones
for kernel in embedding lm-head lora; do
  step "bench: $kernel" 100 "$out/bench.log" "${TPK[@]}" bench --backend cuda --kernel "$kernel" \
    ${quick[@]+"${quick[@]}"} $([ $DRY = 1 ] && echo --runs 1)
done

# 4. an oracle outside the project
if python3 -c 'import numpy' 2>/dev/null; then
  step "oracle: float64 vs tpk forward" 180 "$out/oracle.log" python3 tools/tpk_oracle.py \
    --tpk "$TPK_LINE" --work "$work/oracle" $([ $DRY = 1 ] && echo --small)
else
  skip "oracle: float64 vs tpk forward" "no python3 with numpy"
fi

# 5. the rest of the gpu-tagged tests
if [ -f "$bundle" ]; then
  step "tests: every gpu-tagged test" 240 "$out/tests.log" bash "$bundle" test --include-tag gpu --details=testfeed \
    --disable-ansi-colors --reports-dir="$work/junit"
  tar -C "$work" -czf "$out/junit.tgz" junit 2>/dev/null
else
  skip "tests: every gpu-tagged test" "no .gpu-bundle (./mvnw verify runs them on the emulator)"
fi

# 6. fine-tuning's speed, after everything above: only with time left
for kernel in lm-head-ce finetune-step; do
  step "bench: $kernel" 100 "$out/bench.log" "${TPK[@]}" bench --backend cuda --kernel "$kernel" --json \
    ${quick[@]+"${quick[@]}"} $([ $DRY = 1 ] && echo --runs 1)
done

{
  echo
  echo "== verify"
  grep -E "^(fail|skip) |paths checked|FAILED" "$out/verify.log" | sed 's/^/  /'
  echo "== headline rows (vs baseline: baseline time / kernel time; above 1 the kernel is faster)"
  grep -E "^(copy|gemm|embedding-in-shard|lm-head|lora) " "$out/bench.log" 2>/dev/null | sed 's/^/  /'
  grep -E '"kernel":"(lm-head-ce|finetune-step)"' "$out/bench.log" 2>/dev/null | sed 's/^/  /'
  echo "== oracle"
  grep -E "^(layout|oracle)" "$out/oracle.log" 2>/dev/null | sed 's/^/  /'
  grep -E "tests (successful|failed)" "$out/tests.log" 2>/dev/null | sed 's/^/  /'
  echo "gpu-first: done in $((SECONDS - T0)) s"
} >> "$S"
cat "$S"
grep -qE "FAILED|TIMED OUT" "$S" && exit 1
exit 0
