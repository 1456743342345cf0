/* driver.c: the CUDA driver API, emulated on the CPU, for running the Java side's CUDA paths without a GPU.
 *
 * Exports, with cuda.h's names and ABI, every driver function the Java bindings bind (CudaDriverApi.java), as
 * libcuda.so.1; Java finds it through TPK_CUDA_LIBRARY_PATH. Kernels run on the emulated device behind
 * tpk_emu.h. One device, "tpk CPU emulator (not a GPU)", reporting the shape of an H100 (sm_90, 132 SMs).
 *
 *   - Device memory is host memory: a CUdeviceptr is a host address. Each allocation gets its own mapping,
 *     placed so that its end (rounded up to 256 bytes) touches a PROT_NONE page: a kernel that reads or writes
 *     past the end faults at once instead of corrupting a neighbour. Copies and memsets must lie inside one live
 *     allocation, or they fail with CUDA_ERROR_INVALID_VALUE (a GPU would fault, later and less clearly).
 *   - All work runs on the calling thread before the call returns: "Async" calls are synchronous, streams are
 *     bare handles, and an event records the host's monotonic clock.
 *   - Modules are PTX text; only the names of its .entry kernels are read. A kernel is found only if the PTX
 *     declares it and the emulated device was built with it.
 *   - Tensor maps (cuTensorMapEncodeTiled) are checked against the rules cuda.h documents and encoded in the
 *     emulator's own layout (tensor_map.h), which only the emulated TMA reads.
 *   - TPK_EMU_TRACE=1 prints every call and every failure to stderr.
 *   - TPK_EMU_STATS=1 prints one line to stderr at process exit, `tpk-emulator: launches=N host-waits=M`: how
 *     often the process launched a kernel and how often the host waited for the device (see "counts" below).
 *   - TPK_EMU_SKIP_KERNELS=1 makes cuLaunchKernel check its arguments as always (the function, the stream,
 *     the launch shape and shared memory, kernelParams and no extra) and count the launch, then return CUDA_SUCCESS
 *     without running the kernel: what it would write is left as it was, so results are meaningless. It is for
 *     timing the host side alone (the caller's argument marshalling and driver calls, without the CPU running the
 *     kernels), never for tests of results. Memory calls and copies still run. When set, the driver says so once
 *     on stderr as it loads.
 *
 * Build (see test-driver.sh, which builds it with the stub device of the tests):
 *   gcc -std=c11 -O2 -fPIC -fvisibility=hidden -I/usr/local/cuda/include -c driver.c
 *   then link driver.o with the device's objects: -shared -Wl,-soname,libcuda.so.1 -o libcuda.so.1 -lpthread
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* These would rename cuStreamQuery, cuLaunchKernel, ... to their _ptsz/_ptds variants, which Java does not bind. */
#if defined(CUDA_API_PER_THREAD_DEFAULT_STREAM) || defined(__CUDA_API_VERSION_INTERNAL)
#error "build driver.c without CUDA_API_PER_THREAD_DEFAULT_STREAM and __CUDA_API_VERSION_INTERNAL"
#endif

/* Only the API is exported: cuda.h's declarations get default visibility, everything else stays hidden under
 * -fvisibility=hidden. The definitions below use the versioned names (cuMemAlloc_v2) that cuda.h #defines the
 * plain names to, so each must match cuda.h's prototype, and the exported symbol is the one Java looks up. */
#pragma GCC visibility push(default)
#include <cuda.h>
#undef cuEventElapsedTime /* exported under its old name too, for bindings older than CUDA 12.8 */
CUresult CUDAAPI cuEventElapsedTime(float* pMilliseconds, CUevent hStart, CUevent hEnd);
#pragma GCC visibility pop

#include "tensor_map.h"
#include "tpk_emu.h"

/* ---- the emulated device's fixed properties */

#define DEVICE_NAME "tpk CPU emulator (not a GPU)"
#define DRIVER_VERSION 13000                      /* the CUDA 13.0 API, as in the headers it is built with */
#define TOTAL_MEMORY (16ull << 30)                /* 16 GiB */
#define POISON_BYTE 0xcb                          /* as f32 0xcbcbcbcb: -2.7e7; as bf16 0xcbcb: -2.7e7 */
#define POISON_BYTES (64ull << 20)
#define ALIGNMENT 256                             /* cuMemAlloc's guaranteed alignment */
#define DEFAULT_DYNAMIC_SMEM 49152                /* what a kernel may use without cuFuncSetAttribute */
#define MAX_DYNAMIC_SMEM_OPTIN 232448             /* an H100's opt-in limit per block */

static int g_trace;
static int g_stats; /* TPK_EMU_STATS=1 */
static int g_skip_kernels; /* TPK_EMU_SKIP_KERNELS=1 */

/* ---- counts
 *
 * Process-wide, over all threads, of calls that returned CUDA_SUCCESS:
 *   - launches: cuLaunchKernel (the only launch the driver exports: no cuLaunchKernelEx, cooperative launches
 *     or graphs; one that is added counts each kernel it runs as one launch);
 *   - host waits: the calls that return only once the device is done with earlier work: cuStreamSynchronize,
 *     cuCtxSynchronize, cuEventSynchronize, and the synchronous copies and memsets (cuMemcpyHtoD, cuMemcpyDtoH,
 *     cuMemcpyDtoD, cuMemsetD8). Their Async forms and cuStreamQuery do not wait and do not count (nor would
 *     cuEventQuery, which the driver does not export); nor does cuMemFree, nor any cuBLAS or NCCL call (those
 *     libraries are emulated on their own).
 * Counted always (a relaxed atomic add); printed at exit only when TPK_EMU_STATS is exactly "1". */

static unsigned long long g_launches, g_host_waits;

static CUresult count_launch(CUresult r) {
    if (r == CUDA_SUCCESS) {
        __atomic_fetch_add(&g_launches, 1, __ATOMIC_RELAXED);
    }
    return r;
}

static CUresult count_host_wait(CUresult r) {
    if (r == CUDA_SUCCESS) {
        __atomic_fetch_add(&g_host_waits, 1, __ATOMIC_RELAXED);
    }
    return r;
}

/* Not a CUDA call: the counts so far, so that a test in the process can measure a stretch of its own work (a
 * forward without the loading before it). Either pointer may be NULL. */
__attribute__((visibility("default"))) void tpk_emu_counts(unsigned long long* launches,
                                                            unsigned long long* host_waits) {
    if (launches != NULL) {
        *launches = __atomic_load_n(&g_launches, __ATOMIC_RELAXED);
    }
    if (host_waits != NULL) {
        *host_waits = __atomic_load_n(&g_host_waits, __ATOMIC_RELAXED);
    }
}

/* At exit (or at dlclose, which a process that loaded the driver never does): one fprintf, one line. */
__attribute__((destructor)) static void print_counts(void) {
    if (g_stats) {
        fprintf(stderr, "tpk-emulator: launches=%llu host-waits=%llu\n", __atomic_load_n(&g_launches, __ATOMIC_RELAXED),
                __atomic_load_n(&g_host_waits, __ATOMIC_RELAXED));
    }
}

__attribute__((constructor)) static void read_environment(void) {
    const char* t = getenv("TPK_EMU_TRACE");
    g_trace = t != NULL && *t != '\0' && strcmp(t, "0") != 0;
    const char* s = getenv("TPK_EMU_STATS");
    g_stats = s != NULL && strcmp(s, "1") == 0;
    const char* k = getenv("TPK_EMU_SKIP_KERNELS");
    g_skip_kernels = k != NULL && strcmp(k, "1") == 0;
    if (g_skip_kernels) { /* a run whose results are meaningless must not pass for a real one */
        fputs("tpk-emulator: TPK_EMU_SKIP_KERNELS=1: launches are checked and counted, kernels are not run\n",
              stderr);
    }
}

__attribute__((format(printf, 1, 2))) static void trace(const char* fmt, ...) {
    if (!g_trace) {
        return;
    }
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "[tpk-emu] %s\n", line); /* one call, so lines of concurrent threads do not interleave */
}

static const char* result_name(CUresult r);

/* Every failure goes through here, so that a trace shows which call failed and how. */
static CUresult fail(const char* call, CUresult r) {
    trace("  %s -> %s", call, result_name(r));
    return r;
}

/* ---- initialization and the one context */

static int g_initialized;   /* set once by cuInit; read by every call */
static int g_ctx_retained;  /* the primary context's retain count, under g_ctx_lock */
static pthread_mutex_t g_ctx_lock = PTHREAD_MUTEX_INITIALIZER;
static struct { int unused; } g_primary_ctx; /* CUcontext handles point here */
static __thread CUcontext t_current;          /* the driver's per-thread current context */

#define PRIMARY_CTX ((CUcontext)&g_primary_ctx)

/* Returns the status of a check that failed, from the calling API function. */
#define REQUIRE(check)                   \
    do {                                 \
        CUresult status_ = (check);      \
        if (status_ != CUDA_SUCCESS) {   \
            return status_;              \
        }                                \
    } while (0)

