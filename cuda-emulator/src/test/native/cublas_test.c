/* cublas_test.c: the emulated cuBLAS (cublas.c) against products and roundings worked by hand from cuBLAS's
 * documented column-major semantics. Run by the emulator self-test; runs every check, exits 1 if any failed. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef int status_t;
typedef void* handle_t;
status_t cublasCreate_v2(handle_t* handle);
status_t cublasDestroy_v2(handle_t handle);
status_t cublasSetStream_v2(handle_t handle, void* stream);
status_t cublasGetVersion_v2(handle_t handle, int* version);
const char* cublasGetStatusName(status_t status);
status_t cublasGemmEx(handle_t handle, int transa, int transb, int m, int n, int k, const void* alpha, const void* A,
                      int Atype, int lda, const void* B, int Btype, int ldb, const void* beta, void* C, int Ctype,
                      int ldc, int computeType, int algo);

enum { N = 0, T = 1, F32 = 0, F16 = 2, BF16 = 14, COMPUTE_32F = 68, ALGO = -1 };
enum { SUCCESS = 0, NOT_INITIALIZED = 1, INVALID_VALUE = 7, NOT_SUPPORTED = 15 };

static int failures = 0;

#define CHECK(cond, ...)                                   \
    do {                                                   \
        if (!(cond)) {                                     \
            fprintf(stderr, "cublas_test: FAILED %s: ", #cond); \
            fprintf(stderr, __VA_ARGS__);                  \
            fprintf(stderr, "\n");                         \
            failures++;                                    \
        }                                                  \
    } while (0)

static const float ONE = 1.0f, ZERO = 0.0f, TWO = 2.0f;

/* A = [[1,2,3],[4,5,6]] (2x3), B = [[7,8],[9,10],[11,12]] (3x2): A·B = [[58,64],[139,154]]. */
static void products_in_every_layout(handle_t h) {
    const float a_n[] = {1, 4, 2, 5, 3, 6};          /* A column-major, lda 2 */
    const float a_t[] = {1, 2, 3, 4, 5, 6};          /* Aᵀ (3x2) column-major, lda 3: op(A) = A */
    const float b_n[] = {7, 9, 11, 8, 10, 12};       /* B column-major, ldb 3 */
    const float b_t[] = {7, 8, 9, 10, 11, 12};       /* Bᵀ (2x3) column-major, ldb 2 */
    const float expected[] = {58, 139, 64, 154};
    const struct { int ta, tb; const float *a, *b; int lda, ldb; } cases[] = {
        {N, N, a_n, b_n, 2, 3}, {T, N, a_t, b_n, 3, 3}, {N, T, a_n, b_t, 2, 2}, {T, T, a_t, b_t, 3, 2}};
    for (int c = 0; c < 4; c++) {
        float out[4];
        for (int i = 0; i < 4; i++) out[i] = NAN; /* beta = 0: C is not read */
        status_t s = cublasGemmEx(h, cases[c].ta, cases[c].tb, 2, 2, 3, &ONE, cases[c].a, F32, cases[c].lda,
                                  cases[c].b, F32, cases[c].ldb, &ZERO, out, F32, 2, COMPUTE_32F, ALGO);
        CHECK(s == SUCCESS, "case %d: status %d", c, s);
        for (int i = 0; i < 4; i++) CHECK(out[i] == expected[i], "case %d, C[%d] = %g, not %g", c, i, out[i], expected[i]);
    }
    /* alpha = 2, beta = 1 on C = 1, and ldc = 3 with the third row of each column left alone. */
    float out[6] = {1, 1, -7, 1, 1, -7};
    status_t s = cublasGemmEx(h, N, N, 2, 2, 3, &TWO, a_n, F32, 2, b_n, F32, 3, &ONE, out, F32, 3, COMPUTE_32F, ALGO);
    CHECK(s == SUCCESS, "status %d", s);
    const float scaled[] = {117, 279, -7, 129, 309, -7};
    for (int i = 0; i < 6; i++) CHECK(out[i] == scaled[i], "alpha/beta/ldc: C[%d] = %g, not %g", i, out[i], scaled[i]);
}

