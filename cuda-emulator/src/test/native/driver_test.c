/* driver_test.c: the emulated driver (driver.c), through its exported API, with the stub device (stub_device.c).
 * Run by test-driver.sh; prints each failed check and exits 1 if any failed.
 *
 * Calls use cuda.h's plain names, which it #defines to the versioned symbols (cuMemAlloc -> cuMemAlloc_v2),
 * as any C caller of the driver would.
 */
#define _GNU_SOURCE
#include <cuda.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tensor_map.h"

/* The emulator's own export (driver.c): its launch and host-wait counts so far. */
void tpk_emu_counts(unsigned long long* launches, unsigned long long* host_waits);

#undef cuEventElapsedTime
CUresult CUDAAPI cuEventElapsedTime(float* pMilliseconds, CUevent hStart, CUevent hEnd);

static int g_checks, g_failed;

#define CHECK(cond)                                                       \
    do {                                                                  \
        g_checks++;                                                       \
        if (!(cond)) {                                                    \
            g_failed++;                                                   \
            fprintf(stderr, "FAILED %s:%d: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                 \
    } while (0)

/* A call's status is the expected one. */
#define EXPECT(expected, call) CHECK((call) == (expected))

static const char* name_of(CUresult r) {
    const char* s = NULL;
    return cuGetErrorName(r, &s) == CUDA_SUCCESS ? s : "?";
}

/* A 2-D bf16 tensor of 100 rows of 200 elements, boxes of 128 rows of 64 elements, 128-byte swizzle: the shape of
 * the Hopper GEMM's operands. Each test changes one thing. */
typedef struct {
    CUtensorMapDataType type;
    cuuint32_t rank;
    void* address;
    cuuint64_t dims[5], strides[4];
    cuuint32_t box[5], element_strides[5];
    CUtensorMapInterleave interleave;
    CUtensorMapSwizzle swizzle;
    CUtensorMapL2promotion l2;
    CUtensorMapFloatOOBfill oob;
} tmap_args;

static tmap_args tmap_default(void* address) {
    tmap_args a = {CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, address, {200, 100, 1, 1, 1}, {400, 0, 0, 0},
                   {64, 128, 1, 1, 1}, {1, 1, 1, 1, 1}, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                   CU_TENSOR_MAP_L2_PROMOTION_L2_128B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE};
    return a;
}

static CUresult tmap_encode(CUtensorMap* map, tmap_args a) {
    return cuTensorMapEncodeTiled(map, a.type, a.rank, a.address, a.dims, a.strides, a.box, a.element_strides,
                                  a.interleave, a.swizzle, a.l2, a.oob);
}

static void test_before_init(void) {
    int n = -1, v = 0;
    CUtensorMap map;
    static unsigned char tensor[512] __attribute__((aligned(256)));
    EXPECT(CUDA_ERROR_NOT_INITIALIZED, tmap_encode(&map, tmap_default(tensor)));
    EXPECT(CUDA_ERROR_NOT_INITIALIZED, cuDeviceGetCount(&n));
    EXPECT(CUDA_SUCCESS, cuDriverGetVersion(&v));
    CHECK(v >= 12000);
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuInit(1));
}

static void test_device(void) {
    int n = 0, v = 0;
    CUdevice dev = -1;
    char name[256];
    size_t total = 0;
    EXPECT(CUDA_SUCCESS, cuDeviceGetCount(&n));
    CHECK(n == 1);
    EXPECT(CUDA_SUCCESS, cuDeviceGet(&dev, 0));
    CHECK(dev == 0);
    EXPECT(CUDA_ERROR_INVALID_DEVICE, cuDeviceGet(&dev, 1));
    EXPECT(CUDA_SUCCESS, cuDeviceGetName(name, sizeof name, 0));
    CHECK(strcmp(name, "tpk CPU emulator (not a GPU)") == 0);
    EXPECT(CUDA_SUCCESS, cuDeviceGetName(name, 4, 0)); /* truncated, terminated */
    CHECK(strcmp(name, "tpk") == 0);
    EXPECT(CUDA_ERROR_INVALID_DEVICE, cuDeviceGetName(name, sizeof name, 1));

    struct { CUdevice_attribute a; int expected; } attrs[] = {
        {CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, 9},
        {CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, 0},
        {CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, 132},
        {CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, 50 << 20},
        {CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, 232448},
        {CU_DEVICE_ATTRIBUTE_WARP_SIZE, 32},
        {CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, 1024},
    };
    for (size_t i = 0; i < sizeof attrs / sizeof *attrs; i++) {
        v = -1;
        EXPECT(CUDA_SUCCESS, cuDeviceGetAttribute(&v, attrs[i].a, 0));
        CHECK(v == attrs[i].expected);
    }
    /* Everything CudaDriverApi declares answers. */
    CUdevice_attribute declared[] = {
        CU_DEVICE_ATTRIBUTE_CLOCK_RATE, CU_DEVICE_ATTRIBUTE_PCI_BUS_ID, CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE,
        CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR,
        CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR,
    };
    for (size_t i = 0; i < sizeof declared / sizeof *declared; i++) {
        EXPECT(CUDA_SUCCESS, cuDeviceGetAttribute(&v, declared[i], 0));
    }
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_CAN_TEX2D_GATHER, 0));
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuDeviceGetAttribute(&v, (CUdevice_attribute)100000, 0));
    EXPECT(CUDA_ERROR_INVALID_DEVICE, cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_WARP_SIZE, 3));
    EXPECT(CUDA_SUCCESS, cuDeviceTotalMem(&total, 0));
    CHECK(total == 16ull << 30);
}

