// emulator_test.cpp: the emulated device on its own, before any Java: the GEMM's three bodies against a
// double-precision reference on random data (tensor-core fragments, the cp.async pipeline, the LoRA
// segment, -inf padding), and the emulator's own checks on kernels that break the rules on purpose
// (emulator_test_kernels.cu: a race on shared memory, a divergent barrier and shuffle, a misaligned load).
// The Hopper primitives likewise: a warp-specialized TMA + mbarrier + wgmma GEMM against a double reference,
// a cross-check of the swizzle, descriptor and fragment layouts through one-hot operands, TMA's zero fill,
// and the pipeline's rules broken one at a time (races, deadlocks, unwaited or unfenced wgmma). Waits that can never
// end (an mbarrier phase, a flag) trap instead of hanging, in a fraction of a second of the host's time.
// Run by test-emulator.sh in the test phase; exit status 0 when every case passes.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "tensor_map.h"
#include "tpk_constants.cuh"
#include "tpk_emu.h"

namespace {
typedef unsigned short u16;

u16 to_bf16(float f) {
    unsigned u;
    std::memcpy(&u, &f, 4);
    return (u16)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}
float from_bf16(u16 b) {
    unsigned u = (unsigned)b << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}
// IEEE half bits of f, for values that are exact halves and normal (or zero): the test data only.
u16 to_f16_exact(float f) {
    unsigned u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) == 0) return (u16)(u >> 16);
    return (u16)(((u >> 16) & 0x8000) | ((((u >> 23) & 0xff) - 127 + 15) << 10) | ((u >> 13) & 0x3ff));
}

int failures = 0;
void check(bool ok, const std::string& what) {
    if (!ok) {
        failures++;
        std::printf("FAIL %s\n", what.c_str());
    }
}

// out[t, j] = c[j]·(x[t]·W[j] + xa[t]·B[j]) (+ bias[j]) for j < valid, -inf beyond: the contract of gemm.cuh, with
// c a column scale in [0.5, 1.5) or 1 (none).
void gemm_case(const char* body, int T, int K, int R, long long valid, long long S, bool bias, unsigned seed,
               bool scale = false) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(-1.f, 1.f);
    auto fill = [&](size_t n) {
        std::vector<u16> v(n);
        for (auto& e : v) e = to_bf16(d(rng));
        return v;
    };
    std::vector<u16> X = fill((size_t)T * K), W = fill((size_t)valid * K), XA = fill((size_t)T * R),
                     B = fill((size_t)valid * R), b = fill((size_t)valid);
    std::vector<float> c((size_t)valid);
    for (auto& e : c) e = 1.f + 0.5f * d(rng);
    std::vector<float> out((size_t)T * S, 12345.f);  // poison: every element must be written
    float* outp = out.data();
    const u16 *Xp = X.data(), *Wp = W.data(), *XAp = R ? XA.data() : nullptr, *Bp = R ? B.data() : nullptr,
              *biasp = bias ? b.data() : nullptr;
    const float* cp = scale ? c.data() : nullptr;
    float alpha = 1.f;
    void* params[] = {&outp, &Xp, &Wp, &XAp, &Bp, &biasp, &cp, &T, &K, &R, &valid, &S, &alpha};
    const std::string name = std::string("tpk_gemm_") + body + "_bf16_f32";
    unsigned grid[3], block[3] = {256, 1, 1}, smem = 0;
    if (std::string(body) == "mma") {
        grid[0] = (unsigned)((S + 127) / 128); grid[1] = (unsigned)((T + 127) / 128); grid[2] = 1;
        smem = 3 * 128 * 40 * 2 * 2;
    } else if (std::string(body) == "mma_decode") {
        grid[0] = (unsigned)((S + 63) / 64); grid[1] = 1; grid[2] = 1;
        block[0] = 128;
    } else if (std::string(body) == "simt") {
        grid[0] = (unsigned)((S + 63) / 64); grid[1] = (unsigned)((T + 63) / 64); grid[2] = 1;
    } else {
        grid[0] = 3; grid[1] = 1; grid[2] = 1;  // fewer warps than columns: the grid-stride loop is exercised
    }
    char err[512] = "";
    const int rc = tpk_emu_launch(name.c_str(), grid, block, smem, params, err, sizeof err);
    char label[200];
    std::snprintf(label, sizeof label, "%s T=%d K=%d R=%d valid=%lld S=%lld bias=%d scale=%d", name.c_str(), T, K, R,
                  valid, S, bias, scale);
    check(rc == 0, std::string(label) + ": launch failed: " + err);
    if (rc != 0) return;
    double worst = 0;
    bool padding_ok = true, finite = true;
    for (int t = 0; t < T; t++) {
        for (long long j = 0; j < S; j++) {
            const float got = out[(size_t)t * S + j];
            if (j >= valid) {
                padding_ok &= std::isinf(got) && got < 0;
                continue;
            }
            double ref = 0.0;
            for (int k = 0; k < K; k++) ref += (double)from_bf16(X[(size_t)t * K + k]) * from_bf16(W[(size_t)j * K + k]);
            for (int r = 0; r < R; r++) ref += (double)from_bf16(XA[(size_t)t * R + r]) * from_bf16(B[(size_t)j * R + r]);
            if (scale) ref *= c[j];
            if (bias) ref += from_bf16(b[j]);
            finite &= std::isfinite(got);
            worst = std::fmax(worst, std::fabs(got - ref) / (1.0 + std::fabs(ref)));
        }
    }
    check(finite && worst < 1e-5, std::string(label) + ": max relative error " + std::to_string(worst));
    check(padding_ok, std::string(label) + ": padding columns are not all -inf");
}

