#!/usr/bin/env bash
# test-emulator.sh EMULATOR_DIR CUDA_SRC_DIR BINDINGS_API
#
# The emulator's own tests, before any Java runs against it: the driver against a stub device and the bindings'
# list of symbols (src/test/native/test-driver.sh, BINDINGS_API being CudaDriverApi.java), the emulated device
# on its own (emulator_test.cpp with emulator_test_kernels.cu, linked against EMULATOR_DIR/libtpk_emu_device.a
# that build-emulator.sh left; CUDA_SRC_DIR for the kernel headers), and the emulated cuBLAS and NCCL
# (cublas_test.c, nccl_test.c). The test programs are built into EMULATOR_DIR/test. Where build-emulator.sh
# built no driver (no gcc, g++, PTX or cuda.h), it says so and succeeds.
set -euo pipefail
out=$1 src=$2 api=$3
module=$(cd "$(dirname "$0")" && pwd)
main="$module/src/main/native" tests="$module/src/test/native"
if [ ! -f "$out/libcuda.so.1" ]; then
  echo "[tpk] emulator not built: its tests are skipped"
  exit 0
fi
bin="$out/test"
mkdir -p "$bin"
"$tests/test-driver.sh" "$bin/driver" "$api"
cxx=(g++ -std=c++17 -O2 -g -fPIC -Wall -Wno-unknown-pragmas -Wno-unused-function -Wno-psabi
     -include "$main/cuda_host.h" -I "$main" -I "$src")
"${cxx[@]}" -c -x c++ "$tests/emulator_test_kernels.cu" -o "$bin/emulator_test_kernels.o"
g++ -std=c++17 -O1 -g -I "$main" -I "$src" "$tests/emulator_test.cpp" "$bin/emulator_test_kernels.o" \
    -Wl,--whole-archive "$out/libtpk_emu_device.a" -Wl,--no-whole-archive -o "$bin/emulator_test"
cflags=(-std=c11 -O2 -g -Wall -Wextra -Werror)
gcc "${cflags[@]}" -o "$bin/cublas_test" "$tests/cublas_test.c" "$out/libcublas.so.13" -Wl,-rpath,"$out" -lm
gcc "${cflags[@]}" -o "$bin/nccl_test" "$tests/nccl_test.c" "$out/libnccl.so.2" -Wl,-rpath,"$out"
"$bin/emulator_test"
"$bin/cublas_test"
"$bin/nccl_test"
echo "[tpk] emulator tests passed"