static void test_context(void) {
    CUcontext ctx = NULL, cur = (CUcontext)1;
    CUdeviceptr p = 0;
    CUtensorMap map;
    static unsigned char tensor[512] __attribute__((aligned(256)));
    EXPECT(CUDA_SUCCESS, cuCtxGetCurrent(&cur));
    CHECK(cur == NULL);
    EXPECT(CUDA_ERROR_INVALID_CONTEXT, cuMemAlloc(&p, 16)); /* no current context on this thread */
    EXPECT(CUDA_ERROR_INVALID_CONTEXT, tmap_encode(&map, tmap_default(tensor)));
    EXPECT(CUDA_SUCCESS, cuDevicePrimaryCtxRetain(&ctx, 0));
    CHECK(ctx != NULL);
    EXPECT(CUDA_ERROR_INVALID_CONTEXT, cuCtxSetCurrent((CUcontext)&p));
    EXPECT(CUDA_SUCCESS, cuCtxSetCurrent(ctx));
    EXPECT(CUDA_SUCCESS, cuCtxGetCurrent(&cur));
    CHECK(cur == ctx);
    EXPECT(CUDA_SUCCESS, cuCtxSynchronize());
}

static void test_memory(void) {
    size_t free0 = 0, total = 0, free1 = 0;
    EXPECT(CUDA_SUCCESS, cuMemGetInfo(&free0, &total));
    CHECK(total == 16ull << 30 && free0 <= total);

    CUdeviceptr a = 0, b = 0;
    EXPECT(CUDA_SUCCESS, cuMemAlloc(&a, 1000));
    EXPECT(CUDA_SUCCESS, cuMemAlloc(&b, 4096));
    CHECK(a != 0 && a % 256 == 0 && b % 256 == 0);
    EXPECT(CUDA_SUCCESS, cuMemGetInfo(&free1, &total));
    CHECK(free0 - free1 == 1024 + 4096);

    unsigned char host[1000], back[1000];
    for (int i = 0; i < 1000; i++) {
        host[i] = (unsigned char)(i * 7);
    }
    EXPECT(CUDA_SUCCESS, cuMemcpyHtoD(a, host, 1000));
    EXPECT(CUDA_SUCCESS, cuMemcpyDtoD(b + 100, a, 1000));
    memset(back, 0, sizeof back);
    EXPECT(CUDA_SUCCESS, cuMemcpyDtoH(back, b + 100, 1000));
    CHECK(memcmp(host, back, 1000) == 0);
    EXPECT(CUDA_SUCCESS, cuMemsetD8(a + 10, 0xAB, 20));
    EXPECT(CUDA_SUCCESS, cuMemcpyDtoH(back, a, 1000));
    CHECK(back[9] == host[9] && back[10] == 0xAB && back[29] == 0xAB && back[30] == host[30]);

    /* Async is synchronous, on the default stream and on a created one. */
    CUstream s = NULL;
    EXPECT(CUDA_SUCCESS, cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    EXPECT(CUDA_SUCCESS, cuMemsetD8Async(a, 0x11, 1000, s));
    EXPECT(CUDA_SUCCESS, cuMemcpyDtoDAsync(b, a, 1000, NULL));
    EXPECT(CUDA_SUCCESS, cuMemcpyDtoHAsync(back, b, 1000, CU_STREAM_LEGACY));
    CHECK(back[0] == 0x11 && back[999] == 0x11);
    EXPECT(CUDA_SUCCESS, cuMemcpyHtoDAsync(a, host, 1000, s));
    EXPECT(CUDA_SUCCESS, cuStreamQuery(s));
    CUstreamCaptureStatus capture = CU_STREAM_CAPTURE_STATUS_ACTIVE;
    EXPECT(CUDA_SUCCESS, cuStreamIsCapturing(s, &capture));
    CHECK(capture == CU_STREAM_CAPTURE_STATUS_NONE);
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuStreamIsCapturing(s, NULL));
    EXPECT(CUDA_SUCCESS, cuStreamSynchronize(s));
    EXPECT(CUDA_SUCCESS, cuMemcpyDtoH(back, a, 1000));
    CHECK(memcmp(host, back, 1000) == 0);

    /* A stream may wait for an event of another stream; bad handles and flags are refused. */
    CUevent ready = NULL;
    EXPECT(CUDA_SUCCESS, cuEventCreate(&ready, CU_EVENT_DISABLE_TIMING));
    EXPECT(CUDA_SUCCESS, cuEventRecord(ready, s));
    EXPECT(CUDA_SUCCESS, cuStreamWaitEvent(NULL, ready, 0));
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuStreamWaitEvent(s, ready, 7));
    EXPECT(CUDA_ERROR_INVALID_HANDLE, cuStreamWaitEvent(s, (CUevent)s, 0));
    EXPECT(CUDA_SUCCESS, cuEventDestroy(ready));

    /* The counts read in-process: a stream synchronization is one host wait, a stream wait for an event none. */
    unsigned long long launches0, waits0, launches1, waits1;
    tpk_emu_counts(&launches0, &waits0);
    EXPECT(CUDA_SUCCESS, cuStreamSynchronize(s));
    tpk_emu_counts(&launches1, &waits1);
    CHECK(launches1 == launches0 && waits1 == waits0 + 1);
    tpk_emu_counts(NULL, NULL);

    /* Stream-ordered allocation: a live stream (or the legacy one), the memory usable at once, freed once. */
    CUdeviceptr q = 0;
    EXPECT(CUDA_SUCCESS, cuMemAllocAsync(&q, 64, s));
    EXPECT(CUDA_SUCCESS, cuMemcpyHtoDAsync(q, host, 64, s));
    EXPECT(CUDA_SUCCESS, cuMemcpyDtoH(back, q, 64));
    CHECK(memcmp(host, back, 64) == 0);
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuMemcpyHtoD(q, host, 65));
    EXPECT(CUDA_SUCCESS, cuMemFreeAsync(q, CU_STREAM_LEGACY));
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuMemFreeAsync(q, s));
    EXPECT(CUDA_ERROR_INVALID_HANDLE, cuMemAllocAsync(&q, 64, (CUstream)&free0));

    /* Ranges must lie inside one live allocation: the requested size, not its rounding, is the bound. */
    EXPECT(CUDA_SUCCESS, cuMemcpyHtoD(a + 999, host, 1));
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuMemcpyHtoD(a + 999, host, 2));
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuMemcpyHtoD(a, host, 1001));
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuMemcpyDtoH(back, a + 1000, 1));
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuMemsetD8(a - 1, 0, 1));
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuMemcpyDtoD(b + 4000, a, 200)); /* destination overruns */
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuMemcpyDtoD(b, a + 900, 200));  /* source overruns */
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuMemcpyHtoD((CUdeviceptr)(uintptr_t)host, host, 10)); /* not device memory */
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuMemcpyHtoD(a, NULL, 10));
    EXPECT(CUDA_SUCCESS, cuMemcpyHtoD(a, NULL, 0)); /* zero bytes: nothing to check */
    EXPECT(CUDA_ERROR_INVALID_HANDLE, cuMemcpyHtoDAsync(a, host, 10, (CUstream)&free0));

    /* Frees: only what cuMemAlloc returned, once. */
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuMemFree(a + 256));
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuMemFree((CUdeviceptr)(uintptr_t)host));
    EXPECT(CUDA_SUCCESS, cuMemFree(a));
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuMemFree(a));
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuMemcpyHtoD(a, host, 1)); /* use after free */
    EXPECT(CUDA_SUCCESS, cuMemFree(b));
    EXPECT(CUDA_SUCCESS, cuMemGetInfo(&free1, &total));
    CHECK(free1 == free0);

    /* Too big: 4 PiB, one byte over the total, and the total while something else is live. */
    EXPECT(CUDA_ERROR_OUT_OF_MEMORY, cuMemAlloc(&a, 1ull << 52));
    EXPECT(CUDA_ERROR_OUT_OF_MEMORY, cuMemAlloc(&a, (16ull << 30) + 1));
    EXPECT(CUDA_ERROR_OUT_OF_MEMORY, cuMemAlloc(&a, SIZE_MAX));
    EXPECT(CUDA_SUCCESS, cuMemAlloc(&b, 1));
    EXPECT(CUDA_ERROR_OUT_OF_MEMORY, cuMemAlloc(&a, 16ull << 30));
    EXPECT(CUDA_SUCCESS, cuMemFree(b));
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuMemAlloc(&a, 0));

    EXPECT(CUDA_SUCCESS, cuStreamDestroy(s));
    EXPECT(CUDA_ERROR_INVALID_HANDLE, cuStreamDestroy(s));
    EXPECT(CUDA_ERROR_INVALID_HANDLE, cuStreamSynchronize(s));
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuStreamCreate(&s, 99));
}