void misaligned_load_fails() {
    // The decode body reads W in 16-byte loads: a W that is only 2-byte aligned must fail the launch, loudly.
    std::vector<u16> buf(4096, 0);
    std::vector<float> out(64);
    float* outp = out.data();
    const u16 *Xp = buf.data(), *Wp = buf.data() + 1, *none = nullptr;
    const float* no_scale = nullptr;
    int T = 1, K = 64, R = 0;
    long long valid = 8, S = 8;
    float alpha = 1.f;
    void* params[] = {&outp, &Xp, &Wp, &none, &none, &none, &no_scale, &T, &K, &R, &valid, &S, &alpha};
    unsigned grid[3] = {1, 1, 1}, block[3] = {256, 1, 1};
    char err[512] = "";
    const int rc = tpk_emu_launch("tpk_gemm_decode_bf16_f32", grid, block, 0, params, err, sizeof err);
    check(rc != 0 && std::strstr(err, "aligned") != nullptr, std::string("misaligned W must fail, got: ") + err);
}
// The emulator's own checks: each rule-breaking kernel fails its launch with a message naming the rule,
// and the same kernel run by the rules passes.
void launch_expect(const char* kernel, void** params, unsigned threads, unsigned smem, const char* expected,
                   unsigned blocks = 1) {
    unsigned grid[3] = {blocks, 1, 1}, block[3] = {threads, 1, 1};
    char err[512] = "";
    const int rc = tpk_emu_launch(kernel, grid, block, smem, params, err, sizeof err);
    if (expected == nullptr) {
        check(rc == 0, std::string(kernel) + " must run: " + err);
    } else {
        check(rc != 0 && std::strstr(err, expected) != nullptr,
              std::string(kernel) + " must fail with '" + expected + "', got: " + (rc ? err : "success"));
    }
}

// A block may wait for a flag only a block that ran before it publishes: in index order block 1 may wait for block
// 0, and with TPK_EMU_BLOCK_ORDER=reverse block 0 for block 1; the other way round fails the launch.
void flag_waits_follow_the_block_order() {
    for (int reverse = 0; reverse <= 1; reverse++) {
        if (reverse) setenv("TPK_EMU_BLOCK_ORDER", "reverse", 1);
        for (int waiter = 0; waiter <= 1; waiter++) {
            unsigned flag = 0;
            std::vector<int> data(33, 0);
            unsigned* f = &flag;
            int* d = data.data();
            void* params[] = {&f, &d, &waiter};
            const bool runs_after = (waiter == 1) != (reverse == 1);
            launch_expect("emu_test_flag_handoff", params, 32, 0,
                          runs_after ? nullptr : "only a block that ran before can have set it", 2);
            if (runs_after) check(data[32] == 42 && flag == 7, "the waiting block sees what the other wrote before publishing");
        }
    }
    unsetenv("TPK_EMU_BLOCK_ORDER");
}

