/* stub_device.c: a stand-in for the emulated device, for driver_test.c only (never part of the real library).
 *
 * It knows one kernel, tpk_test_fill(float* out, long long n, float value): thread t of the whole grid
 * (x dimensions only) sets out[t] = value when t < n, so a test can see that the launch shape and the parameters
 * reached the device. A negative n makes the launch fail, to test how the driver reports a failed kernel.
 */
#include <stdio.h>
#include <string.h>

#include "tpk_emu.h"

int tpk_emu_has_kernel(const char* name) {
    return strcmp(name, "tpk_test_fill") == 0;
}

int tpk_emu_launch(const char* name, const unsigned grid[3], const unsigned block[3], unsigned dynamic_smem_bytes,
                   void** params, char* err, unsigned long errlen) {
    (void)dynamic_smem_bytes;
    if (!tpk_emu_has_kernel(name)) {
        snprintf(err, errlen, "no kernel %s in the stub device", name);
        return 1;
    }
    float* out = *(float**)params[0];
    long long n = *(long long*)params[1];
    float value = *(float*)params[2];
    if (n < 0) {
        snprintf(err, errlen, "tpk_test_fill: n = %lld is negative", n);
        return 1;
    }
    long long threads = (long long)grid[0] * block[0];
    for (long long t = 0; t < threads && t < n; t++) {
        out[t] = value;
    }
    return 0;
}