/* Whether touching p (write or read) in a child process kills it with SIGSEGV. */
static int faults(volatile unsigned char* p, int write) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL); /* die of the fault even where a sanitizer would catch it */
        if (write) {
            *p = 1;
        } else {
            (void)*p;
        }
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
}

static void test_guard_page(void) {
    CUdeviceptr a = 0;
    EXPECT(CUDA_SUCCESS, cuMemAlloc(&a, 1000));
    volatile unsigned char* p = (volatile unsigned char*)(uintptr_t)a;
    CHECK(!faults(p, 1) && !faults(p + 999, 1));
    CHECK(!faults(p + 1023, 1)); /* the rounding to 256 bytes is addressable, as on a GPU */
    CHECK(faults(p + 1024, 1) && faults(p + 1024, 0));
    EXPECT(CUDA_SUCCESS, cuMemFree(a));
    CHECK(faults(p, 0)); /* freed memory is unmapped */
}

typedef struct {
    CUcontext ctx;
    int errors;
} worker_args;

/* Each thread allocates, copies and frees on its own: the bookkeeping must hold under concurrency. */
static void* worker(void* arg) {
    worker_args* w = arg;
    if (cuCtxSetCurrent(w->ctx) != CUDA_SUCCESS) {
        w->errors++;
        return NULL;
    }
    unsigned char in[512], out[512];
    for (int i = 0; i < 300; i++) {
        CUdeviceptr p = 0;
        size_t n = 1 + (size_t)(i * 37 % 512);
        memset(in, i, n);
        w->errors += cuMemAlloc(&p, n) != CUDA_SUCCESS;
        w->errors += cuMemcpyHtoD(p, in, n) != CUDA_SUCCESS;
        w->errors += cuMemcpyDtoH(out, p, n) != CUDA_SUCCESS;
        w->errors += memcmp(in, out, n) != 0;
        if (i == 0) { /* once: each refusal prints a line */
            w->errors += cuMemcpyHtoD(p, in, n + 1) != CUDA_ERROR_INVALID_VALUE;
        }
        w->errors += cuMemFree(p) != CUDA_SUCCESS;
    }
    return NULL;
}

static void test_threads(CUcontext ctx) {
    size_t free0 = 0, free1 = 0, total = 0;
    EXPECT(CUDA_SUCCESS, cuMemGetInfo(&free0, &total));
    pthread_t threads[8];
    worker_args args[8];
    for (int i = 0; i < 8; i++) {
        args[i] = (worker_args){ctx, 0};
        pthread_create(&threads[i], NULL, worker, &args[i]);
    }
    int errors = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(threads[i], NULL);
        errors += args[i].errors;
    }
    CHECK(errors == 0);
    EXPECT(CUDA_SUCCESS, cuMemGetInfo(&free1, &total));
    CHECK(free1 == free0);
}

static const char* PTX =
    "//\n"
    "// Generated by a test, in the shape nvcc writes\n"
    "// .visible .entry tpk_test_commented_out(\n"
    "//\n"
    ".version 9.0\n"
    ".target sm_80\n"
    ".address_size 64\n"
    "\n"
    "\t// .globl\ttpk_test_fill\n"
    ".visible .entry tpk_test_fill(\n"
    "\t.param .u64 tpk_test_fill_param_0,\n"
    "\t.param .u64 tpk_test_fill_param_1,\n"
    "\t.param .f32 tpk_test_fill_param_2\n"
    ")\n"
    "{\n\tret;\n}\n"
    ".visible .entry tpk_test_other(\n"
    ")\n"
    "{\n\tret;\n}\n";