// A launch still running after this many seconds hangs: the bound of a wait did not expire.
void watch_for_hangs(unsigned seconds) {
    std::signal(SIGALRM, [](int) {
        static const char msg[] = "FAIL a launch hung: a device-side wait never reached its bound\n";
        (void)!write(2, msg, sizeof msg - 1);
        _exit(1);
    });
    alarm(seconds);
}

// Every device-side wait is bounded: one that can never end traps, and the launch fails saying so (with what the
// block was doing), well before TPK_WAIT_BOUND_MS of the host's time: the emulated %globaltimer jumps while no
// thread can progress. A flag another thread of the block publishes is seen, without a trap.
void bounded_waits_trap() {
    watch_for_hangs(30);
    unsigned flag = 0;
    unsigned* f = &flag;
    struct {
        int kind;
        unsigned threads;
        const char* expected;
    } cases[] = {{0, 64, "64 spinning on global memory (first: thread 0"},
                 {1, 64, "64 waiting on an mbarrier, 0 spinning on global memory, 0 exited; 64 threads wait for parity 0"}};
    for (auto& c : cases) {
        void* params[] = {&f, &c.kind};
        const auto start = std::chrono::steady_clock::now();
        launch_expect("emu_test_wait", params, c.threads, 64, "trap: a bounded wait expired");
        launch_expect("emu_test_wait", params, c.threads, 64, c.expected);
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        check(ms < TPK_WAIT_BOUND_MS / 4, "emu_test_wait kind " + std::to_string(c.kind) + ": two launches took " +
                                              std::to_string(ms) + " ms of the host's time");
    }
    int handoff = 2;
    void* params[] = {&f, &handoff};
    launch_expect("emu_test_wait", params, 32, 64, nullptr);
    check(flag == 1, "emu_test_wait kind 2: the flag is published");
    alarm(0);
}

void rule_breakers_fail() {
    std::vector<u16> src(256, 0x3f80);
    std::vector<unsigned> out(64);
    std::vector<int> ints(64);
    const u16* s = src.data();
    unsigned* o = out.data();
    int* io = ints.data();
    int with = 1, without = 0;
    void* racy[] = {&s, &o, &without};
    void* fine[] = {&s, &o, &with};
    void* one[] = {&io};
    launch_expect("emu_test_copy_then_read", fine, 64, 512, nullptr);
    launch_expect("emu_test_copy_then_read", racy, 64, 512, "race");
    launch_expect("emu_test_divergent_barrier", one, 64, 0, "deadlock");
    launch_expect("emu_test_divergent_shuffle", one, 32, 0, "deadlock");
    flag_waits_follow_the_block_order();
}

// ---- Hopper: TMA, mbarriers and wgmma (emulator_test_kernels.cu)

constexpr unsigned SM90_GEMM_SMEM = 3 * (128 + 256) * 64 * 2 + 1024 + 64;  // 3 stages, alignment, barriers

// A row-major 2-D tensor of 16-bit elements and its map (box_cols x box_rows boxes).
struct Tensor2d {
    std::vector<u16> data;
    alignas(64) unsigned char map[128];
    Tensor2d(int rows, int cols, unsigned box_cols, unsigned box_rows, bool bf16, unsigned swizzle) : data((size_t)rows * cols) {
        const uint64_t dims[2] = {(uint64_t)cols, (uint64_t)rows}, strides[1] = {(uint64_t)cols * 2};
        const uint32_t box[2] = {box_cols, box_rows}, element_strides[2] = {1, 1};
        char why[256] = "";
        const int bad = tpk_tmap_encode(map, bf16 ? TPK_TMAP_BFLOAT16 : TPK_TMAP_FLOAT16, 2, data.data(), dims, strides,
                                        box, element_strides, TPK_TMAP_INTERLEAVE_NONE, swizzle, 0, 0, why, sizeof why);
        check(!bad, std::string("tensor map: ") + why);
    }
};