static CUresult need_init(const char* call) {
    return __atomic_load_n(&g_initialized, __ATOMIC_ACQUIRE) ? CUDA_SUCCESS : fail(call, CUDA_ERROR_NOT_INITIALIZED);
}

/* Calls that work "in the current context" fail without one, as on a GPU: this catches a Java path that forgot to
 * make its device current on the calling thread. */
static CUresult need_context(const char* call) {
    REQUIRE(need_init(call));
    pthread_mutex_lock(&g_ctx_lock);
    int usable = t_current == PRIMARY_CTX && g_ctx_retained > 0;
    pthread_mutex_unlock(&g_ctx_lock);
    return usable ? CUDA_SUCCESS : fail(call, CUDA_ERROR_INVALID_CONTEXT);
}

/* One launch at a time: the emulated device runs one kernel per process. A synchronize waits here for a launch
 * another thread has in flight, and so does cuMemFree, which on a GPU also waits for the device. */
static pthread_mutex_t g_launch_lock = PTHREAD_MUTEX_INITIALIZER;

static void wait_for_launches(void) {
    pthread_mutex_lock(&g_launch_lock);
    pthread_mutex_unlock(&g_launch_lock);
}

CUresult CUDAAPI cuInit(unsigned int flags) {
    trace("cuInit(flags=%u)", flags);
    if (flags != 0) {
        return fail("cuInit", CUDA_ERROR_INVALID_VALUE);
    }
    __atomic_store_n(&g_initialized, 1, __ATOMIC_RELEASE);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDriverGetVersion(int* version) {
    trace("cuDriverGetVersion()");
    if (version == NULL) {
        return fail("cuDriverGetVersion", CUDA_ERROR_INVALID_VALUE);
    }
    *version = DRIVER_VERSION;
    return CUDA_SUCCESS;
}

/* ---- devices */

CUresult CUDAAPI cuDeviceGetCount(int* count) {
    trace("cuDeviceGetCount()");
    REQUIRE(need_init("cuDeviceGetCount"));
    if (count == NULL) {
        return fail("cuDeviceGetCount", CUDA_ERROR_INVALID_VALUE);
    }
    *count = 1;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDeviceGet(CUdevice* device, int ordinal) {
    trace("cuDeviceGet(ordinal=%d)", ordinal);
    REQUIRE(need_init("cuDeviceGet"));
    if (device == NULL) {
        return fail("cuDeviceGet", CUDA_ERROR_INVALID_VALUE);
    }
    if (ordinal != 0) {
        return fail("cuDeviceGet", CUDA_ERROR_INVALID_DEVICE);
    }
    *device = 0;
    return CUDA_SUCCESS;
}

static CUresult need_device(const char* call, CUdevice dev) {
    REQUIRE(need_init(call));
    return dev == 0 ? CUDA_SUCCESS : fail(call, CUDA_ERROR_INVALID_DEVICE);
}

CUresult CUDAAPI cuDeviceGetName(char* name, int len, CUdevice dev) {
    trace("cuDeviceGetName(len=%d, dev=%d)", len, dev);
    REQUIRE(need_device("cuDeviceGetName", dev));
    if (name == NULL || len <= 0) {
        return fail("cuDeviceGetName", CUDA_ERROR_INVALID_VALUE);
    }
    snprintf(name, (size_t)len, "%s", DEVICE_NAME);
    return CUDA_SUCCESS;
}

/* An H100 SXM's values where it matters to the Java code (its kernel choices and tile sizes), and values that
 * are true of the emulator elsewhere (no ECC, no PCI location). */
static int device_attribute(CUdevice_attribute a, int* value) {
    switch (a) {
        case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK: *value = 1024; return 1;
        case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X: *value = 1024; return 1;
        case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y: *value = 1024; return 1;
        case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z: *value = 64; return 1;
        case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X: *value = 2147483647; return 1;
        case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y: *value = 65535; return 1;
        case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z: *value = 65535; return 1;
        case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK: *value = DEFAULT_DYNAMIC_SMEM; return 1;
        case CU_DEVICE_ATTRIBUTE_TOTAL_CONSTANT_MEMORY: *value = 65536; return 1;
        case CU_DEVICE_ATTRIBUTE_WARP_SIZE: *value = 32; return 1;
        case CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK: *value = 65536; return 1;
        case CU_DEVICE_ATTRIBUTE_CLOCK_RATE: *value = 1980000; return 1; /* kHz */
        case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT: *value = 132; return 1;
        case CU_DEVICE_ATTRIBUTE_INTEGRATED: *value = 0; return 1;
        case CU_DEVICE_ATTRIBUTE_COMPUTE_MODE: *value = CU_COMPUTEMODE_DEFAULT; return 1;
        case CU_DEVICE_ATTRIBUTE_CONCURRENT_KERNELS: *value = 1; return 1;
        case CU_DEVICE_ATTRIBUTE_ECC_ENABLED: *value = 0; return 1;
        case CU_DEVICE_ATTRIBUTE_PCI_BUS_ID: *value = 0; return 1;
        case CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID: *value = 0; return 1;
        case CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID: *value = 0; return 1;
        case CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE: *value = 2619000; return 1; /* kHz */
        case CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH: *value = 5120; return 1; /* bits */
        case CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE: *value = 50 << 20; return 1;
        case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR: *value = 2048; return 1;
        case CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING: *value = 1; return 1; /* device pointers are host addresses */
        case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: *value = 9; return 1;
        case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: *value = 0; return 1;
        case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR: *value = 233472; return 1;
        case CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR: *value = 65536; return 1;
        case CU_DEVICE_ATTRIBUTE_MAX_BLOCKS_PER_MULTIPROCESSOR: *value = 32; return 1;
        case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN: *value = MAX_DYNAMIC_SMEM_OPTIN; return 1;
        default: return 0;
    }
}

CUresult CUDAAPI cuDeviceGetAttribute(int* pi, CUdevice_attribute attrib, CUdevice dev) {
    trace("cuDeviceGetAttribute(attrib=%d, dev=%d)", (int)attrib, dev);
    REQUIRE(need_device("cuDeviceGetAttribute", dev));
    if (pi == NULL || !device_attribute(attrib, pi)) {
        return fail("cuDeviceGetAttribute", CUDA_ERROR_INVALID_VALUE);
    }
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDeviceTotalMem_v2(size_t* bytes, CUdevice dev) {
    trace("cuDeviceTotalMem_v2(dev=%d)", dev);
    REQUIRE(need_device("cuDeviceTotalMem_v2", dev));
    if (bytes == NULL) {
        return fail("cuDeviceTotalMem_v2", CUDA_ERROR_INVALID_VALUE);
    }
    *bytes = TOTAL_MEMORY;
    return CUDA_SUCCESS;
}

/* ---- contexts: the device's primary context is the only one */

CUresult CUDAAPI cuDevicePrimaryCtxRetain(CUcontext* pctx, CUdevice dev) {
    trace("cuDevicePrimaryCtxRetain(dev=%d)", dev);
    REQUIRE(need_device("cuDevicePrimaryCtxRetain", dev));
    if (pctx == NULL) {
        return fail("cuDevicePrimaryCtxRetain", CUDA_ERROR_INVALID_VALUE);
    }
    pthread_mutex_lock(&g_ctx_lock);
    g_ctx_retained++;
    pthread_mutex_unlock(&g_ctx_lock);
    *pctx = PRIMARY_CTX;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDevicePrimaryCtxRelease_v2(CUdevice dev) {
    trace("cuDevicePrimaryCtxRelease_v2(dev=%d)", dev);
    REQUIRE(need_device("cuDevicePrimaryCtxRelease_v2", dev));
    pthread_mutex_lock(&g_ctx_lock);
    int ok = g_ctx_retained > 0;
    if (ok) {
        g_ctx_retained--; /* at zero the context is unusable until retained again (memory is kept, unlike a GPU) */
    }
    pthread_mutex_unlock(&g_ctx_lock);
    return ok ? CUDA_SUCCESS : fail("cuDevicePrimaryCtxRelease_v2", CUDA_ERROR_INVALID_CONTEXT);
}

CUresult CUDAAPI cuCtxSetCurrent(CUcontext ctx) {
    trace("cuCtxSetCurrent(ctx=%p)", (void*)ctx);
    REQUIRE(need_init("cuCtxSetCurrent"));
    if (ctx != NULL && ctx != PRIMARY_CTX) {
        return fail("cuCtxSetCurrent", CUDA_ERROR_INVALID_CONTEXT);
    }
    t_current = ctx;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuCtxGetCurrent(CUcontext* pctx) {
    trace("cuCtxGetCurrent()");
    REQUIRE(need_init("cuCtxGetCurrent"));
    if (pctx == NULL) {
        return fail("cuCtxGetCurrent", CUDA_ERROR_INVALID_VALUE);
    }
    *pctx = t_current;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuCtxSynchronize(void) {
    trace("cuCtxSynchronize()");
    REQUIRE(need_context("cuCtxSynchronize"));
    wait_for_launches();
    return count_host_wait(CUDA_SUCCESS);
}

/* ---- memory
 *
 * Live allocations sorted by address, for the range checks of copies and memsets. A copy holds the read lock
 * while it copies, so that a racing cuMemFree waits rather than unmapping memory under it. */

typedef struct {
    uintptr_t ptr;   /* what cuMemAlloc returned */
    size_t bytes;    /* what was asked for: the bounds of copies */
    size_t rounded;  /* bytes rounded up to ALIGNMENT: what counts against the total */
    void* map;       /* the mapping, guard page included */
    size_t map_len;
} allocation;

static pthread_rwlock_t g_mem_lock = PTHREAD_RWLOCK_INITIALIZER;
static allocation* g_allocs;
static size_t g_nallocs, g_cap;
static size_t g_live_bytes;

/* The index of the last allocation starting at or below p, or -1. Caller holds g_mem_lock. */
static long last_at_or_below(uintptr_t p) {
    long lo = 0, hi = (long)g_nallocs - 1, found = -1;
    while (lo <= hi) {
        long mid = lo + (hi - lo) / 2;
        if (g_allocs[mid].ptr <= p) {
            found = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return found;
}

/* Whether [p, p + n) lies inside one live allocation. Caller holds g_mem_lock. */
static int inside_one_allocation(CUdeviceptr p, size_t n) {
    long i = last_at_or_below((uintptr_t)p);
    if (i < 0) {
        return 0;
    }
    const allocation* a = &g_allocs[i];
    size_t offset = (uintptr_t)p - a->ptr;
    return offset < a->bytes && n <= a->bytes - offset;
}

CUresult CUDAAPI cuMemAlloc_v2(CUdeviceptr* dptr, size_t bytesize) {
    trace("cuMemAlloc_v2(bytes=%zu)", bytesize);
    REQUIRE(need_context("cuMemAlloc_v2"));
    if (dptr == NULL || bytesize == 0) {
        return fail("cuMemAlloc_v2", CUDA_ERROR_INVALID_VALUE);
    }
    if (bytesize > TOTAL_MEMORY) { /* also keeps the roundings below from overflowing */
        return fail("cuMemAlloc_v2", CUDA_ERROR_OUT_OF_MEMORY);
    }
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t rounded = (bytesize + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    size_t body = (rounded + page - 1) / page * page;
    allocation a = {0, bytesize, rounded, NULL, body + page};

    pthread_rwlock_wrlock(&g_mem_lock);
    if (g_live_bytes + rounded > TOTAL_MEMORY) {
        pthread_rwlock_unlock(&g_mem_lock);
        return fail("cuMemAlloc_v2", CUDA_ERROR_OUT_OF_MEMORY);
    }
    if (g_nallocs == g_cap) {
        size_t cap = g_cap ? 2 * g_cap : 64;
        allocation* grown = realloc(g_allocs, cap * sizeof *grown);
        if (grown == NULL) {
            pthread_rwlock_unlock(&g_mem_lock);
            return fail("cuMemAlloc_v2", CUDA_ERROR_OUT_OF_MEMORY);
        }
        g_allocs = grown;
        g_cap = cap;
    }
    /* NORESERVE: pages are committed when touched, as a GPU's memory is not, so big allocations that a test only
     * partly uses do not need the host to have them. */
    a.map = mmap(NULL, a.map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (a.map == MAP_FAILED) {
        /* Within the total, so the host said no: say why (each allocation is two mappings, and the number of
         * mappings is limited by vm.max_map_count). */
        fprintf(stderr, "[tpk-emu] cuMemAlloc_v2: mmap of %zu bytes failed (%s) with %zu allocations live\n",
                a.map_len, strerror(errno), g_nallocs);
        pthread_rwlock_unlock(&g_mem_lock);
        return fail("cuMemAlloc_v2", CUDA_ERROR_OUT_OF_MEMORY);
    }
    /* The last page is the guard; the allocation ends, rounded to 256 bytes, right where it begins. A page is a
     * multiple of 256 bytes, so the pointer keeps cuMemAlloc's alignment. */
    char* guard = (char*)a.map + body;
    if (mprotect(guard, page, PROT_NONE) != 0) {
        munmap(a.map, a.map_len);
        pthread_rwlock_unlock(&g_mem_lock);
        return fail("cuMemAlloc_v2", CUDA_ERROR_OUT_OF_MEMORY);
    }
    a.ptr = (uintptr_t)(guard - rounded);
    /* cuMemAlloc does not zero memory, but fresh anonymous pages are zero: poison them, so a kernel or a test that
     * reads memory nobody wrote fails here instead of passing by luck (up to POISON_BYTES, to keep huge
     * allocations lazily committed). */
    memset((void*)a.ptr, POISON_BYTE, rounded < POISON_BYTES ? rounded : POISON_BYTES);
    size_t at = (size_t)(last_at_or_below(a.ptr) + 1);
    memmove(&g_allocs[at + 1], &g_allocs[at], (g_nallocs - at) * sizeof *g_allocs);
    g_allocs[at] = a;
    g_nallocs++;
    g_live_bytes += rounded;
    pthread_rwlock_unlock(&g_mem_lock);

    *dptr = (CUdeviceptr)a.ptr;
    trace("  cuMemAlloc_v2 = 0x%llx (guard page at %p)", (unsigned long long)a.ptr, (void*)guard);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemFree_v2(CUdeviceptr dptr) {
    trace("cuMemFree_v2(ptr=0x%llx)", (unsigned long long)dptr);
    REQUIRE(need_context("cuMemFree_v2"));
    /* Lock order: launches, then memory. Holding the launch lock means no kernel runs while the memory goes. */
    pthread_mutex_lock(&g_launch_lock);
    pthread_rwlock_wrlock(&g_mem_lock);
    long i = last_at_or_below((uintptr_t)dptr);
    if (i < 0 || g_allocs[i].ptr != (uintptr_t)dptr) { /* unknown, already freed, or inside an allocation */
        pthread_rwlock_unlock(&g_mem_lock);
        pthread_mutex_unlock(&g_launch_lock);
        return fail("cuMemFree_v2", CUDA_ERROR_INVALID_VALUE);
    }
    allocation a = g_allocs[i];
    memmove(&g_allocs[i], &g_allocs[i + 1], (g_nallocs - (size_t)i - 1) * sizeof *g_allocs);
    g_nallocs--;
    g_live_bytes -= a.rounded;
    munmap(a.map, a.map_len); /* later use of the pointer by a kernel faults */
    pthread_rwlock_unlock(&g_mem_lock);
    pthread_mutex_unlock(&g_launch_lock);
    return CUDA_SUCCESS;
}

static int is_stream(CUstream s);

/* Stream-ordered allocation. Work on the emulator runs at the call, so stream order holds trivially: the memory is
 * allocated now and freed now, with cuMemAlloc_v2's guard page and cuMemFree_v2's unmapping (a kernel queued after
 * the free that still used the pointer faults, as the bug deserves). The stream must be a live handle. */
CUresult CUDAAPI cuMemAllocAsync(CUdeviceptr* dptr, size_t bytesize, CUstream stream) {
    trace("cuMemAllocAsync(bytes=%zu, stream=%p)", bytesize, (void*)stream);
    REQUIRE(need_context("cuMemAllocAsync"));
    if (!is_stream(stream)) {
        return fail("cuMemAllocAsync", CUDA_ERROR_INVALID_HANDLE);
    }
    return cuMemAlloc_v2(dptr, bytesize);
}

CUresult CUDAAPI cuMemFreeAsync(CUdeviceptr dptr, CUstream stream) {
    trace("cuMemFreeAsync(ptr=0x%llx, stream=%p)", (unsigned long long)dptr, (void*)stream);
    REQUIRE(need_context("cuMemFreeAsync"));
    if (!is_stream(stream)) {
        return fail("cuMemFreeAsync", CUDA_ERROR_INVALID_HANDLE);
    }
    return cuMemFree_v2(dptr);
}

CUresult CUDAAPI cuMemGetInfo_v2(size_t* free_bytes, size_t* total_bytes) {
    trace("cuMemGetInfo_v2()");
    REQUIRE(need_context("cuMemGetInfo_v2"));
    if (free_bytes == NULL || total_bytes == NULL) {
        return fail("cuMemGetInfo_v2", CUDA_ERROR_INVALID_VALUE);
    }
    pthread_rwlock_rdlock(&g_mem_lock);
    *free_bytes = TOTAL_MEMORY - g_live_bytes;
    pthread_rwlock_unlock(&g_mem_lock);
    *total_bytes = TOTAL_MEMORY;
    return CUDA_SUCCESS;
}

/* A stream handle is 0 (the legacy default stream), one of cuda.h's two special handles, or one of ours. */
static int is_stream(CUstream s);

/* Why [p, p + n) is not inside one allocation, relative to the allocation below p. Caller holds g_mem_lock. */
static void explain_range(char* out, size_t cap, const char* what, CUdeviceptr p, size_t n) {
    long i = last_at_or_below((uintptr_t)p);
    if (i < 0) {
        snprintf(out, cap, "%s 0x%llx (+%zu bytes) is below every live allocation", what, (unsigned long long)p, n);
        return;
    }
    const allocation* a = &g_allocs[i];
    snprintf(out, cap, "%s 0x%llx (+%zu bytes) is at offset %llu of the nearest allocation below it, 0x%llx of %zu bytes",
             what, (unsigned long long)p, n, (unsigned long long)((uintptr_t)p - a->ptr), (unsigned long long)a->ptr,
             a->bytes);
}

/* The common part of every copy and memset: context, stream, host pointer and device ranges (dst, and src when
 * there is one). On success it holds the read lock, for the caller to copy and unlock. A zero-byte operation
 * succeeds without looking at pointers. */
static CUresult begin_memory_op(const char* call, CUstream stream, CUdeviceptr dst, const CUdeviceptr* src,
                                const void* host, size_t n) {
    REQUIRE(need_context(call));
    if (!is_stream(stream)) {
        return fail(call, CUDA_ERROR_INVALID_HANDLE);
    }
    if (n == 0) {
        return CUDA_SUCCESS;
    }
    char why[256] = "";
    pthread_rwlock_rdlock(&g_mem_lock);
    if (src == NULL && host == NULL) {
        snprintf(why, sizeof why, "the host pointer is NULL");
    } else if (!inside_one_allocation(dst, n)) {
        explain_range(why, sizeof why, src != NULL ? "destination" : "device address", dst, n);
    } else if (src != NULL && !inside_one_allocation(*src, n)) {
        explain_range(why, sizeof why, "source", *src, n);
    }
    if (why[0] != '\0') {
        pthread_rwlock_unlock(&g_mem_lock);
        /* A GPU would fault, or worse, not; a range error is a bug in the caller's shapes, so say where. */
        fprintf(stderr, "[tpk-emu] %s refused: %s\n", call, why);
        return fail(call, CUDA_ERROR_INVALID_VALUE);
    }
    return CUDA_SUCCESS;
}

static CUresult memset_d8(const char* call, CUdeviceptr dst, unsigned char value, size_t n, CUstream stream) {
    trace("%s(dst=0x%llx, value=%u, n=%zu, stream=%p)", call, (unsigned long long)dst, value, n, (void*)stream);
    CUresult r = begin_memory_op(call, stream, dst, NULL, &value, n);
    if (r != CUDA_SUCCESS || n == 0) {
        return r;
    }
    memset((void*)(uintptr_t)dst, value, n);
    pthread_rwlock_unlock(&g_mem_lock);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemsetD8_v2(CUdeviceptr dst, unsigned char uc, size_t n) {
    return count_host_wait(memset_d8("cuMemsetD8_v2", dst, uc, n, NULL));
}

CUresult CUDAAPI cuMemsetD8Async(CUdeviceptr dst, unsigned char uc, size_t n, CUstream stream) {
    return memset_d8("cuMemsetD8Async", dst, uc, n, stream);
}

static CUresult copy_h_to_d(const char* call, CUdeviceptr dst, const void* src, size_t n, CUstream stream) {
    trace("%s(dst=0x%llx, src=%p, n=%zu, stream=%p)", call, (unsigned long long)dst, src, n, (void*)stream);
    CUresult r = begin_memory_op(call, stream, dst, NULL, src, n);
    if (r != CUDA_SUCCESS || n == 0) {
        return r;
    }
    memcpy((void*)(uintptr_t)dst, src, n);
    pthread_rwlock_unlock(&g_mem_lock);
    return CUDA_SUCCESS;
}

static CUresult copy_d_to_h(const char* call, void* dst, CUdeviceptr src, size_t n, CUstream stream) {
    trace("%s(dst=%p, src=0x%llx, n=%zu, stream=%p)", call, dst, (unsigned long long)src, n, (void*)stream);
    CUresult r = begin_memory_op(call, stream, src, NULL, dst, n);
    if (r != CUDA_SUCCESS || n == 0) {
        return r;
    }
    memcpy(dst, (const void*)(uintptr_t)src, n);
    pthread_rwlock_unlock(&g_mem_lock);
    return CUDA_SUCCESS;
}

static CUresult copy_d_to_d(const char* call, CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream stream) {
    trace("%s(dst=0x%llx, src=0x%llx, n=%zu, stream=%p)", call, (unsigned long long)dst, (unsigned long long)src, n,
          (void*)stream);
    CUresult r = begin_memory_op(call, stream, dst, &src, NULL, n);
    if (r != CUDA_SUCCESS || n == 0) {
        return r;
    }
    memmove((void*)(uintptr_t)dst, (const void*)(uintptr_t)src, n); /* overlap is undefined in CUDA; be kind */
    pthread_rwlock_unlock(&g_mem_lock);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t n) {
    return count_host_wait(copy_h_to_d("cuMemcpyHtoD_v2", dst, src, n, NULL));
}

CUresult CUDAAPI cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t n) {
    return count_host_wait(copy_d_to_h("cuMemcpyDtoH_v2", dst, src, n, NULL));
}

CUresult CUDAAPI cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t n) {
    return count_host_wait(copy_d_to_d("cuMemcpyDtoD_v2", dst, src, n, NULL));
}

CUresult CUDAAPI cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t n, CUstream stream) {
    return copy_h_to_d("cuMemcpyHtoDAsync_v2", dst, src, n, stream);
}

CUresult CUDAAPI cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t n, CUstream stream) {
    return copy_d_to_h("cuMemcpyDtoHAsync_v2", dst, src, n, stream);
}

CUresult CUDAAPI cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream stream) {
    return copy_d_to_d("cuMemcpyDtoDAsync_v2", dst, src, n, stream);
}

/* ---- handles: streams, events, modules and functions
 *
 * Every handle points at an object of this one type. Destroyed objects go to a free list and are reused, never
 * freed, so a stale handle still points at readable memory and its kind says it is dead: use after destroy is
 * CUDA_ERROR_INVALID_HANDLE, not a crash. All fields are under g_obj_lock. */

enum kind { DEAD, STREAM, EVENT, MODULE, FUNCTION };

typedef struct object object;
struct object {
    enum kind kind;
    object* next; /* the free list while DEAD; a module's functions while FUNCTION */
    unsigned flags; /* a stream's or an event's creation flags */
    union {
        struct {
            int recorded;
            long long ns; /* CLOCK_MONOTONIC at the last record */
        } event;
        struct {
            char** entries; /* the .entry names of the PTX */
            int count;
            int ptx_version; /* .version 9.0 -> 90 */
            object* functions;
        } module;
        struct {
            object* module;
            const char* name; /* one of the module's entries */
            int max_dynamic_smem;
        } function;
    } u;
};

static pthread_mutex_t g_obj_lock = PTHREAD_MUTEX_INITIALIZER;
static object* g_free_objects;

/* A fresh object of this kind, or NULL when out of memory. Caller holds g_obj_lock. */
static object* new_object(enum kind kind) {
    object* o = g_free_objects;
    if (o != NULL) {
        g_free_objects = o->next;
    } else if ((o = malloc(sizeof *o)) == NULL) {
        return NULL;
    }
    memset(o, 0, sizeof *o);
    o->kind = kind;
    return o;
}

/* Caller holds g_obj_lock. */
static void release_object(object* o) {
    o->kind = DEAD;
    o->next = g_free_objects;
    g_free_objects = o;
}

/* The object behind a handle if it is alive and of this kind. Caller holds g_obj_lock. */
static object* as(const void* handle, enum kind kind) {
    object* o = (object*)handle;
    return o != NULL && o->kind == kind ? o : NULL;
}

static int is_stream(CUstream s) {
    if (s == NULL || s == CU_STREAM_LEGACY || s == CU_STREAM_PER_THREAD) {
        return 1;
    }
    pthread_mutex_lock(&g_obj_lock);
    int ok = as(s, STREAM) != NULL;
    pthread_mutex_unlock(&g_obj_lock);
    return ok;
}

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Streams and events are plain handles with flags: created and destroyed alike. */
static CUresult create_handle(const char* api, enum kind kind, unsigned flags, unsigned known_flags, void** out) {
    REQUIRE(need_context(api));
    if (out == NULL || (flags & ~known_flags) != 0) {
        return fail(api, CUDA_ERROR_INVALID_VALUE);
    }
    pthread_mutex_lock(&g_obj_lock);
    object* o = new_object(kind);
    if (o != NULL) {
        o->flags = flags;
    }
    pthread_mutex_unlock(&g_obj_lock);
    if (o == NULL) {
        return fail(api, CUDA_ERROR_OUT_OF_MEMORY);
    }
    *out = o;
    trace("  %s = %p", api, (void*)o);
    return CUDA_SUCCESS;
}

static CUresult destroy_handle(const char* api, enum kind kind, void* handle) {
    REQUIRE(need_init(api));
    pthread_mutex_lock(&g_obj_lock);
    object* o = as(handle, kind);
    if (o != NULL) {
        release_object(o);
    }
    pthread_mutex_unlock(&g_obj_lock);
    return o != NULL ? CUDA_SUCCESS : fail(api, CUDA_ERROR_INVALID_HANDLE);
}

CUresult CUDAAPI cuStreamCreate(CUstream* phStream, unsigned int flags) {
    trace("cuStreamCreate(flags=%u)", flags);
    return create_handle("cuStreamCreate", STREAM, flags, CU_STREAM_NON_BLOCKING, (void**)phStream);
}

CUresult CUDAAPI cuStreamDestroy_v2(CUstream hStream) {
    trace("cuStreamDestroy_v2(stream=%p)", (void*)hStream);
    return destroy_handle("cuStreamDestroy_v2", STREAM, hStream);
}

/* Work on a stream is done when its call returns; only a launch in flight on another thread can be pending. */
CUresult CUDAAPI cuStreamSynchronize(CUstream hStream) {
    trace("cuStreamSynchronize(stream=%p)", (void*)hStream);
    REQUIRE(need_init("cuStreamSynchronize"));
    if (!is_stream(hStream)) {
        return fail("cuStreamSynchronize", CUDA_ERROR_INVALID_HANDLE);
    }
    wait_for_launches();
    return count_host_wait(CUDA_SUCCESS);
}

/* Nothing here captures graphs: every stream runs its work. */
CUresult CUDAAPI cuStreamIsCapturing(CUstream hStream, CUstreamCaptureStatus* captureStatus) {
    trace("cuStreamIsCapturing(stream=%p)", (void*)hStream);
    REQUIRE(need_init("cuStreamIsCapturing"));
    if (captureStatus == NULL) return fail("cuStreamIsCapturing", CUDA_ERROR_INVALID_VALUE);
    if (!is_stream(hStream)) return fail("cuStreamIsCapturing", CUDA_ERROR_INVALID_HANDLE);
    *captureStatus = CU_STREAM_CAPTURE_STATUS_NONE;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuStreamQuery(CUstream hStream) {
    trace("cuStreamQuery(stream=%p)", (void*)hStream);
    REQUIRE(need_init("cuStreamQuery"));
    return is_stream(hStream) ? CUDA_SUCCESS : fail("cuStreamQuery", CUDA_ERROR_INVALID_HANDLE);
}

CUresult CUDAAPI cuEventCreate(CUevent* phEvent, unsigned int flags) {
    trace("cuEventCreate(flags=%u)", flags);
    return create_handle("cuEventCreate", EVENT, flags,
                         CU_EVENT_BLOCKING_SYNC | CU_EVENT_DISABLE_TIMING | CU_EVENT_INTERPROCESS, (void**)phEvent);
}

CUresult CUDAAPI cuEventDestroy_v2(CUevent hEvent) {
    trace("cuEventDestroy_v2(event=%p)", (void*)hEvent);
    return destroy_handle("cuEventDestroy_v2", EVENT, hEvent);
}

CUresult CUDAAPI cuEventRecord(CUevent hEvent, CUstream hStream) {
    trace("cuEventRecord(event=%p, stream=%p)", (void*)hEvent, (void*)hStream);
    REQUIRE(need_init("cuEventRecord"));
    if (!is_stream(hStream)) {
        return fail("cuEventRecord", CUDA_ERROR_INVALID_HANDLE);
    }
    long long t = now_ns();
    pthread_mutex_lock(&g_obj_lock);
    object* e = as(hEvent, EVENT);
    if (e != NULL) {
        e->u.event.recorded = 1;
        e->u.event.ns = t;
    }
    pthread_mutex_unlock(&g_obj_lock);
    return e != NULL ? CUDA_SUCCESS : fail("cuEventRecord", CUDA_ERROR_INVALID_HANDLE);
}

/* Work on the emulator runs at the call, so the event's work is already done: the wait only checks its handles.
 * A live event that was never recorded is no error on a GPU either (the wait is a no-op). */
CUresult CUDAAPI cuStreamWaitEvent(CUstream hStream, CUevent hEvent, unsigned int flags) {
    trace("cuStreamWaitEvent(stream=%p, event=%p, flags=%u)", (void*)hStream, (void*)hEvent, flags);
    REQUIRE(need_init("cuStreamWaitEvent"));
    if (!is_stream(hStream)) {
        return fail("cuStreamWaitEvent", CUDA_ERROR_INVALID_HANDLE);
    }
    if (flags != 0) {
        return fail("cuStreamWaitEvent", CUDA_ERROR_INVALID_VALUE);
    }
    pthread_mutex_lock(&g_obj_lock);
    int ok = as(hEvent, EVENT) != NULL;
    pthread_mutex_unlock(&g_obj_lock);
    return ok ? CUDA_SUCCESS : fail("cuStreamWaitEvent", CUDA_ERROR_INVALID_HANDLE);
}

CUresult CUDAAPI cuEventSynchronize(CUevent hEvent) {
    trace("cuEventSynchronize(event=%p)", (void*)hEvent);
    REQUIRE(need_init("cuEventSynchronize"));
    pthread_mutex_lock(&g_obj_lock);
    int ok = as(hEvent, EVENT) != NULL;
    pthread_mutex_unlock(&g_obj_lock);
    if (!ok) {
        return fail("cuEventSynchronize", CUDA_ERROR_INVALID_HANDLE);
    }
    wait_for_launches();
    return count_host_wait(CUDA_SUCCESS);
}

/* As on a GPU: both events must exist, have been recorded and keep timing, or CUDA_ERROR_INVALID_HANDLE. */
CUresult CUDAAPI cuEventElapsedTime_v2(float* pMilliseconds, CUevent hStart, CUevent hEnd) {
    trace("cuEventElapsedTime_v2(start=%p, end=%p)", (void*)hStart, (void*)hEnd);
    REQUIRE(need_init("cuEventElapsedTime_v2"));
    if (pMilliseconds == NULL) {
        return fail("cuEventElapsedTime_v2", CUDA_ERROR_INVALID_VALUE);
    }
    pthread_mutex_lock(&g_obj_lock);
    object* s = as(hStart, EVENT);
    object* e = as(hEnd, EVENT);
    int ok = s != NULL && e != NULL && s->u.event.recorded && e->u.event.recorded &&
             !((s->flags | e->flags) & CU_EVENT_DISABLE_TIMING);
    long long ns = ok ? e->u.event.ns - s->u.event.ns : 0;
    pthread_mutex_unlock(&g_obj_lock);
    if (!ok) {
        return fail("cuEventElapsedTime_v2", CUDA_ERROR_INVALID_HANDLE);
    }
    *pMilliseconds = (float)((double)ns / 1e6);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuEventElapsedTime(float* pMilliseconds, CUevent hStart, CUevent hEnd) {
    return cuEventElapsedTime_v2(pMilliseconds, hStart, hEnd);
}

/* ---- modules */

static int is_ident(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$';
}

static int is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Whether the line holding text[at] starts, after blanks, with a // comment. */
static int in_line_comment(const char* text, const char* at) {
    const char* line = at;
    while (line > text && line[-1] != '\n') {
        line--;
    }
    while (line < at && (*line == ' ' || *line == '\t')) {
        line++;
    }
    return line[0] == '/' && line[1] == '/';
}

/* The first occurrence of the directive (".entry") as a word outside // comments, at or after from, or NULL. */
static const char* find_directive(const char* text, const char* from, const char* directive) {
    size_t n = strlen(directive);
    for (const char* p = strstr(from, directive); p != NULL; p = strstr(p + n, directive)) {
        int word = (p == text || is_blank(p[-1])) && is_blank(p[n]);
        if (word && !in_line_comment(text, p)) {
            return p;
        }
    }
    return NULL;
}

/* The identifier after the directive at p, copied into out (size cap); 0 when there is none. */
static int word_after(const char* p, size_t skip, char* out, size_t cap) {
    p += skip;
    while (is_blank(*p)) {
        p++;
    }
    size_t n = 0;
    while (is_ident(p[n]) && n + 1 < cap) {
        out[n] = p[n];
        n++;
    }
    out[n] = '\0';
    return n > 0;
}

static void free_entries(char** entries, int count) {
    for (int i = 0; i < count; i++) {
        free(entries[i]);
    }
    free(entries);
}

/* Reads what the emulator needs of a PTX text: its ISA version, whether its target runs on sm_90, and the names
 * of its kernels. A target above sm_90 (or arch-specific to another one) is refused as a GPU's JIT would. */
static CUresult parse_ptx(const char* ptx, char*** entries_out, int* count_out, int* version_out) {
    const char* version = find_directive(ptx, ptx, ".version");
    if (version == NULL) {
        trace("  not PTX text: no .version directive");
        return CUDA_ERROR_INVALID_IMAGE;
    }
    int major = 0, minor = 0;
    sscanf(version + strlen(".version"), " %d.%d", &major, &minor);
    *version_out = major * 10 + minor;

    char target[64];
    const char* t = find_directive(ptx, ptx, ".target");
    if (t != NULL && word_after(t, strlen(".target"), target, sizeof target)) {
        int sm = 0;
        char suffix = '\0';
        if (sscanf(target, "sm_%d%c", &sm, &suffix) >= 1 && (sm > 90 || (suffix == 'a' && sm != 90))) {
            trace("  PTX for %s cannot run on the emulated sm_90", target);
            return CUDA_ERROR_INVALID_PTX;
        }
    }

    char** entries = NULL;
    int count = 0;
    char name[256];
    for (const char* p = find_directive(ptx, ptx, ".entry"); p != NULL; p = find_directive(ptx, p + 1, ".entry")) {
        if (!word_after(p, strlen(".entry"), name, sizeof name)) {
            continue;
        }
        char** grown = realloc(entries, (size_t)(count + 1) * sizeof *grown);
        char* copy = strdup(name);
        if (grown == NULL || copy == NULL) {
            free(copy);
            free_entries(grown != NULL ? grown : entries, count);
            return CUDA_ERROR_OUT_OF_MEMORY;
        }
        entries = grown;
        entries[count++] = copy;
    }
    *entries_out = entries;
    *count_out = count;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuModuleLoadData(CUmodule* module, const void* image) {
    trace("cuModuleLoadData(image=%p)", image);
    REQUIRE(need_context("cuModuleLoadData"));
    if (module == NULL || image == NULL) {
        return fail("cuModuleLoadData", CUDA_ERROR_INVALID_VALUE);
    }
    /* Binary images (a cubin is ELF; a fatbin starts 50 ed 55 ba) are not NUL-terminated text: do not scan them.
     * The emulated GPU runs no machine code, so a cubin is refused as a GPU refuses one built for another
     * architecture, and the caller goes on to the PTX; a fatbin likewise (the emulator reads no PTX inside one).
     * Byte by byte, so that a short text stops at its NUL: the 8 identification bytes of a CUDA ELF (64-bit,
     * little-endian, OS/ABI 0x33 or 0x41) hold no NUL, and only after them is the rest of a header read. */
    const unsigned char* b = image;
    if (b[0] == 0x7f && b[1] == 'E' && b[2] == 'L' && b[3] == 'F') {
        int cuda_elf = b[4] == 2 && b[5] == 1 && b[6] == 1 && b[7] != 0 && b[18] == 190 && b[19] == 0; /* EM_CUDA */
        trace(cuda_elf ? "  a cubin: the emulated GPU runs no machine code" : "  an ELF image that is no cubin");
        return fail("cuModuleLoadData", cuda_elf ? CUDA_ERROR_NO_BINARY_FOR_GPU : CUDA_ERROR_INVALID_IMAGE);
    }
    if (b[0] == 0x50 && b[1] == 0xed && b[2] == 0x55 && b[3] == 0xba) {
        trace("  a fatbin: the emulator reads only PTX text");
        return fail("cuModuleLoadData", CUDA_ERROR_NO_BINARY_FOR_GPU);
    }
    char** entries = NULL;
    int count = 0, version = 0;
    CUresult r = parse_ptx((const char*)image, &entries, &count, &version);
    if (r != CUDA_SUCCESS) {
        return fail("cuModuleLoadData", r);
    }
    pthread_mutex_lock(&g_obj_lock);
    object* m = new_object(MODULE);
    if (m != NULL) {
        m->u.module.entries = entries;
        m->u.module.count = count;
        m->u.module.ptx_version = version;
    }
    pthread_mutex_unlock(&g_obj_lock);
    if (m == NULL) {
        free_entries(entries, count);
        return fail("cuModuleLoadData", CUDA_ERROR_OUT_OF_MEMORY);
    }
    *module = (CUmodule)m;
    trace("  cuModuleLoadData = %p (%d kernels)", (void*)m, count);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuModuleUnload(CUmodule hmod) {
    trace("cuModuleUnload(module=%p)", (void*)hmod);
    REQUIRE(need_init("cuModuleUnload"));
    pthread_mutex_lock(&g_obj_lock);
    object* m = as(hmod, MODULE);
    char** entries = NULL;
    int count = 0;
    if (m != NULL) {
        for (object* f = m->u.module.functions; f != NULL;) { /* its functions die with it */
            object* next = f->next;
            release_object(f);
            f = next;
        }
        entries = m->u.module.entries;
        count = m->u.module.count;
        release_object(m);
    }
    pthread_mutex_unlock(&g_obj_lock);
    if (m == NULL) {
        return fail("cuModuleUnload", CUDA_ERROR_INVALID_HANDLE);
    }
    free_entries(entries, count);
    return CUDA_SUCCESS;
}

/* The same name gives the same CUfunction, as on a GPU, so attributes set through one handle hold for all. */
CUresult CUDAAPI cuModuleGetFunction(CUfunction* hfunc, CUmodule hmod, const char* name) {
    trace("cuModuleGetFunction(module=%p, name=%s)", (void*)hmod, name != NULL ? name : "(null)");
    REQUIRE(need_init("cuModuleGetFunction"));
    if (hfunc == NULL || name == NULL) {
        return fail("cuModuleGetFunction", CUDA_ERROR_INVALID_VALUE);
    }
    pthread_mutex_lock(&g_obj_lock);
    object* m = as(hmod, MODULE);
    if (m == NULL) {
        pthread_mutex_unlock(&g_obj_lock);
        return fail("cuModuleGetFunction", CUDA_ERROR_INVALID_HANDLE);
    }
    const char* entry = NULL;
    for (int i = 0; i < m->u.module.count && entry == NULL; i++) {
        if (strcmp(m->u.module.entries[i], name) == 0) {
            entry = m->u.module.entries[i];
        }
    }
    object* f = NULL;
    for (object* g = m->u.module.functions; entry != NULL && g != NULL && f == NULL; g = g->next) {
        if (g->u.function.name == entry) {
            f = g;
        }
    }
    if (entry != NULL && f == NULL && tpk_emu_has_kernel(entry)) {
        f = new_object(FUNCTION);
        if (f == NULL) {
            pthread_mutex_unlock(&g_obj_lock);
            return fail("cuModuleGetFunction", CUDA_ERROR_OUT_OF_MEMORY);
        }
        f->u.function.module = m;
        f->u.function.name = entry;
        f->u.function.max_dynamic_smem = DEFAULT_DYNAMIC_SMEM;
        f->next = m->u.module.functions;
        m->u.module.functions = f;
    }
    pthread_mutex_unlock(&g_obj_lock);
    if (f == NULL) {
        if (entry != NULL) { /* not the caller's mistake: say so even without tracing */
            fprintf(stderr, "[tpk-emu] kernel %s is in the PTX but was not built into the emulated device\n", name);
        }
        return fail("cuModuleGetFunction", CUDA_ERROR_NOT_FOUND);
    }
    *hfunc = (CUfunction)f;
    return CUDA_SUCCESS;
}

/* ---- functions and launches */

CUresult CUDAAPI cuFuncGetAttribute(int* pi, CUfunction_attribute attrib, CUfunction hfunc) {
    trace("cuFuncGetAttribute(attrib=%d, function=%p)", (int)attrib, (void*)hfunc);
    REQUIRE(need_init("cuFuncGetAttribute"));
    if (pi == NULL) {
        return fail("cuFuncGetAttribute", CUDA_ERROR_INVALID_VALUE);
    }
    pthread_mutex_lock(&g_obj_lock);
    object* f = as(hfunc, FUNCTION);
    int known = 1, value = 0;
    if (f != NULL) {
        /* Values a compiler would decide are made up, plausibly: the emulator compiles nothing for a GPU. */
        switch (attrib) {
            case CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK: value = 1024; break;
            case CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES: value = 0; break; /* static shared memory: unknown here */
            case CU_FUNC_ATTRIBUTE_CONST_SIZE_BYTES: value = 0; break;
            case CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES: value = 0; break;
            case CU_FUNC_ATTRIBUTE_NUM_REGS: value = 32; break;
            case CU_FUNC_ATTRIBUTE_PTX_VERSION: value = f->u.function.module->u.module.ptx_version; break;
            case CU_FUNC_ATTRIBUTE_BINARY_VERSION: value = 90; break;
            case CU_FUNC_ATTRIBUTE_CACHE_MODE_CA: value = 0; break;
            case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES: value = f->u.function.max_dynamic_smem; break;
            case CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT: value = -1; break;
            case CU_FUNC_ATTRIBUTE_CLUSTER_SIZE_MUST_BE_SET:
            case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_WIDTH:
            case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_HEIGHT:
            case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_DEPTH:
            case CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED:
            case CU_FUNC_ATTRIBUTE_CLUSTER_SCHEDULING_POLICY_PREFERENCE: value = 0; break;
            default: known = 0;
        }
    }
    pthread_mutex_unlock(&g_obj_lock);
    if (f == NULL) {
        return fail("cuFuncGetAttribute", CUDA_ERROR_INVALID_HANDLE);
    }
    if (!known) {
        return fail("cuFuncGetAttribute", CUDA_ERROR_INVALID_VALUE);
    }
    *pi = value;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuFuncSetAttribute(CUfunction hfunc, CUfunction_attribute attrib, int value) {
    trace("cuFuncSetAttribute(function=%p, attrib=%d, value=%d)", (void*)hfunc, (int)attrib, value);
    REQUIRE(need_init("cuFuncSetAttribute"));
    pthread_mutex_lock(&g_obj_lock);
    object* f = as(hfunc, FUNCTION);
    int ok = 0;
    if (f != NULL && attrib == CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES && value >= 0 &&
        value <= MAX_DYNAMIC_SMEM_OPTIN) {
        f->u.function.max_dynamic_smem = value;
        ok = 1;
    } else if (f != NULL && attrib == CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT && value >= -1 &&
               value <= 100) {
        ok = 1; /* a hint; nothing to carve on a CPU */
    }
    pthread_mutex_unlock(&g_obj_lock);
    if (f == NULL) {
        return fail("cuFuncSetAttribute", CUDA_ERROR_INVALID_HANDLE);
    }
    return ok ? CUDA_SUCCESS : fail("cuFuncSetAttribute", CUDA_ERROR_INVALID_VALUE);
}

/* Checks the launch shape as a GPU would (CUDA_ERROR_INVALID_VALUE), then runs the kernel to completion (or, under
 * TPK_EMU_SKIP_KERNELS=1, counts it without running it). */
CUresult CUDAAPI cuLaunchKernel(CUfunction f, unsigned int gridDimX, unsigned int gridDimY, unsigned int gridDimZ,
                                unsigned int blockDimX, unsigned int blockDimY, unsigned int blockDimZ,
                                unsigned int sharedMemBytes, CUstream hStream, void** kernelParams, void** extra) {
    trace("cuLaunchKernel(function=%p, grid=%ux%ux%u, block=%ux%ux%u, smem=%u, stream=%p)", (void*)f, gridDimX,
          gridDimY, gridDimZ, blockDimX, blockDimY, blockDimZ, sharedMemBytes, (void*)hStream);
    REQUIRE(need_context("cuLaunchKernel"));
    if (!is_stream(hStream)) {
        return fail("cuLaunchKernel", CUDA_ERROR_INVALID_HANDLE);
    }
    if (extra != NULL) {
        fprintf(stderr, "[tpk-emu] cuLaunchKernel: the emulator takes kernelParams only, not extra\n");
        return fail("cuLaunchKernel", CUDA_ERROR_INVALID_VALUE);
    }
    char name[256]; /* a copy: a racing cuModuleUnload frees the module's names */
    pthread_mutex_lock(&g_obj_lock);
    object* fn = as(f, FUNCTION);
    snprintf(name, sizeof name, "%s", fn != NULL ? fn->u.function.name : "");
    int max_smem = fn != NULL ? fn->u.function.max_dynamic_smem : 0;
    pthread_mutex_unlock(&g_obj_lock);
    if (fn == NULL) {
        return fail("cuLaunchKernel", CUDA_ERROR_INVALID_HANDLE);
    }
    unsigned long long threads = (unsigned long long)blockDimX * blockDimY * blockDimZ;
    int block_ok = blockDimX > 0 && blockDimY > 0 && blockDimZ > 0 && blockDimX <= 1024 && blockDimY <= 1024 &&
                   blockDimZ <= 64 && threads <= 1024;
    int grid_ok = gridDimX > 0 && gridDimY > 0 && gridDimZ > 0 && gridDimX <= 2147483647u && gridDimY <= 65535 &&
                  gridDimZ <= 65535;
    if (!block_ok || !grid_ok || sharedMemBytes > (unsigned)max_smem) {
        return fail("cuLaunchKernel", CUDA_ERROR_INVALID_VALUE);
    }
    if (g_skip_kernels) {
        return count_launch(CUDA_SUCCESS);
    }

    unsigned grid[3] = {gridDimX, gridDimY, gridDimZ};
    unsigned block[3] = {blockDimX, blockDimY, blockDimZ};
    char err[512] = "";
    pthread_mutex_lock(&g_launch_lock);
    int failed = tpk_emu_launch(name, grid, block, sharedMemBytes, kernelParams, err, sizeof err);
    pthread_mutex_unlock(&g_launch_lock);
    if (failed) {
        fprintf(stderr, "[tpk-emu] launch of %s (grid %ux%ux%u, block %ux%ux%u, %u bytes of shared memory) failed: %s\n",
                name, gridDimX, gridDimY, gridDimZ, blockDimX, blockDimY, blockDimZ, sharedMemBytes,
                err[0] ? err : "(no reason given)");
        return fail("cuLaunchKernel", CUDA_ERROR_LAUNCH_FAILED);
    }
    return count_launch(CUDA_SUCCESS);
}

/* ---- tensor maps (TMA descriptors) */

/* tensor_map.h spells cuda.h's enums without cuda.h; these say it still spells them right. */
#define SAME(a, b) ((int)(a) == (int)(b))
_Static_assert(SAME(CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, TPK_TMAP_BFLOAT16) &&
                   SAME(CU_TENSOR_MAP_DATA_TYPE_TFLOAT32_FTZ, TPK_TMAP_TFLOAT32_FTZ) &&
                   SAME(CU_TENSOR_MAP_DATA_TYPE_16U6_ALIGN16B, TPK_TMAP_16U6_ALIGN16B) &&
                   SAME(CU_TENSOR_MAP_INTERLEAVE_32B, TPK_TMAP_INTERLEAVE_32B) &&
                   SAME(CU_TENSOR_MAP_SWIZZLE_128B, TPK_TMAP_SWIZZLE_128B) &&
                   SAME(CU_TENSOR_MAP_SWIZZLE_128B_ATOM_64B, TPK_TMAP_SWIZZLE_128B_ATOM_64B) &&
                   SAME(CU_TENSOR_MAP_L2_PROMOTION_L2_256B, TPK_TMAP_L2_PROMOTION_LAST) &&
                   SAME(CU_TENSOR_MAP_FLOAT_OOB_FILL_NAN_REQUEST_ZERO_FMA, TPK_TMAP_OOB_FILL_NAN_REQUEST_ZERO_FMA),
               "tensor_map.h's enum values are cuda.h's");
#undef SAME
_Static_assert(sizeof(CUtensorMap) == 128, "a CUtensorMap is 128 bytes");

/* Pure encoding, but it needs a current context, as its documentation (CUDA_ERROR_INVALID_CONTEXT) says. A
 * violated rule is CUDA_ERROR_INVALID_VALUE, its reason on stderr: the caller's shapes are wrong, so say where. */
CUresult CUDAAPI cuTensorMapEncodeTiled(CUtensorMap* tensorMap, CUtensorMapDataType tensorDataType, cuuint32_t tensorRank,
                                        void* globalAddress, const cuuint64_t* globalDim,
                                        const cuuint64_t* globalStrides, const cuuint32_t* boxDim,
                                        const cuuint32_t* elementStrides, CUtensorMapInterleave interleave,
                                        CUtensorMapSwizzle swizzle, CUtensorMapL2promotion l2Promotion,
                                        CUtensorMapFloatOOBfill oobFill) {
    trace("cuTensorMapEncodeTiled(map=%p, type=%d, rank=%u, address=%p, interleave=%d, swizzle=%d)", (void*)tensorMap,
          (int)tensorDataType, tensorRank, globalAddress, (int)interleave, (int)swizzle);
    REQUIRE(need_context("cuTensorMapEncodeTiled"));
    char why[256] = "";
    if (tpk_tmap_encode(tensorMap, (unsigned)tensorDataType, tensorRank, globalAddress, globalDim, globalStrides, boxDim,
                        elementStrides, (unsigned)interleave, (unsigned)swizzle, (unsigned)l2Promotion,
                        (unsigned)oobFill, why, sizeof why) != 0) {
        fprintf(stderr, "[tpk-emu] cuTensorMapEncodeTiled refused: %s\n", why);
        return fail("cuTensorMapEncodeTiled", CUDA_ERROR_INVALID_VALUE);
    }
    return CUDA_SUCCESS;
}

/* ---- status names and descriptions */

typedef struct {
    CUresult code;
    const char* name;
    const char* text;
} status;

#define S(code, text) {code, #code, text}
static const status STATUSES[] = {
    S(CUDA_SUCCESS, "no error"),
    S(CUDA_ERROR_INVALID_VALUE, "invalid argument"),
    S(CUDA_ERROR_OUT_OF_MEMORY, "out of memory"),
    S(CUDA_ERROR_NOT_INITIALIZED, "the driver has not been initialized (cuInit)"),
    S(CUDA_ERROR_DEINITIALIZED, "the driver is shutting down"),
    S(CUDA_ERROR_PROFILER_DISABLED, "profiler disabled"),
    S(CUDA_ERROR_PROFILER_NOT_INITIALIZED, "profiler not initialized"),
    S(CUDA_ERROR_PROFILER_ALREADY_STARTED, "profiler already started"),
    S(CUDA_ERROR_PROFILER_ALREADY_STOPPED, "profiler already stopped"),
    S(CUDA_ERROR_STUB_LIBRARY, "a stub driver library was loaded instead of a real driver"),
    S(CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER, "the call needs a newer driver"),
    S(CUDA_ERROR_DEVICE_UNAVAILABLE, "device unavailable"),
    S(CUDA_ERROR_NO_DEVICE, "no CUDA-capable device"),
    S(CUDA_ERROR_INVALID_DEVICE, "invalid device ordinal"),
    S(CUDA_ERROR_DEVICE_NOT_LICENSED, "device not licensed"),
    S(CUDA_ERROR_INVALID_IMAGE, "invalid kernel image"),
    S(CUDA_ERROR_INVALID_CONTEXT, "invalid or no current context"),
    S(CUDA_ERROR_CONTEXT_ALREADY_CURRENT, "context already current"),
    S(CUDA_ERROR_MAP_FAILED, "map failed"),
    S(CUDA_ERROR_UNMAP_FAILED, "unmap failed"),
    S(CUDA_ERROR_ARRAY_IS_MAPPED, "array is mapped"),
    S(CUDA_ERROR_ALREADY_MAPPED, "already mapped"),
    S(CUDA_ERROR_NO_BINARY_FOR_GPU, "no kernel image for this device"),
    S(CUDA_ERROR_ALREADY_ACQUIRED, "already acquired"),
    S(CUDA_ERROR_NOT_MAPPED, "not mapped"),
    S(CUDA_ERROR_NOT_MAPPED_AS_ARRAY, "not mapped as an array"),
    S(CUDA_ERROR_NOT_MAPPED_AS_POINTER, "not mapped as a pointer"),
    S(CUDA_ERROR_ECC_UNCORRECTABLE, "uncorrectable ECC error"),
    S(CUDA_ERROR_UNSUPPORTED_LIMIT, "unsupported limit"),
    S(CUDA_ERROR_CONTEXT_ALREADY_IN_USE, "context already in use"),
    S(CUDA_ERROR_PEER_ACCESS_UNSUPPORTED, "peer access unsupported"),
    S(CUDA_ERROR_INVALID_PTX, "invalid PTX, or PTX for another architecture"),
    S(CUDA_ERROR_INVALID_GRAPHICS_CONTEXT, "invalid graphics context"),
    S(CUDA_ERROR_NVLINK_UNCORRECTABLE, "uncorrectable NVLink error"),
    S(CUDA_ERROR_JIT_COMPILER_NOT_FOUND, "PTX JIT compiler not found"),
    S(CUDA_ERROR_UNSUPPORTED_PTX_VERSION, "unsupported PTX version"),
    S(CUDA_ERROR_JIT_COMPILATION_DISABLED, "PTX JIT compilation disabled"),
    S(CUDA_ERROR_UNSUPPORTED_EXEC_AFFINITY, "unsupported execution affinity"),
    S(CUDA_ERROR_UNSUPPORTED_DEVSIDE_SYNC, "unsupported device-side synchronization"),
    S(CUDA_ERROR_CONTAINED, "contained error"),
    S(CUDA_ERROR_INVALID_SOURCE, "invalid source"),
    S(CUDA_ERROR_FILE_NOT_FOUND, "file not found"),
    S(CUDA_ERROR_SHARED_OBJECT_SYMBOL_NOT_FOUND, "shared object symbol not found"),
    S(CUDA_ERROR_SHARED_OBJECT_INIT_FAILED, "shared object initialization failed"),
    S(CUDA_ERROR_OPERATING_SYSTEM, "operating system call failed"),
    S(CUDA_ERROR_INVALID_HANDLE, "invalid or destroyed handle"),
    S(CUDA_ERROR_ILLEGAL_STATE, "illegal state"),
    S(CUDA_ERROR_LOSSY_QUERY, "lossy query"),
    S(CUDA_ERROR_NOT_FOUND, "named symbol not found"),
    S(CUDA_ERROR_NOT_READY, "not ready"),
    S(CUDA_ERROR_ILLEGAL_ADDRESS, "illegal memory access"),
    S(CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, "too many resources requested for launch"),
    S(CUDA_ERROR_LAUNCH_TIMEOUT, "launch timed out"),
    S(CUDA_ERROR_LAUNCH_INCOMPATIBLE_TEXTURING, "incompatible texturing"),
    S(CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED, "peer access already enabled"),
    S(CUDA_ERROR_PEER_ACCESS_NOT_ENABLED, "peer access not enabled"),
    S(CUDA_ERROR_PRIMARY_CONTEXT_ACTIVE, "primary context active"),
    S(CUDA_ERROR_CONTEXT_IS_DESTROYED, "context is destroyed"),
    S(CUDA_ERROR_ASSERT, "device-side assert triggered"),
    S(CUDA_ERROR_TOO_MANY_PEERS, "too many peers"),
    S(CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED, "host memory already registered"),
    S(CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED, "host memory not registered"),
    S(CUDA_ERROR_HARDWARE_STACK_ERROR, "hardware stack error"),
    S(CUDA_ERROR_ILLEGAL_INSTRUCTION, "illegal instruction"),
    S(CUDA_ERROR_MISALIGNED_ADDRESS, "misaligned address"),
    S(CUDA_ERROR_INVALID_ADDRESS_SPACE, "invalid address space"),
    S(CUDA_ERROR_INVALID_PC, "invalid program counter"),
    S(CUDA_ERROR_LAUNCH_FAILED, "kernel launch failed (the emulator printed why on stderr)"),
    S(CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE, "cooperative launch too large"),
    S(CUDA_ERROR_TENSOR_MEMORY_LEAK, "tensor memory leak"),
    S(CUDA_ERROR_NOT_PERMITTED, "operation not permitted"),
    S(CUDA_ERROR_NOT_SUPPORTED, "operation not supported"),
    S(CUDA_ERROR_SYSTEM_NOT_READY, "system not ready"),
    S(CUDA_ERROR_SYSTEM_DRIVER_MISMATCH, "system driver mismatch"),
    S(CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE, "forward compatibility not supported on this device"),
    S(CUDA_ERROR_MPS_CONNECTION_FAILED, "MPS connection failed"),
    S(CUDA_ERROR_MPS_RPC_FAILURE, "MPS RPC failure"),
    S(CUDA_ERROR_MPS_SERVER_NOT_READY, "MPS server not ready"),
    S(CUDA_ERROR_MPS_MAX_CLIENTS_REACHED, "MPS client limit reached"),
    S(CUDA_ERROR_MPS_MAX_CONNECTIONS_REACHED, "MPS connection limit reached"),
    S(CUDA_ERROR_MPS_CLIENT_TERMINATED, "MPS client terminated"),
    S(CUDA_ERROR_CDP_NOT_SUPPORTED, "dynamic parallelism not supported"),
    S(CUDA_ERROR_CDP_VERSION_MISMATCH, "dynamic parallelism version mismatch"),
    S(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "operation not permitted while capturing"),
    S(CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, "stream capture invalidated"),
    S(CUDA_ERROR_STREAM_CAPTURE_MERGE, "stream capture merge not permitted"),
    S(CUDA_ERROR_STREAM_CAPTURE_UNMATCHED, "stream capture unmatched"),
    S(CUDA_ERROR_STREAM_CAPTURE_UNJOINED, "stream capture unjoined"),
    S(CUDA_ERROR_STREAM_CAPTURE_ISOLATION, "stream capture isolation violated"),
    S(CUDA_ERROR_STREAM_CAPTURE_IMPLICIT, "implicit dependency on the legacy stream while capturing"),
    S(CUDA_ERROR_CAPTURED_EVENT, "operation not permitted on a captured event"),
    S(CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD, "stream capture ended on another thread"),
    S(CUDA_ERROR_TIMEOUT, "wait timed out"),
    S(CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE, "graph update failed"),
    S(CUDA_ERROR_EXTERNAL_DEVICE, "error in an external device"),
    S(CUDA_ERROR_INVALID_CLUSTER_SIZE, "invalid cluster size"),
    S(CUDA_ERROR_FUNCTION_NOT_LOADED, "function not loaded"),
    S(CUDA_ERROR_INVALID_RESOURCE_TYPE, "invalid resource type"),
    S(CUDA_ERROR_INVALID_RESOURCE_CONFIGURATION, "invalid resource configuration"),
    S(CUDA_ERROR_KEY_ROTATION, "key rotation error"),
    S(CUDA_ERROR_UNKNOWN, "unknown error"),
};
#undef S

static const status* find_status(CUresult r) {
    for (size_t i = 0; i < sizeof STATUSES / sizeof *STATUSES; i++) {
        if (STATUSES[i].code == r) {
            return &STATUSES[i];
        }
    }
    return NULL;
}

static const char* result_name(CUresult r) {
    const status* s = find_status(r);
    return s != NULL ? s->name : "(unknown CUresult)";
}

/* As the real driver: an unknown code is CUDA_ERROR_INVALID_VALUE with *pStr NULL, so that callers can fall back
 * to their own table. */
CUresult CUDAAPI cuGetErrorName(CUresult error, const char** pStr) {
    if (pStr == NULL) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    const status* s = find_status(error);
    *pStr = s != NULL ? s->name : NULL;
    return s != NULL ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUresult CUDAAPI cuGetErrorString(CUresult error, const char** pStr) {
    if (pStr == NULL) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    const status* s = find_status(error);
    *pStr = s != NULL ? s->text : NULL;
    return s != NULL ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