static void test_modules_and_launches(void) {
    CUmodule m = NULL, other = NULL;
    CUfunction f = NULL, g = NULL;
    EXPECT(CUDA_SUCCESS, cuModuleLoadData(&m, PTX));
    EXPECT(CUDA_SUCCESS, cuModuleGetFunction(&f, m, "tpk_test_fill"));
    EXPECT(CUDA_SUCCESS, cuModuleGetFunction(&g, m, "tpk_test_fill"));
    CHECK(f != NULL && f == g);
    EXPECT(CUDA_ERROR_NOT_FOUND, cuModuleGetFunction(&g, m, "tpk_test_other"));  /* not in the device */
    EXPECT(CUDA_ERROR_NOT_FOUND, cuModuleGetFunction(&g, m, "tpk_test_commented_out"));
    EXPECT(CUDA_ERROR_NOT_FOUND, cuModuleGetFunction(&g, m, "tpk_test_fil"));
    EXPECT(CUDA_SUCCESS, cuModuleLoadData(&other, ".version 8.0\n.target sm_90a\n.visible .entry tpk_x(\n)\n"));
    EXPECT(CUDA_ERROR_NOT_FOUND, cuModuleGetFunction(&g, other, "tpk_test_fill")); /* in the device, not the PTX */
    EXPECT(CUDA_SUCCESS, cuModuleUnload(other));
    EXPECT(CUDA_ERROR_INVALID_HANDLE, cuModuleUnload(other));
    EXPECT(CUDA_ERROR_INVALID_PTX, cuModuleLoadData(&other, ".version 9.0\n.target sm_100a\n"));
    EXPECT(CUDA_ERROR_INVALID_PTX, cuModuleLoadData(&other, ".version 9.0\n.target sm_80a\n"));
    EXPECT(CUDA_ERROR_INVALID_IMAGE, cuModuleLoadData(&other, "\177ELF\2\1\1"));
    /* An ELF header as ptxas writes one (EM_CUDA): refused as machine code for another GPU; another machine's ELF
     * is no module at all. */
    unsigned char elf[64] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0x41, 8, [16] = 2, [18] = 190};
    EXPECT(CUDA_ERROR_NO_BINARY_FOR_GPU, cuModuleLoadData(&other, elf));
    elf[18] = 62; /* EM_X86_64 */
    EXPECT(CUDA_ERROR_INVALID_IMAGE, cuModuleLoadData(&other, elf));
    const unsigned char fatbin[16] = {0x50, 0xed, 0x55, 0xba, 1, 0, 0x10, 0};
    EXPECT(CUDA_ERROR_NO_BINARY_FOR_GPU, cuModuleLoadData(&other, fatbin));
    EXPECT(CUDA_ERROR_INVALID_IMAGE, cuModuleLoadData(&other, "not ptx"));
    EXPECT(CUDA_ERROR_INVALID_IMAGE, cuModuleLoadData(&other, ""));

    int v = -1;
    EXPECT(CUDA_SUCCESS, cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_NUM_REGS, f));
    CHECK(v == 32);
    EXPECT(CUDA_SUCCESS, cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES, f));
    CHECK(v == 0);
    EXPECT(CUDA_SUCCESS, cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, f));
    CHECK(v == 1024);
    EXPECT(CUDA_SUCCESS, cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_PTX_VERSION, f));
    CHECK(v == 90);
    EXPECT(CUDA_SUCCESS, cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, f));
    CHECK(v == 49152);
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuFuncGetAttribute(&v, (CUfunction_attribute)999, f));

    /* Launch: fill the first 256 of 300 floats with 2.5. */
    CUdeviceptr out = 0;
    EXPECT(CUDA_SUCCESS, cuMemAlloc(&out, 300 * sizeof(float)));
    EXPECT(CUDA_SUCCESS, cuMemsetD8(out, 0, 300 * sizeof(float)));
    long long n = 300;
    float value = 2.5f;
    void* params[] = {&out, &n, &value};
    EXPECT(CUDA_SUCCESS, cuLaunchKernel(f, 2, 1, 1, 128, 1, 1, 0, NULL, params, NULL));
    float host[300];
    EXPECT(CUDA_SUCCESS, cuMemcpyDtoH(host, out, sizeof host));
    CHECK(host[0] == 2.5f && host[255] == 2.5f && host[256] == 0.0f && host[299] == 0.0f);

    /* Shapes a GPU refuses. */
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuLaunchKernel(f, 1, 1, 1, 0, 1, 1, 0, NULL, params, NULL));
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuLaunchKernel(f, 1, 1, 1, 1025, 1, 1, 0, NULL, params, NULL));
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuLaunchKernel(f, 1, 1, 1, 32, 32, 2, 0, NULL, params, NULL));
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuLaunchKernel(f, 1, 1, 1, 1, 1, 65, 0, NULL, params, NULL));
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuLaunchKernel(f, 0, 1, 1, 32, 1, 1, 0, NULL, params, NULL));
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuLaunchKernel(f, 1, 65536, 1, 32, 1, 1, 0, NULL, params, NULL));
    EXPECT(CUDA_SUCCESS, cuLaunchKernel(f, 1, 1, 1, 32, 32, 1, 49152, NULL, params, NULL));
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuLaunchKernel(f, 1, 1, 1, 32, 1, 1, 49153, NULL, params, NULL));
    void* extra[] = {CU_LAUNCH_PARAM_END};
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuLaunchKernel(f, 1, 1, 1, 32, 1, 1, 0, NULL, NULL, extra));
    EXPECT(CUDA_ERROR_INVALID_HANDLE, cuLaunchKernel(f, 1, 1, 1, 32, 1, 1, 0, (CUstream)&n, params, NULL));
    EXPECT(CUDA_ERROR_INVALID_HANDLE, cuLaunchKernel((CUfunction)m, 1, 1, 1, 32, 1, 1, 0, NULL, params, NULL));

    /* Opting in to more shared memory, up to the device's limit. */
    EXPECT(CUDA_SUCCESS, cuFuncSetAttribute(f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 200000));
    EXPECT(CUDA_SUCCESS, cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, f));
    CHECK(v == 200000);
    EXPECT(CUDA_SUCCESS, cuLaunchKernel(f, 1, 1, 1, 32, 1, 1, 200000, NULL, params, NULL));
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuFuncSetAttribute(f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 232449));
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuFuncSetAttribute(f, CU_FUNC_ATTRIBUTE_NUM_REGS, 64));

    /* A kernel that fails on the device: CUDA_ERROR_LAUNCH_FAILED, its reason on stderr. */
    n = -1;
    fprintf(stderr, "(a [tpk-emu] launch failure about n = -1 is expected next)\n");
    EXPECT(CUDA_ERROR_LAUNCH_FAILED, cuLaunchKernel(f, 1, 1, 1, 32, 1, 1, 0, NULL, params, NULL));

    EXPECT(CUDA_SUCCESS, cuModuleUnload(m));
    n = 300;
    EXPECT(CUDA_ERROR_INVALID_HANDLE, cuLaunchKernel(f, 1, 1, 1, 32, 1, 1, 0, NULL, params, NULL));
    EXPECT(CUDA_ERROR_INVALID_HANDLE, cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_NUM_REGS, f));
    EXPECT(CUDA_ERROR_INVALID_HANDLE, cuModuleGetFunction(&g, m, "tpk_test_fill"));
    EXPECT(CUDA_SUCCESS, cuMemFree(out));
}