u16 half_bits(float v, bool bf16) { return bf16 ? to_bf16(v) : to_f16_exact(v); }

int launch(const char* kernel, void** params, const unsigned grid[3], unsigned threads, unsigned smem, std::string& err) {
    unsigned block[3] = {threads, 1, 1};
    char buf[512] = "";
    const int rc = tpk_emu_launch(kernel, grid, block, smem, params, buf, sizeof buf);
    err = buf;
    return rc;
}

// emu_test_sm90_gemm: out = X W^T against a double reference. The data are multiples of 1/128 in [-1, 1], exact in
// bf16 and f16, so the products are exact and only the f32 roundings (one per wgmma) differ from the reference.
// Shapes not multiples of the tiles make TMA zero-fill the edges (rows, columns and the last k tile).
void sm90_gemm_case(bool bf16, int T, int N, int K, unsigned seed, int mode = 0, const char* expected = nullptr) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> d(-128, 128);
    Tensor2d X(T, K, 64, 128, bf16, TPK_TMAP_SWIZZLE_128B), W(N, K, 64, 256, bf16, TPK_TMAP_SWIZZLE_128B);
    std::vector<float> xf(X.data.size()), wf(W.data.size());
    for (size_t i = 0; i < xf.size(); i++) X.data[i] = half_bits(xf[i] = d(rng) / 128.f, bf16);
    for (size_t i = 0; i < wf.size(); i++) W.data[i] = half_bits(wf[i] = d(rng) / 128.f, bf16);
    std::vector<float> out((size_t)T * N, 12345.f);
    float* outp = out.data();
    int b = bf16;
    void* params[] = {&outp, X.map, W.map, &T, &N, &K, &b, &mode};
    const unsigned grid[3] = {(unsigned)(N + 255) / 256, (unsigned)(T + 127) / 128, 1};
    std::string err;
    const int rc = launch("emu_test_sm90_gemm", params, grid, 384, SM90_GEMM_SMEM, err);
    char label[160];
    std::snprintf(label, sizeof label, "emu_test_sm90_gemm %s T=%d N=%d K=%d mode=%d", bf16 ? "bf16" : "f16", T, N, K, mode);
    if (expected != nullptr) {
        check(rc != 0 && err.find(expected) != std::string::npos,
              std::string(label) + " must fail with '" + expected + "', got: " + (rc ? err : "success"));
        return;
    }
    check(rc == 0, std::string(label) + ": launch failed: " + err);
    if (rc != 0) return;
    double worst = 0;
    for (int t = 0; t < T; t++) {
        for (int n = 0; n < N; n++) {
            double ref = 0;
            for (int k = 0; k < K; k++) ref += (double)xf[(size_t)t * K + k] * wf[(size_t)n * K + k];
            const float got = out[(size_t)t * N + n];
            worst = std::isfinite(got) ? std::fmax(worst, std::fabs(got - ref) / (1.0 + std::fabs(ref))) : INFINITY;
        }
    }
    check(worst < 1e-5, std::string(label) + ": max relative error " + std::to_string(worst));
}

