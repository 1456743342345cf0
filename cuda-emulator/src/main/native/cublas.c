/* cublas.c: an emulated cuBLAS (libcublas.so.13) for the CPU emulator of CUDA: the functions the Java binding
 * binds (io.tpkernels.ffm.cublas.CublasApi), with cublasGemmEx computing on the emulated device's memory, which
 * is host memory. Written from cuBLAS's documentation, not from the Java code that calls it:
 *
 *   C = alpha·op(A)·op(B) + beta·C, column-major; op(X) = X (CUBLAS_OP_N) or Xᵀ (CUBLAS_OP_T);
 *   op(A) is m×k, op(B) is k×n, C is m×n; lda >= max(1, transa == N ? m : k), ldb >= max(1, transb == N ? k : n),
 *   ldc >= max(1, m); with beta == 0, C is not read (it may hold NaN).
 *   CUBLAS_COMPUTE_32F takes A and B of one type and C of: 16F -> 16F or 32F, 16BF -> 16BF or 32F, 32F -> 32F;
 *   anything else is CUBLAS_STATUS_NOT_SUPPORTED.
 *
 * Products are summed in double, rounded to f32, then to C's type (to nearest, ties to even): as cuBLAS's f32
 * accumulator is converted at the end, within its accumulation error. Launches are synchronous, as every launch of the emulator is; the stream is kept
 * only to be handed back. Test: cublas_test.c. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

typedef enum {
    STATUS_SUCCESS = 0,
    STATUS_NOT_INITIALIZED = 1,
    STATUS_ALLOC_FAILED = 3,
    STATUS_INVALID_VALUE = 7,
    STATUS_ARCH_MISMATCH = 8,
    STATUS_MAPPING_ERROR = 11,
    STATUS_EXECUTION_FAILED = 13,
    STATUS_INTERNAL_ERROR = 14,
    STATUS_NOT_SUPPORTED = 15,
    STATUS_LICENSE_ERROR = 16
} status_t;

enum { OP_N = 0, OP_T = 1 };                    /* cublasOperation_t */
enum { R_32F = 0, R_16F = 2, R_16BF = 14 };     /* cudaDataType (library_types.h) */
enum { COMPUTE_32F = 68 };                      /* cublasComputeType_t */
#define EMULATED_VERSION 130000                 /* what cublasGetVersion reports: 13.0.0 */
#define HANDLE_MAGIC 0x7470B1A5u

typedef struct {
    unsigned magic;
    void* stream;
} handle_t;

static int is_handle(const handle_t* h) {
    return h != NULL && h->magic == HANDLE_MAGIC;
}

EXPORT status_t cublasCreate_v2(handle_t** handle) {
    if (handle == NULL) {
        return STATUS_INVALID_VALUE;
    }
    handle_t* h = calloc(1, sizeof *h);
    if (h == NULL) {
        return STATUS_ALLOC_FAILED;
    }
    h->magic = HANDLE_MAGIC;
    *handle = h;
    return STATUS_SUCCESS;
}

EXPORT status_t cublasDestroy_v2(handle_t* handle) {
    if (!is_handle(handle)) {
        return STATUS_NOT_INITIALIZED;
    }
    handle->magic = 0;
    free(handle);
    return STATUS_SUCCESS;
}

EXPORT status_t cublasSetStream_v2(handle_t* handle, void* stream) {
    if (!is_handle(handle)) {
        return STATUS_NOT_INITIALIZED;
    }
    handle->stream = stream;
    return STATUS_SUCCESS;
}

EXPORT status_t cublasGetVersion_v2(handle_t* handle, int* version) {
    if (!is_handle(handle)) {
        return STATUS_NOT_INITIALIZED;
    }
    if (version == NULL) {
        return STATUS_INVALID_VALUE;
    }
    *version = EMULATED_VERSION;
    return STATUS_SUCCESS;
}

EXPORT const char* cublasGetStatusName(status_t status) {
    switch (status) {
        case STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
        case STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
        case STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
        case STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
        case STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
        case STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
        case STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
        case STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
        case STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
        case STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
    }
    return "CUBLAS_STATUS_UNKNOWN";
}

EXPORT const char* cublasGetStatusString(status_t status) {
    return status == STATUS_SUCCESS ? "success" : cublasGetStatusName(status);
}

/* ---- element conversions: 16-bit formats widen exactly; rounding to them is to nearest, ties to even. */