static uint16_t bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return (uint16_t)(u >> 16); /* exact for the small integers used here */
}

static void sixteen_bit_types(handle_t h) {
    const float a[] = {1, 4, 2, 5, 3, 6}, b[] = {7, 9, 11, 8, 10, 12};
    uint16_t a16[6], b16[6];
    for (int i = 0; i < 6; i++) { a16[i] = bf16(a[i]); b16[i] = bf16(b[i]); }
    float f32_out[4];
    CHECK(cublasGemmEx(h, N, N, 2, 2, 3, &ONE, a16, BF16, 2, b16, BF16, 3, &ZERO, f32_out, F32, 2, COMPUTE_32F, ALGO)
              == SUCCESS, "BF16 -> F32");
    CHECK(f32_out[1] == 139 && f32_out[3] == 154, "BF16 -> F32: %g %g", f32_out[1], f32_out[3]);
    uint16_t bf_out[4];
    CHECK(cublasGemmEx(h, N, N, 2, 2, 3, &ONE, a16, BF16, 2, b16, BF16, 3, &ZERO, bf_out, BF16, 2, COMPUTE_32F, ALGO)
              == SUCCESS, "BF16 -> BF16");
    CHECK(bf_out[1] == 0x430B, "139 in BF16 is 0x430B, got 0x%04x", bf_out[1]);

    /* BF16 rounding through alpha: 1·1 scaled by alpha, rounded to bfloat16 (8 significant bits). */
    const uint16_t one_bf16 = 0x3F80;
    const struct { float alpha; uint16_t expected; } bf16_roundings[] = {
        {1.0f + 0x1p-8f, 0x3F80},         /* halfway between 1 and 1 + 2^-7: ties to even, down */
        {1.0f + 3 * 0x1p-8f, 0x3F82},     /* halfway between 1 + 2^-7 and 1 + 2^-6: ties to even, up */
        {0x1.fffffep127f, 0x7F80},        /* the largest float rounds past the largest bfloat16: infinity */
    };
    for (unsigned r = 0; r < sizeof bf16_roundings / sizeof bf16_roundings[0]; r++) {
        uint16_t out = 0xFFFF;
        CHECK(cublasGemmEx(h, N, N, 1, 1, 1, &bf16_roundings[r].alpha, &one_bf16, BF16, 1, &one_bf16, BF16, 1, &ZERO,
                           &out, BF16, 1, COMPUTE_32F, ALGO) == SUCCESS, "BF16 -> BF16");
        CHECK(out == bf16_roundings[r].expected, "alpha %a in BF16: 0x%04x, not 0x%04x", bf16_roundings[r].alpha,
              out, bf16_roundings[r].expected);
    }

    /* F16 rounding through alpha: 1·1 scaled by alpha, rounded to half. */
    const uint16_t one_half = 0x3C00;
    const struct { float alpha; uint16_t expected; } roundings[] = {
        {1.0f + 0x1p-11f, 0x3C00},       /* halfway between 1 and 1 + 2^-10: ties to even, down */
        {1.0f + 3 * 0x1p-11f, 0x3C02},   /* halfway between 1 + 2^-10 and 1 + 2^-9: ties to even, up */
        {65519.0f, 0x7BFF},              /* below the rounding boundary of the largest half, 65504 */
        {65520.0f, 0x7C00},              /* at it: infinity */
        {0x1p-24f, 0x0001},              /* the smallest subnormal */
        {0x1p-25f, 0x0000},              /* halfway between 0 and it: ties to even, zero */
        {1.5f * 0x1p-24f, 0x0002},       /* halfway between 1 and 2 subnormal steps: ties to even, 2 */
        {-2.0f, 0xC000},
    };
    for (unsigned r = 0; r < sizeof roundings / sizeof roundings[0]; r++) {
        uint16_t out = 0xFFFF;
        CHECK(cublasGemmEx(h, N, N, 1, 1, 1, &roundings[r].alpha, &one_half, F16, 1, &one_half, F16, 1, &ZERO, &out,
                           F16, 1, COMPUTE_32F, ALGO) == SUCCESS, "F16 -> F16");
        CHECK(out == roundings[r].expected, "alpha %a in F16: 0x%04x, not 0x%04x", roundings[r].alpha, out,
              roundings[r].expected);
    }
}

