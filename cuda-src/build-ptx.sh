#!/usr/bin/env bash
# build-ptx.sh SRC_DIR OUT_DIR REPORT
#
# Compiles every SRC_DIR/*.cu to PTX with nvcc and checks each PTX with ptxas -v:
#   - PTX: compute_80 (generic, runs on sm_80 and newer) unless the file says otherwise with a line
#       // tpk-arch: compute_90a          (Hopper-only instructions: wgmma, TMA, setmaxnreg)
#     (several such lines give several PTX files);
#   - ptxas: compute_80 PTX for sm_80 and sm_90, compute_90a PTX for sm_90a; the machine code it produces is
#     packaged (a device of those architectures then loads it without the driver compiling the PTX), and the
#     registers and spills of every kernel go to REPORT, and a kernel that spills fails the build unless its file says
#       // tpk-allow-spills: KERNEL_NAME
#     as does a wgmma that ptxas serializes or a setmaxnreg it ignores;
#   - the .entry names of each PTX must be exactly the kernels its file declares on its "// tpk-kernels:" lines
#     (kernel-names.sh), the names the Java side gets as constants (generate-java.sh);
# Output: OUT_DIR/tpkernels-ptx/NAME.ARCH.ptx, OUT_DIR/tpkernels-ptx/index.txt ("NAME ARCH" lines),
# OUT_DIR/tpkernels-cubin/NAME.SM.cubin, OUT_DIR/tpkernels-cubin/index.txt ("NAME SM" lines: sm_80, sm_90, sm_90a),
# and the sources (for NVRTC) in OUT_DIR/tpkernels-cu/. Without nvcc (or with TPK_NVCC=none) it copies the
# sources, says so once, and succeeds with empty indexes: the runtime then compiles the sources with NVRTC.
set -euo pipefail
src=$1 out=$2 report=$3
. "$(dirname "$0")/kernel-names.sh"
mkdir -p "$out/tpkernels-ptx" "$out/tpkernels-cubin" "$out/tpkernels-cu" "$(dirname "$report")"
cp "$src"/*.cu "$out/tpkernels-cu/"
ls "$src"/*.cuh >/dev/null 2>&1 && cp "$src"/*.cuh "$out/tpkernels-cu/"
(cd "$src" && ls *.cu *.cuh 2>/dev/null || true) > "$out/tpkernels-cu/index.txt"
: > "$out/tpkernels-ptx/index.txt"
: > "$out/tpkernels-cubin/index.txt"
# Stale code from an earlier build with other targets must not be packaged.
rm -f "$out/tpkernels-ptx/"*.ptx "$out/tpkernels-cubin/"*.cubin

# TPK_NVCC picks the compiler (a path), or "none" to build no PTX; otherwise PATH, CUDA_HOME, /usr/local/cuda.
nvcc=""
if [ -n "${TPK_NVCC:-}" ]; then
  [ "$TPK_NVCC" = none ] || nvcc=$TPK_NVCC
else
  for c in "$(command -v nvcc 2>/dev/null || true)" "${CUDA_HOME:-/nonexistent}/bin/nvcc" /usr/local/cuda/bin/nvcc; do
    if [ -n "$c" ] && [ -x "$c" ]; then nvcc=$c; break; fi
  done
fi
if [ -z "$nvcc" ]; then
  echo "[tpk] nvcc not found (PATH, CUDA_HOME, /usr/local/cuda): no PTX was built; the runtime compiles the packaged .cu sources with NVRTC." | tee "$report"
  exit 0
fi
ptxas="$(dirname "$nvcc")/ptxas"
[ -x "$ptxas" ] || ptxas=$(command -v ptxas || true)
[ -n "$ptxas" ] || { echo "[tpk] ERROR: nvcc is at $nvcc but ptxas was not found next to it or on PATH" >&2; exit 1; }

{ echo "# ptxas -v report: registers, stack and spills per kernel"; echo "# $("$nvcc" --version | tail -1)"; } > "$report"
failed=0
for cu in "$src"/*.cu; do
  name=$(basename "$cu" .cu)
  archs=$(sed -n 's#^// tpk-arch: *\(compute_[0-9a-z]*\).*#\1#p' "$cu")
  [ -n "$archs" ] || archs=compute_80
  allowed=$(sed -n 's#^// tpk-allow-spills: *\([A-Za-z0-9_]*\).*#\1#p' "$cu")
  declared=$(tpk_declared_kernels "$cu" | LC_ALL=C sort)
  for arch in $archs; do
    ptx="$out/tpkernels-ptx/$name.$arch.ptx"
    "$nvcc" -ptx -arch="$arch" -O3 -std=c++17 -lineinfo -I "$src" -o "$ptx" "$cu"
    echo "$name $arch" >> "$out/tpkernels-ptx/index.txt"
    entries=$(sed -n 's/^\(\.visible \)\{0,1\}\.entry \([A-Za-z0-9_]*\).*/\2/p' "$ptx" | LC_ALL=C sort)
    if [ "$entries" != "$declared" ]; then
      undeclared=$(LC_ALL=C comm -23 <(echo "$entries") <(echo "$declared") | grep . | paste -sd' ' - || true)
      absent=$(LC_ALL=C comm -13 <(echo "$entries") <(echo "$declared") | grep . | paste -sd' ' - || true)
      echo "[tpk] ERROR: $name.$arch.ptx does not define the kernels $name.cu declares on its '// tpk-kernels:' lines${undeclared:+; not declared: $undeclared}${absent:+; declared, not in the PTX: $absent}" >&2
      failed=1
    fi
    case $arch in
      compute_80) sms="sm_80 sm_90" ;;
      *) sms="sm_${arch#compute_}" ;;
    esac
    for sm in $sms; do
      cubin="$out/tpkernels-cubin/$name.$sm.cubin"
      log=$("$ptxas" -arch="$sm" -v "$ptx" -o "$cubin" 2>&1) || { echo "$log" >&2; exit 1; }
      echo "$name $sm" >> "$out/tpkernels-cubin/index.txt"
      echo "## $name.$arch.ptx on $sm" >> "$report"
      # A device function's properties (tpk_ptx.cuh's out-of-line tpk_trap) keep their heading, so that its stack
      # line is not read as the kernel's above it.
      echo "$log" | awk '/Compiling entry/ { entry = $7; gsub(/\047/, "", entry) }
                         /Function properties for/ && $NF != entry { print; next }
                         /Compiling entry|registers|spill|Performance Loss|C7508|C751[79]/' >> "$report"
      # ptxas serializes wgmma it cannot pipeline ("Potential Performance Loss: wgmma.mma_async instructions are
      # serialized ..."), injects waits around wgmma registers (C7517, C7519) or ignores setmaxnreg it cannot
      # honour (C7508): all silent slow paths, so errors.
      if echo "$log" | grep -qE 'Performance Loss|C7508|C751[79]'; then
        echo "[tpk] ERROR: ptxas on $name.$arch.ptx for $sm:" >&2
        echo "$log" | grep -E 'Performance Loss|C7508|C751[79]' >&2
        failed=1
      fi
      # A "Function properties for K" line is followed by "... N bytes spill stores, M bytes spill loads".
      while read -r kernel stores loads; do
        if [ "$stores" != 0 ] || [ "$loads" != 0 ]; then
          if echo "$allowed" | grep -qx "$kernel"; then
            echo "[tpk] $kernel spills on $sm ($stores bytes stored, $loads loaded): allowed by $name.cu"
          else
            echo "[tpk] ERROR: kernel $kernel in $name.cu spills registers on $sm ($stores bytes stored, $loads loaded); fix it or mark it with '// tpk-allow-spills: $kernel'" >&2
            failed=1
          fi
        fi
      done < <(echo "$log" | awk '/Function properties for/ {k=$NF} /spill stores/ {print k, $5, $9}')
    done
  done
done
[ $failed = 0 ] || exit 1
echo "[tpk] PTX built for $(wc -l < "$out/tpkernels-ptx/index.txt") kernel file(s), $(wc -l < "$out/tpkernels-cubin/index.txt") cubin(s); report in $report"
