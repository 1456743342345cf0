#!/usr/bin/env bash
# test-driver.sh [OUT_DIR [BINDINGS_API]]
#
# Builds the emulated driver (driver.c) with the stub device of the tests (stub_device.c) as OUT_DIR/libcuda.so.1
# (a fresh temporary folder by default), checks that it exports every function the Java bindings bind (those
# BINDINGS_API names, by default the ffm-bindings module's CudaDriverApi.java), and runs driver_test against it.
# Exits nonzero on any failure. The library it leaves behind can be handed to the Java tests that need no
# kernels: TPK_CUDA_LIBRARY_PATH=OUT_DIR.
#
# Environment: CC (default gcc), CUDA_HOME (default /usr/local/cuda) for cuda.h.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
main=$(cd "$here/../../main/native" && pwd)
out=${1:-$(mktemp -d "${TMPDIR:-/tmp}/tpk-emu-driver.XXXXXX")}
api=${2:-$here/../../../../ffm-bindings/src/main/java/io/tpkernels/ffm/cuda/CudaDriverApi.java}
mkdir -p "$out"
cc=${CC:-gcc}
include=${CUDA_HOME:-/usr/local/cuda}/include
[ -f "$include/cuda.h" ] || { echo "test-driver.sh: no cuda.h in $include (set CUDA_HOME)" >&2; exit 1; }

flags=(-std=c11 -O1 -g -Wall -Wextra -Werror -I"$include" -I"$main")
"$cc" "${flags[@]}" -fPIC -fvisibility=hidden -shared -Wl,-soname,libcuda.so.1 -Wl,--no-undefined \
    -o "$out/libcuda.so.1" "$main/driver.c" "$here/stub_device.c" -lpthread
"$cc" "${flags[@]}" -o "$out/driver_test" "$here/driver_test.c" "$out/libcuda.so.1" -Wl,-rpath,"$out" -lpthread

# Every symbol the bindings look up (CFunction.of("NAME", ...) and its .orOlder("NAME") fallbacks) must be exported
# under exactly that name: cuda.h's #defines (cuMemAlloc -> cuMemAlloc_v2) make it easy to export another.
wanted=$(grep -oE '(CFunction\.of|orOlder)\("[A-Za-z0-9_]+"' "$api" | sed -E 's/.*"(.*)"/\1/' | sort -u)
[ -n "$wanted" ] || { echo "test-driver.sh: found no CFunction.of(...) in $api" >&2; exit 1; }
exported=$(nm -D --defined-only "$out/libcuda.so.1" | awk '$2 == "T" { print $3 }' | sort -u)
missing=$(comm -23 <(echo "$wanted") <(echo "$exported"))
if [ -n "$missing" ]; then
    echo "test-driver.sh: libcuda.so.1 does not export: $missing" >&2
    exit 1
fi
extra=$(comm -13 <(echo "$wanted") <(echo "$exported") | tr '\n' ' ')
echo "exports: all $(echo "$wanted" | wc -l) symbols the Java bindings bind${extra:+; also $extra}"
[ "$(readelf -d "$out/libcuda.so.1" | sed -n 's/.*soname: \[\(.*\)\]/\1/p')" = libcuda.so.1 ] \
    || { echo "test-driver.sh: the soname is not libcuda.so.1" >&2; exit 1; }

# Its launches must run: a TPK_EMU_SKIP_KERNELS=1 left in the caller's environment would skip them.
env -u TPK_EMU_SKIP_KERNELS "$out/driver_test"
echo "test-driver.sh: OK ($out/libcuda.so.1)"