/* cuTensorMapEncodeTiled: each rule of its documentation in cuda.h, broken once; and what it encodes. */
static void test_tensor_maps(void) {
    CUdeviceptr mem = 0;
    EXPECT(CUDA_SUCCESS, cuMemAlloc(&mem, 1 << 16));
    void* t = (void*)(uintptr_t)mem;
    CUtensorMap map;
    tmap_args a = tmap_default(t);
    EXPECT(CUDA_SUCCESS, tmap_encode(&map, a));
    tpk_tmap m;
    CHECK(tpk_tmap_decode(&map, &m) && m.address == (uint64_t)mem && m.rank == 2 && m.dtype == TPK_TMAP_BFLOAT16);
    CHECK(m.dims[0] == 200 && m.dims[1] == 100 && m.strides[0] == 400 && m.box[0] == 64 && m.box[1] == 128);
    CHECK(m.swizzle == TPK_TMAP_SWIZZLE_128B && m.element_strides[1] == 1 && m.oob_fill == 0);

    fprintf(stderr, "(a series of [tpk-emu] cuTensorMapEncodeTiled refusals is expected next)\n");
    static unsigned char buffer[256] __attribute__((aligned(128)));
    EXPECT(CUDA_ERROR_INVALID_VALUE, tmap_encode((CUtensorMap*)(buffer + 32), a)); /* not 64-byte aligned */
    EXPECT(CUDA_SUCCESS, tmap_encode((CUtensorMap*)(buffer + 64), a));
    EXPECT(CUDA_ERROR_INVALID_VALUE, tmap_encode(NULL, a));
#define BROKEN(change, expected)     \
    do {                             \
        tmap_args b = tmap_default(t); \
        change;                      \
        EXPECT(expected, tmap_encode(&map, b)); \
    } while (0)
    BROKEN(b.type = (CUtensorMapDataType)16, CUDA_ERROR_INVALID_VALUE);
    BROKEN(b.type = CU_TENSOR_MAP_DATA_TYPE_16U4_ALIGN8B, CUDA_ERROR_INVALID_VALUE); /* not on sm_90 */
    BROKEN(b.type = CU_TENSOR_MAP_DATA_TYPE_FLOAT16, CUDA_SUCCESS);
    BROKEN(b.rank = 0, CUDA_ERROR_INVALID_VALUE);
    BROKEN(b.rank = 6, CUDA_ERROR_INVALID_VALUE);
    BROKEN(b.rank = 1, CUDA_SUCCESS);
    BROKEN(b.address = (char*)t + 8, CUDA_ERROR_INVALID_VALUE);
    BROKEN(b.address = (char*)t + 16, CUDA_SUCCESS);
    BROKEN(b.address = NULL, CUDA_ERROR_INVALID_VALUE);
    BROKEN(b.dims[0] = 0, CUDA_ERROR_INVALID_VALUE);
    BROKEN(b.dims[1] = (1ull << 32) + 1, CUDA_ERROR_INVALID_VALUE);
    BROKEN(b.dims[1] = 1ull << 32, CUDA_SUCCESS);
    BROKEN(b.strides[0] = 408, CUDA_ERROR_INVALID_VALUE);
    BROKEN(b.strides[0] = 1ull << 40, CUDA_ERROR_INVALID_VALUE);
    BROKEN(b.strides[0] = (1ull << 40) - 16, CUDA_SUCCESS);
    BROKEN(b.box[1] = 0, CUDA_ERROR_INVALID_VALUE);
    BROKEN(b.box[1] = 257, CUDA_ERROR_INVALID_VALUE);
    BROKEN(b.box[1] = 256, CUDA_SUCCESS);
    BROKEN((b.box[0] = 12, b.swizzle = CU_TENSOR_MAP_SWIZZLE_NONE), CUDA_ERROR_INVALID_VALUE); /* 24-byte rows */
    BROKEN(b.element_strides[1] = 0, CUDA_ERROR_INVALID_VALUE);
    BROKEN(b.element_strides[1] = 9, CUDA_ERROR_INVALID_VALUE);
    BROKEN(b.element_strides[1] = 8, CUDA_SUCCESS);
    BROKEN(b.box[0] = 128, CUDA_ERROR_INVALID_VALUE); /* 256-byte rows in a 128-byte swizzle */
    BROKEN(b.swizzle = CU_TENSOR_MAP_SWIZZLE_64B, CUDA_ERROR_INVALID_VALUE);
    BROKEN((b.swizzle = CU_TENSOR_MAP_SWIZZLE_64B, b.box[0] = 32), CUDA_SUCCESS);
    BROKEN(b.swizzle = CU_TENSOR_MAP_SWIZZLE_128B_ATOM_32B, CUDA_ERROR_INVALID_VALUE); /* not on sm_90 */
    BROKEN(b.swizzle = (CUtensorMapSwizzle)7, CUDA_ERROR_INVALID_VALUE);
    BROKEN(b.interleave = CU_TENSOR_MAP_INTERLEAVE_16B, CUDA_ERROR_INVALID_VALUE); /* needs rank >= 3 */
#define INTERLEAVED_32B(stride0, sw) \
    (b.interleave = CU_TENSOR_MAP_INTERLEAVE_32B, b.rank = 3, b.strides[0] = (stride0), b.strides[1] = 41600, b.swizzle = (sw))
    BROKEN(INTERLEAVED_32B(416, CU_TENSOR_MAP_SWIZZLE_128B), CUDA_ERROR_INVALID_VALUE); /* needs swizzle 32B */
    BROKEN(INTERLEAVED_32B(400, CU_TENSOR_MAP_SWIZZLE_32B), CUDA_ERROR_INVALID_VALUE);  /* and 32-byte strides */
    BROKEN(INTERLEAVED_32B(416, CU_TENSOR_MAP_SWIZZLE_32B), CUDA_SUCCESS);
    BROKEN((INTERLEAVED_32B(416, CU_TENSOR_MAP_SWIZZLE_32B), b.address = (char*)t + 16), CUDA_ERROR_INVALID_VALUE);
#undef INTERLEAVED_32B
    BROKEN(b.l2 = (CUtensorMapL2promotion)4, CUDA_ERROR_INVALID_VALUE);
    BROKEN(b.oob = (CUtensorMapFloatOOBfill)2, CUDA_ERROR_INVALID_VALUE);
    BROKEN(b.oob = CU_TENSOR_MAP_FLOAT_OOB_FILL_NAN_REQUEST_ZERO_FMA, CUDA_SUCCESS);
    BROKEN((b.oob = CU_TENSOR_MAP_FLOAT_OOB_FILL_NAN_REQUEST_ZERO_FMA, b.type = CU_TENSOR_MAP_DATA_TYPE_UINT16),
           CUDA_ERROR_INVALID_VALUE);
#undef BROKEN
    EXPECT(CUDA_SUCCESS, cuMemFree(mem));
}