// The layout cross-check. It uses nothing of the emulator's reading of the layouts but the accumulator fragment
// of the PTX ISA (Figure "WGMMA .m64nNk16 register fragment layout for accumulator matrix D"): global row-major
// operands, one of them a one-hot selector, so that D = A B^T must show each element of the other operand where
// the mathematics says, through TMA's swizzle, the descriptors' reading of it and the k16 slice at +32 bytes.
// Each element is checked by its row number and, in a second run, by its column number. The shared image of A
// is checked against the 128-byte swizzle table of the CUDA Programming Guide ("TMA Swizzle", 16-byte chunk c of
// row r at chunk c ^ (r % 8) of its 128-byte row), written out here as numbers.
void sm90_layout_cases() {
    static const int SWIZZLE_128B[8][8] = {
        {0, 1, 2, 3, 4, 5, 6, 7}, {1, 0, 3, 2, 5, 4, 7, 6}, {2, 3, 0, 1, 6, 7, 4, 5}, {3, 2, 1, 0, 7, 6, 5, 4},
        {4, 5, 6, 7, 0, 1, 2, 3}, {5, 4, 7, 6, 1, 0, 3, 2}, {6, 7, 4, 5, 2, 3, 0, 1}, {7, 6, 5, 4, 3, 2, 1, 0}};
    const int failures_before = failures;
    // publish: 0 every thread waits, 1 one thread waits and __syncthreads tells the others (once), 2 a race;
    // shape: the wgmma's N for 0..4, and 5: m64n256k16 with A in registers
    static const int WIDTHS[6] = {256, 128, 64, 32, 16, 256};
    for (int publish = 0; publish < 3; publish++) {
      for (int shape = 0; shape < 6; shape++) {
        if (publish > 0 && shape) continue;
        const int width = WIDTHS[shape], values = width / 2;  // columns of D; accumulators per thread
        const int a_regs = shape == 5;
        for (int bf16 = 0; bf16 < 2; bf16++) {
            for (int reveal_b = 0; reveal_b < 2; reveal_b++) {
                for (int by_col = 0; by_col < 2; by_col++) {
                    for (int ks = 0; ks < 4; ks++) {
                        if (publish > 0 && (bf16 || reveal_b || by_col || ks)) continue;
                        Tensor2d A(64, 64, 64, 64, bf16, TPK_TMAP_SWIZZLE_128B);
                        Tensor2d B(256, 64, 64, 256, bf16, TPK_TMAP_SWIZZLE_128B);
                        Tensor2d& shown = reveal_b ? B : A;
                        Tensor2d& selector = reveal_b ? A : B;
                        const int shown_rows = reveal_b ? 256 : 64, selector_rows = reveal_b ? 64 : 256;
                        auto code = [&](int r, int k) { return (float)(1 + (by_col ? k : r)); };  // exact: <= 256
                        for (int r = 0; r < shown_rows; r++)
                            for (int k = 0; k < 64; k++) shown.data[r * 64 + k] = half_bits(code(r, k), bf16);
                        for (int r = 0; r < selector_rows; r++)
                            for (int k = 0; k < 64; k++) selector.data[r * 64 + k] = half_bits(k == 16 * ks + r % 16, bf16);
                        std::vector<float> out(128 * 128, 12345.f);
                        std::vector<u16> image(64 * 64);
                        float* outp = out.data();
                        u16* imagep = image.data();
                        const u16* a_global = A.data.data();
                        int ksv = ks, bv = bf16, pv = publish, wv = width, av = a_regs;
                        void* params[] = {&outp, &imagep, &a_global, A.map, B.map, &ksv, &bv, &pv, &wv, &av};
                        const unsigned grid[3] = {1, 1, 1};
                        std::string err;
                        const int rc = launch("emu_test_sm90_layout", params, grid, publish ? 256 : 128,
                                              1024 + (64 + 256) * 128 + 64, err);
                        char label[200];
                        std::snprintf(label, sizeof label, "emu_test_sm90_layout m64n%dk16%s %s, %s operand by %s, k slice %d, publish %d",
                                      width, a_regs ? " (A in registers)" : "", bf16 ? "bf16" : "f16",
                                      reveal_b ? "B" : "A", by_col ? "column" : "row", ks, publish);
                        if (publish == 2) {
                            check(rc != 0 && err.find("race: a wgmma of warpgroup 1") != std::string::npos,
                                  std::string(label) + " must fail with a race, got: " + (rc ? err : "success"));
                            continue;
                        }
                        check(rc == 0, std::string(label) + ": launch failed: " + err);
                        if (rc != 0) return;
                        int wrong = 0;
                        for (int t = 0; t < 128; t++) {
                            for (int v = 0; v < 128; v++) {
                                // PTX ISA: warp w = t/32 has rows 16w..16w+15; lane l, d[4i+q] at row
                                // 16w + l/4 + 8(q/2), column 8i + 2(l%4) + q%2
                                const int w = t / 32, l = t % 32, i = v / 4, q = v % 4;
                                const int m = 16 * w + l / 4 + 8 * (q / 2), n = 8 * i + 2 * (l % 4) + q % 2;
                                const float got = out[t * 128 + v];
                                if (v >= values) {  // past the narrower wgmma's accumulators: left alone
                                    wrong += !std::isnan(got);
                                    continue;
                                }
                                const float want = reveal_b ? code(n, 16 * ks + m % 16) : code(m, 16 * ks + n % 16);
                                wrong += got != want;
                            }
                        }
                        check(wrong == 0, std::string(label) + ": " + std::to_string(wrong) + " of 16384 values wrong");
                        int misplaced = 0;
                        for (int r = 0; r < 64; r++)
                            for (int e = 0; e < 64; e++)
                                misplaced += image[(r * 8 + SWIZZLE_128B[r % 8][e / 8]) * 8 + e % 8] != A.data[r * 64 + e];
                        check(misplaced == 0, std::string(label) + ": " + std::to_string(misplaced) +
                                                  " elements of A misplaced in shared memory (128-byte swizzle)");
                        if (failures > failures_before) return;  // one report is enough
                    }
                }
            }
        }
      }
    }
}