static float bits_to_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static uint32_t f32_to_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float half_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    int exp = (h >> 10) & 0x1f;
    uint32_t man = h & 0x3ff;
    if (exp == 0x1f) {
        return bits_to_f32(sign | 0x7f800000u | (man << 13));
    }
    if (exp != 0) {
        return bits_to_f32(sign | ((uint32_t)(exp - 15 + 127) << 23) | (man << 13));
    }
    float v = ldexpf((float)man, -24);
    return sign ? -v : v;
}

static uint16_t f32_to_half(float f) {
    uint32_t u = f32_to_bits(f);
    uint16_t sign = (u >> 16) & 0x8000;
    float a = fabsf(f);
    if (isnan(f)) {
        return 0x7fff;
    }
    if (a >= 65520.0f) { /* 65504 + half an ulp and beyond round to infinity */
        return sign | 0x7c00;
    }
    if (a < ldexpf(1.0f, -14)) { /* subnormal: a multiple of 2^-24, rounded by the FPU's nearest-even */
        return sign | (uint16_t)nearbyintf(ldexpf(a, 24));
    }
    int e;
    float m = frexpf(a, &e); /* a = m · 2^e, m in [0.5, 1) */
    uint32_t man = (uint32_t)nearbyintf(ldexpf(m, 11)); /* 11 significant bits */
    if (man == 2048) {
        man = 1024;
        e++;
    }
    if (e - 1 + 15 >= 31) {
        return sign | 0x7c00;
    }
    return sign | (uint16_t)((e - 1 + 15) << 10) | (uint16_t)(man & 0x3ff);
}

static float bf16_to_f32(uint16_t b) {
    return bits_to_f32((uint32_t)b << 16);
}

static uint16_t f32_to_bf16(float f) {
    if (isnan(f)) {
        return 0x7fc0;
    }
    uint32_t u = f32_to_bits(f);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

static double load(const void* base, int type, size_t i) {
    switch (type) {
        case R_32F: return ((const float*)base)[i];
        case R_16F: return half_to_f32(((const uint16_t*)base)[i]);
        default: return bf16_to_f32(((const uint16_t*)base)[i]);
    }
}

static void store(void* base, int type, size_t i, double v) {
    switch (type) {
        case R_32F: ((float*)base)[i] = (float)v; break;
        case R_16F: ((uint16_t*)base)[i] = f32_to_half((float)v); break;
        default: ((uint16_t*)base)[i] = f32_to_bf16((float)v); break;
    }
}

static int supported(int ab, int c) {
    switch (ab) {
        case R_32F: return c == R_32F;
        case R_16F: return c == R_16F || c == R_32F;
        case R_16BF: return c == R_16BF || c == R_32F;
        default: return 0;
    }
}

static int max1(int v) {
    return v > 1 ? v : 1;
}

EXPORT status_t cublasGemmEx(handle_t* handle, int transa, int transb, int m, int n, int k, const void* alpha,
                             const void* A, int Atype, int lda, const void* B, int Btype, int ldb, const void* beta,
                             void* C, int Ctype, int ldc, int computeType, int algo) {
    (void)algo;
    if (!is_handle(handle)) {
        return STATUS_NOT_INITIALIZED;
    }
    if ((transa != OP_N && transa != OP_T) || (transb != OP_N && transb != OP_T) || m < 0 || n < 0 || k < 0
        || lda < max1(transa == OP_N ? m : k) || ldb < max1(transb == OP_N ? k : n) || ldc < max1(m)
        || alpha == NULL || beta == NULL) {
        return STATUS_INVALID_VALUE;
    }
    if (computeType != COMPUTE_32F || Atype != Btype || !supported(Atype, Ctype)) {
        return STATUS_NOT_SUPPORTED;
    }
    const float a = *(const float*)alpha;
    const float b = *(const float*)beta;
    for (int j = 0; j < n; j++) {
        for (int i = 0; i < m; i++) {
            double sum = 0;
            for (int p = 0; p < k; p++) {
                size_t ai = transa == OP_N ? (size_t)i + (size_t)p * lda : (size_t)p + (size_t)i * lda;
                size_t bi = transb == OP_N ? (size_t)p + (size_t)j * ldb : (size_t)j + (size_t)p * ldb;
                sum += load(A, Atype, ai) * load(B, Btype, bi);
            }
            size_t ci = (size_t)i + (size_t)j * ldc;
            double v = (double)a * sum;
            if (b != 0.0f) {
                v += (double)b * load(C, Ctype, ci);
            }
            store(C, Ctype, ci, v);
        }
    }
    return STATUS_SUCCESS;
}