static void test_events(void) {
    CUevent start = NULL, end = NULL, untimed = NULL, fresh = NULL;
    CUstream s = NULL;
    float ms = -1;
    EXPECT(CUDA_SUCCESS, cuStreamCreate(&s, 0));
    EXPECT(CUDA_SUCCESS, cuEventCreate(&start, CU_EVENT_DEFAULT));
    EXPECT(CUDA_SUCCESS, cuEventCreate(&end, CU_EVENT_DEFAULT));
    EXPECT(CUDA_SUCCESS, cuEventCreate(&untimed, CU_EVENT_DISABLE_TIMING));
    EXPECT(CUDA_SUCCESS, cuEventCreate(&fresh, CU_EVENT_DEFAULT));
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuEventCreate(&fresh, 64));
    EXPECT(CUDA_SUCCESS, cuEventRecord(start, s));
    struct timespec pause = {0, 5 * 1000 * 1000};
    nanosleep(&pause, NULL);
    EXPECT(CUDA_SUCCESS, cuEventRecord(end, NULL));
    EXPECT(CUDA_SUCCESS, cuEventRecord(untimed, s));
    EXPECT(CUDA_SUCCESS, cuEventSynchronize(end));
    EXPECT(CUDA_SUCCESS, cuEventElapsedTime_v2(&ms, start, end));
    CHECK(ms >= 4.9f && ms < 1000.0f);
    ms = -1;
    EXPECT(CUDA_SUCCESS, cuEventElapsedTime(&ms, start, end)); /* the pre-12.8 name */
    CHECK(ms >= 4.9f);
    EXPECT(CUDA_ERROR_INVALID_HANDLE, cuEventElapsedTime_v2(&ms, start, fresh));   /* never recorded */
    EXPECT(CUDA_ERROR_INVALID_HANDLE, cuEventElapsedTime_v2(&ms, start, untimed)); /* no timing */
    EXPECT(CUDA_ERROR_INVALID_HANDLE, cuEventRecord(start, (CUstream)&ms));
    EXPECT(CUDA_SUCCESS, cuEventDestroy(start));
    EXPECT(CUDA_ERROR_INVALID_HANDLE, cuEventDestroy(start));
    EXPECT(CUDA_ERROR_INVALID_HANDLE, cuEventRecord(start, s));
    EXPECT(CUDA_ERROR_INVALID_HANDLE, cuEventElapsedTime_v2(&ms, start, end));
    EXPECT(CUDA_SUCCESS, cuEventDestroy(end));
    EXPECT(CUDA_SUCCESS, cuEventDestroy(untimed));
    EXPECT(CUDA_SUCCESS, cuEventDestroy(fresh));
    EXPECT(CUDA_SUCCESS, cuStreamDestroy(s));
}

static void test_error_names(void) {
    const char* s = "unset";
    EXPECT(CUDA_SUCCESS, cuGetErrorName(CUDA_ERROR_INVALID_VALUE, &s));
    CHECK(strcmp(s, "CUDA_ERROR_INVALID_VALUE") == 0);
    CHECK(strcmp(name_of(CUDA_ERROR_LAUNCH_FAILED), "CUDA_ERROR_LAUNCH_FAILED") == 0);
    CHECK(strcmp(name_of(CUDA_ERROR_OUT_OF_MEMORY), "CUDA_ERROR_OUT_OF_MEMORY") == 0);
    CHECK(strcmp(name_of(CUDA_ERROR_UNSUPPORTED_PTX_VERSION), "CUDA_ERROR_UNSUPPORTED_PTX_VERSION") == 0);
    EXPECT(CUDA_SUCCESS, cuGetErrorString(CUDA_ERROR_NOT_FOUND, &s));
    CHECK(s != NULL && s[0] != '\0');
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuGetErrorName((CUresult)123456, &s));
    CHECK(s == NULL);
    EXPECT(CUDA_ERROR_INVALID_VALUE, cuGetErrorString((CUresult)123456, &s));
}