// A box partly outside the tensor (negative coordinates too), no swizzle: row-major in shared memory, zeros
// outside, and the zeros count as bytes of the load (else its mbarrier phase would never complete).
void sm90_tma_image_case() {
    const int rows = 30, cols = 40, c0 = -8, c1 = 26;
    Tensor2d G(rows, cols, 16, 8, true, TPK_TMAP_SWIZZLE_NONE);
    for (int i = 0; i < rows * cols; i++) G.data[i] = (u16)(i + 1);
    std::vector<u16> image(16 * 8, 0xdead);
    u16* imagep = image.data();
    int c0v = c0, c1v = c1, bytes = 16 * 8 * 2;
    void* params[] = {&imagep, G.map, &c0v, &c1v, &bytes};
    const unsigned grid[3] = {1, 1, 1};
    std::string err;
    const int rc = launch("emu_test_sm90_tma_image", params, grid, 32, 1024 + 256 + 64, err);
    check(rc == 0, "emu_test_sm90_tma_image: launch failed: " + err);
    int wrong = 0;
    for (int i = 0; i < 8; i++) {
        for (int j = 0; j < 16; j++) {
            const int r = c1 + i, c = c0 + j;
            const u16 want = r >= 0 && r < rows && c >= 0 && c < cols ? G.data[r * cols + c] : 0;
            wrong += image[i * 16 + j] != want;
        }
    }
    check(wrong == 0, "emu_test_sm90_tma_image: " + std::to_string(wrong) + " of 128 elements wrong");
}