static void bad_calls_are_refused(handle_t h) {
    float x[16] = {0};
    uint16_t y[16] = {0};
    CHECK(cublasGemmEx(h, N, N, 2, 2, 2, &ONE, x, F32, 2, x, F32, 2, &ZERO, y, BF16, 2, COMPUTE_32F, ALGO)
              == NOT_SUPPORTED, "F32 -> BF16 is not a cublasGemmEx combination");
    CHECK(cublasGemmEx(h, N, N, 2, 2, 2, &ONE, y, F16, 2, y, F16, 2, &ZERO, y, BF16, 2, COMPUTE_32F, ALGO)
              == NOT_SUPPORTED, "F16 -> BF16 is not one either");
    CHECK(cublasGemmEx(h, N, N, 2, 2, 2, &ONE, y, F16, 2, y, BF16, 2, &ZERO, x, F32, 2, COMPUTE_32F, ALGO)
              == NOT_SUPPORTED, "A and B of different types");
    CHECK(cublasGemmEx(h, N, N, 3, 2, 2, &ONE, x, F32, 2, x, F32, 2, &ZERO, x, F32, 3, COMPUTE_32F, ALGO)
              == INVALID_VALUE, "lda 2 < m 3 with A not transposed");
    CHECK(cublasGemmEx(h, T, N, 3, 2, 4, &ONE, x, F32, 3, x, F32, 4, &ZERO, x, F32, 3, COMPUTE_32F, ALGO)
              == INVALID_VALUE, "lda 3 < k 4 with A transposed");
    CHECK(cublasGemmEx(h, N, N, 2, 2, 2, &ONE, x, F32, 2, x, F32, 2, &ZERO, x, F32, 1, COMPUTE_32F, ALGO)
              == INVALID_VALUE, "ldc 1 < m 2");
    CHECK(cublasGemmEx(h, N, N, -1, 2, 2, &ONE, x, F32, 2, x, F32, 2, &ZERO, x, F32, 2, COMPUTE_32F, ALGO)
              == INVALID_VALUE, "m < 0");
    CHECK(cublasGemmEx(NULL, N, N, 2, 2, 2, &ONE, x, F32, 2, x, F32, 2, &ZERO, x, F32, 2, COMPUTE_32F, ALGO)
              == NOT_INITIALIZED, "no handle");
    CHECK(strcmp(cublasGetStatusName(NOT_SUPPORTED), "CUBLAS_STATUS_NOT_SUPPORTED") == 0, "status name");
}

int main(void) {
    handle_t h = NULL;
    CHECK(cublasCreate_v2(&h) == SUCCESS && h != NULL, "create");
    int version = 0;
    CHECK(cublasGetVersion_v2(h, &version) == SUCCESS && version >= 130000, "version %d", version);
    CHECK(cublasSetStream_v2(h, NULL) == SUCCESS, "set stream");
    products_in_every_layout(h);
    sixteen_bit_types(h);
    bad_calls_are_refused(h);
    CHECK(cublasDestroy_v2(h) == SUCCESS, "destroy");
    if (failures) {
        fprintf(stderr, "cublas_test: %d failure(s)\n", failures);
        return 1;
    }
    printf("cublas_test: every check passed\n");
    return 0;
}