static void test_release(CUcontext ctx) {
    CUdeviceptr p = 0;
    EXPECT(CUDA_SUCCESS, cuDevicePrimaryCtxRelease(0));
    EXPECT(CUDA_ERROR_INVALID_CONTEXT, cuMemAlloc(&p, 16)); /* current, but released */
    EXPECT(CUDA_ERROR_INVALID_CONTEXT, cuDevicePrimaryCtxRelease(0));
    EXPECT(CUDA_SUCCESS, cuDevicePrimaryCtxRetain(&ctx, 0));
    EXPECT(CUDA_SUCCESS, cuCtxSetCurrent(NULL));
    EXPECT(CUDA_ERROR_INVALID_CONTEXT, cuCtxSynchronize());
}

/* The counts of TPK_EMU_STATS=1 and the launches of TPK_EMU_SKIP_KERNELS=1: driver_test --counts SEQUENCE makes a
 * known sequence of calls in a process of its own (the driver reads the variables when it is loaded, and prints at
 * exit) and exits 0 if every call did as expected. Sequence "launches": 3 launches, 2 stream synchronizations and
 * 1 synchronous copy, among calls that do not count (a refused launch, a synchronization of a destroyed stream, an
 * async copy and memset, a stream query, an event record). Sequence "waits": one of each other host wait, and a
 * refused synchronous copy. Sequence "skip": one launch of the fill over zeroed memory, which the kernel fills
 * unless TPK_EMU_SKIP_KERNELS is "1" (then it stays zero); counted either way, and refused as always where the
 * launch is wrong. */
static int run_counts_sequence(const char* sequence) {
    CUcontext ctx = NULL;
    CUmodule m = NULL;
    CUfunction f = NULL;
    CUstream s = NULL, dead = NULL;
    CUevent e = NULL;
    CUdeviceptr out = 0, other = 0;
    float host[64] = {0};
    EXPECT(CUDA_SUCCESS, cuInit(0));
    EXPECT(CUDA_SUCCESS, cuDevicePrimaryCtxRetain(&ctx, 0));
    EXPECT(CUDA_SUCCESS, cuCtxSetCurrent(ctx));
    EXPECT(CUDA_SUCCESS, cuStreamCreate(&s, 0));
    EXPECT(CUDA_SUCCESS, cuEventCreate(&e, CU_EVENT_DEFAULT));
    EXPECT(CUDA_SUCCESS, cuMemAlloc(&out, sizeof host));
    EXPECT(CUDA_SUCCESS, cuMemAlloc(&other, sizeof host));
    if (strcmp(sequence, "launches") == 0) {
        EXPECT(CUDA_SUCCESS, cuModuleLoadData(&m, PTX));
        EXPECT(CUDA_SUCCESS, cuModuleGetFunction(&f, m, "tpk_test_fill"));
        long long n = 64;
        float value = 1.5f;
        void* params[] = {&out, &n, &value};
        EXPECT(CUDA_SUCCESS, cuMemcpyHtoDAsync(out, host, sizeof host, s));
        EXPECT(CUDA_SUCCESS, cuMemsetD8Async(other, 0, sizeof host, s));
        for (int i = 0; i < 3; i++) {
            EXPECT(CUDA_SUCCESS, cuLaunchKernel(f, 1, 1, 1, 64, 1, 1, 0, s, params, NULL));
        }
        EXPECT(CUDA_ERROR_INVALID_VALUE, cuLaunchKernel(f, 1, 1, 1, 2048, 1, 1, 0, s, params, NULL));
        EXPECT(CUDA_SUCCESS, cuEventRecord(e, s));
        EXPECT(CUDA_SUCCESS, cuStreamQuery(s));
        EXPECT(CUDA_SUCCESS, cuStreamSynchronize(s));
        EXPECT(CUDA_SUCCESS, cuStreamSynchronize(NULL));
        EXPECT(CUDA_SUCCESS, cuStreamCreate(&dead, 0));
        EXPECT(CUDA_SUCCESS, cuStreamDestroy(dead));
        EXPECT(CUDA_ERROR_INVALID_HANDLE, cuStreamSynchronize(dead));
        EXPECT(CUDA_SUCCESS, cuMemcpyDtoH(host, out, sizeof host));
        CHECK(host[0] == 1.5f && host[63] == 1.5f);
        EXPECT(CUDA_SUCCESS, cuModuleUnload(m));
    } else if (strcmp(sequence, "skip") == 0) {
        const char* skip = getenv("TPK_EMU_SKIP_KERNELS");
        int skipped = skip != NULL && strcmp(skip, "1") == 0;
        EXPECT(CUDA_SUCCESS, cuModuleLoadData(&m, PTX));
        EXPECT(CUDA_SUCCESS, cuModuleGetFunction(&f, m, "tpk_test_fill"));
        long long n = 64;
        float value = 1.5f;
        void* params[] = {&out, &n, &value};
        EXPECT(CUDA_SUCCESS, cuMemsetD8(out, 0, sizeof host));
        unsigned long long before = 0, after = 0;
        tpk_emu_counts(&before, NULL);
        EXPECT(CUDA_SUCCESS, cuLaunchKernel(f, 1, 1, 1, 64, 1, 1, 0, s, params, NULL));
        EXPECT(CUDA_ERROR_INVALID_VALUE, cuLaunchKernel(f, 1, 1, 1, 2048, 1, 1, 0, s, params, NULL));
        EXPECT(CUDA_ERROR_INVALID_VALUE, cuLaunchKernel(f, 1, 1, 1, 64, 1, 1, 49153, s, params, NULL));
        EXPECT(CUDA_ERROR_INVALID_HANDLE, cuLaunchKernel((CUfunction)m, 1, 1, 1, 64, 1, 1, 0, s, params, NULL));
        tpk_emu_counts(&after, NULL);
        CHECK(after == before + 1);
        EXPECT(CUDA_SUCCESS, cuMemcpyDtoH(host, out, sizeof host));
        float expected = skipped ? 0.0f : 1.5f;
        CHECK(host[0] == expected && host[63] == expected);
        EXPECT(CUDA_SUCCESS, cuModuleUnload(m));
    } else if (strcmp(sequence, "waits") == 0) {
        EXPECT(CUDA_SUCCESS, cuEventRecord(e, s));
        EXPECT(CUDA_SUCCESS, cuEventSynchronize(e));
        EXPECT(CUDA_SUCCESS, cuCtxSynchronize());
        EXPECT(CUDA_SUCCESS, cuMemcpyHtoD(out, host, sizeof host));
        EXPECT(CUDA_SUCCESS, cuMemcpyDtoD(other, out, sizeof host));
        EXPECT(CUDA_SUCCESS, cuMemsetD8(out, 0, sizeof host));
        EXPECT(CUDA_ERROR_INVALID_VALUE, cuMemcpyHtoD(out, host, sizeof host + 1)); /* prints its refusal */
    } else {
        fprintf(stderr, "driver_test: no sequence %s\n", sequence);
        return 2;
    }
    EXPECT(CUDA_SUCCESS, cuMemFree(out));
    EXPECT(CUDA_SUCCESS, cuMemFree(other));
    EXPECT(CUDA_SUCCESS, cuEventDestroy(e));
    EXPECT(CUDA_SUCCESS, cuStreamDestroy(s));
    EXPECT(CUDA_SUCCESS, cuDevicePrimaryCtxRelease(0));
    return g_failed == 0 ? 0 : 1;
}