void sm90_rule_breakers_fail() {
    // emu_test_sm90_gemm's modes (sm90_test::GemmMode), each breaking one rule of the pipeline
    sm90_gemm_case(true, 100, 300, 200, 11, 1, "race: a wgmma of warpgroup 1 reads");  // no mbar_wait before it
    sm90_gemm_case(true, 100, 300, 200, 11, 2, "still reads: no wgmma_wait has retired it");
    sm90_gemm_case(true, 100, 300, 200, 11, 3, "deadlock");             // expect_tx of more bytes than loaded
    sm90_gemm_case(true, 100, 300, 200, 11, 4, "not retired by a wgmma_wait");
    sm90_gemm_case(true, 100, 300, 200, 11, 5, "descriptor is not uniform across the warpgroup");
    sm90_gemm_case(true, 100, 300, 200, 11, 6, "not 128-byte aligned");
    sm90_gemm_case(true, 100, 300, 200, 11, 7, "expect_tx too small");
    sm90_gemm_case(true, 100, 300, 200, 11, 8, "no wgmma_fence");
    sm90_gemm_case(true, 100, 300, 200, 11, 9, "which no thread of the warpgroup has waited for");
    sm90_gemm_case(true, 100, 300, 200, 11, 10, "nothing orders that read before this load");
    {  // A registers of a wgmma in flight, changed by one thread before the wait
        Tensor2d B(256, 64, 64, 256, true, TPK_TMAP_SWIZZLE_128B);
        void* params[] = {B.map};
        const unsigned grid[3] = {1, 1, 1};
        std::string err;
        const int rc = launch("emu_test_sm90_a_regs_changed", params, grid, 128, 1024 + 256 * 128 + 64, err);
        check(rc != 0 && err.find("lane 5 of warpgroup 0 changed a[2]") != std::string::npos,
              "emu_test_sm90_a_regs_changed must fail, got: " + (rc ? err : std::string("success")));
    }
    // emu_test_sm90_mbar's modes (sm90_test::MbarMode)
    const char* expected[] = {nullptr, "used before mbar_init", "not 8-byte aligned", "more arrivals than its count",
                              "has not published it", "deadlock", "wait for parity 0 of the mbarrier"};
    for (int mode = 0; mode < 7; mode++) {
        int m = mode;
        void* params[] = {&m};
        const unsigned grid[3] = {1, 1, 1};
        std::string err;
        const int rc = launch("emu_test_sm90_mbar", params, grid, 128, 2048, err);
        const std::string label = "emu_test_sm90_mbar mode " + std::to_string(mode);
        if (expected[mode] == nullptr) {
            check(rc == 0, label + " must run: " + err);
        } else {
            check(rc != 0 && err.find(expected[mode]) != std::string::npos,
                  label + " must fail with '" + expected[mode] + "', got: " + (rc ? err : "success"));
        }
    }
}
}  // namespace

int main() {
    // Tensor cores: a full tile, ragged edges in every dimension, several k-tiles (the 3-stage pipeline
    // wraps), a LoRA segment, bias, padding columns, and a block that is all padding.
    gemm_case("mma", 128, 64, 0, 128, 128, false, 1);
    gemm_case("mma", 37, 200, 16, 150, 320, true, 2);
    gemm_case("mma", 130, 136, 8, 129, 129, false, 3);
    gemm_case("decode", 1, 72, 0, 40, 48, false, 4);
    gemm_case("decode", 16, 256, 16, 33, 40, true, 5);
    gemm_case("simt", 70, 33, 5, 65, 131, true, 6);
    // A column scale (DoRA's) in every body's epilogue, with and without bias.
    gemm_case("mma", 37, 200, 16, 150, 320, true, 11, true);
    gemm_case("decode", 16, 256, 16, 33, 40, false, 12, true);
    gemm_case("simt", 70, 33, 5, 65, 131, true, 13, true);
    gemm_case("mma_decode", 9, 72, 8, 70, 70, true, 14, true);
    // Tensor-core decode: one token, a full 16, 9 (the second n tile half used), K not a multiple of the
    // 32-wide step, split-K shares that leave warps idle, a LoRA segment, padding blocks.
    gemm_case("mma_decode", 1, 64, 0, 100, 192, false, 7);
    gemm_case("mma_decode", 16, 520, 16, 130, 200, true, 8);
    gemm_case("mma_decode", 9, 8, 8, 64, 64, false, 9);
    gemm_case("mma_decode", 5, 1000, 0, 61, 61, true, 10);
    misaligned_load_fails();
    bounded_waits_trap();
    rule_breakers_fail();
    // Hopper: the warp-specialized GEMM with bf16 and f16, ragged in every dimension, the 3-stage ring wrapping
    // (4 and 7 k tiles), several blocks; the layout cross-check; TMA's zero fill; the rules.
    sm90_gemm_case(true, 100, 300, 200, 12);
    sm90_gemm_case(false, 200, 256, 136, 13);
    sm90_gemm_case(true, 128, 256, 448, 14);
    sm90_layout_cases();
    sm90_tma_image_case();
    sm90_rule_breakers_fail();
    if (failures == 0) std::printf("[tpk] emulator self-test: all cases passed\n");
    return failures == 0 ? 0 : 1;
}