/* Sets or (value NULL) unsets an environment variable. */
static void set_or_unset(const char* name, const char* value) {
    if (value != NULL) {
        setenv(name, value, 1);
    } else {
        unsetenv(name);
    }
}

/* What driver_test --counts SEQUENCE writes to stderr, with TPK_EMU_STATS set to stats and TPK_EMU_SKIP_KERNELS to
 * skip (NULL: unset), and whether it exited 0. */
static int counts_run(const char* sequence, const char* stats, const char* skip, char* err, size_t cap) {
    int fds[2];
    if (pipe(fds) != 0) {
        return 0;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        set_or_unset("TPK_EMU_STATS", stats);
        set_or_unset("TPK_EMU_SKIP_KERNELS", skip);
        unsetenv("TPK_EMU_TRACE");
        execl("/proc/self/exe", "driver_test", "--counts", sequence, (char*)NULL);
        _exit(127);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t got;
    while ((got = read(fds[0], err + n, cap - 1 - n)) > 0) {
        n += (size_t)got;
    }
    err[n] = '\0';
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* The last line of text, without its newline (text is changed). */
static const char* last_line(char* text) {
    size_t n = strlen(text);
    if (n > 0 && text[n - 1] == '\n') {
        text[--n] = '\0';
    }
    char* nl = strrchr(text, '\n');
    return nl != NULL ? nl + 1 : text;
}

static void test_counts(void) {
    char err[4096];
    CHECK(counts_run("launches", "1", NULL, err, sizeof err));
    CHECK(strcmp(err, "tpk-emulator: launches=3 host-waits=3\n") == 0); /* exactly one line, nothing else */
    CHECK(counts_run("waits", "1", NULL, err, sizeof err));
    CHECK(strstr(err, "cuMemcpyHtoD_v2 refused") != NULL);
    const char* last = last_line(err);
    CHECK(strcmp(last, "tpk-emulator: launches=0 host-waits=5") == 0);
    CHECK(strstr(err, "tpk-emulator:") == last); /* once */
    for (int i = 0; i < 3; i++) { /* unset, "0" and anything but "1": nothing */
        const char* stats = i == 0 ? NULL : i == 1 ? "0" : "yes";
        CHECK(counts_run("launches", stats, NULL, err, sizeof err));
        CHECK(err[0] == '\0');
    }
}

/* TPK_EMU_SKIP_KERNELS=1: a launch is counted and leaves memory as it was; unset or anything but "1", it runs. */
static void test_skip_kernels(void) {
    char err[4096];
    CHECK(counts_run("skip", NULL, "1", err, sizeof err));
    CHECK(strcmp(err, "tpk-emulator: TPK_EMU_SKIP_KERNELS=1: launches are checked and counted, kernels are not "
                      "run\n") == 0);
    CHECK(counts_run("skip", "1", "1", err, sizeof err));
    CHECK(strcmp(last_line(err), "tpk-emulator: launches=1 host-waits=2") == 0);
    for (int i = 0; i < 3; i++) {
        const char* skip = i == 0 ? NULL : i == 1 ? "0" : "yes";
        CHECK(counts_run("skip", NULL, skip, err, sizeof err));
        CHECK(err[0] == '\0');
    }
}

int main(int argc, char** argv) {
    if (argc == 3 && strcmp(argv[1], "--counts") == 0) {
        return run_counts_sequence(argv[2]);
    }
    test_counts();
    test_skip_kernels();
    test_before_init();
    if (cuInit(0) != CUDA_SUCCESS) {
        fprintf(stderr, "FAILED: cuInit(0)\n");
        return 1;
    }
    test_device();
    test_context();
    CUcontext ctx = NULL;
    cuCtxGetCurrent(&ctx);
    test_memory();
    test_guard_page();
    test_threads(ctx);
    test_modules_and_launches();
    test_tensor_maps();
    test_events();
    test_error_names();
    test_release(ctx);
    printf("driver_test: %d checks, %d failed\n", g_checks, g_failed);
    return g_failed == 0 ? 0 : 1;
}
