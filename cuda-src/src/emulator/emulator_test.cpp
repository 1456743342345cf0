// emulator_test.cpp: the emulated device on its own, before any Java: the GEMM's three bodies against a
// double-precision reference on random data (tensor-core fragments, the cp.async pipeline, the LoRA
// segment, -inf padding), and the emulator's own checks on kernels that break the rules on purpose
// (emulator_test_kernels.cu: a race on shared memory, a divergent barrier and shuffle, a misaligned load).
// Run by build-emulator.sh; exit status 0 when every case passes.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

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

int failures = 0;
void check(bool ok, const std::string& what) {
    if (!ok) {
        failures++;
        std::printf("FAIL %s\n", what.c_str());
    }
}

// out[t, j] = x[t]·W[j] + xa[t]·B[j] (+ bias[j]) for j < valid, -inf beyond: the contract of gemm.cuh.
void gemm_case(const char* body, int T, int K, int R, long long valid, long long S, bool bias, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(-1.f, 1.f);
    auto fill = [&](size_t n) {
        std::vector<u16> v(n);
        for (auto& e : v) e = to_bf16(d(rng));
        return v;
    };
    std::vector<u16> X = fill((size_t)T * K), W = fill((size_t)valid * K), XA = fill((size_t)T * R),
                     B = fill((size_t)valid * R), b = fill((size_t)valid);
    std::vector<float> out((size_t)T * S, 12345.f);  // poison: every element must be written
    float* outp = out.data();
    const u16 *Xp = X.data(), *Wp = W.data(), *XAp = R ? XA.data() : nullptr, *Bp = R ? B.data() : nullptr,
              *biasp = bias ? b.data() : nullptr;
    float alpha = 1.f;
    void* params[] = {&outp, &Xp, &Wp, &XAp, &Bp, &biasp, &T, &K, &R, &valid, &S, &alpha};
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
    std::snprintf(label, sizeof label, "%s T=%d K=%d R=%d valid=%lld S=%lld bias=%d", name.c_str(), T, K, R, valid, S, bias);
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
            double ref = bias ? from_bf16(b[j]) : 0.0;
            for (int k = 0; k < K; k++) ref += (double)from_bf16(X[(size_t)t * K + k]) * from_bf16(W[(size_t)j * K + k]);
            for (int r = 0; r < R; r++) ref += (double)from_bf16(XA[(size_t)t * R + r]) * from_bf16(B[(size_t)j * R + r]);
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
    int T = 1, K = 64, R = 0;
    long long valid = 8, S = 8;
    float alpha = 1.f;
    void* params[] = {&outp, &Xp, &Wp, &none, &none, &none, &T, &K, &R, &valid, &S, &alpha};
    unsigned grid[3] = {1, 1, 1}, block[3] = {256, 1, 1};
    char err[512] = "";
    const int rc = tpk_emu_launch("tpk_gemm_decode_bf16_f32", grid, block, 0, params, err, sizeof err);
    check(rc != 0 && std::strstr(err, "aligned") != nullptr, std::string("misaligned W must fail, got: ") + err);
}
// The emulator's own checks: each rule-breaking kernel fails its launch with a message naming the rule,
// and the same kernel run by the rules passes.
void launch_expect(const char* kernel, void** params, unsigned threads, unsigned smem, const char* expected) {
    unsigned grid[3] = {1, 1, 1}, block[3] = {threads, 1, 1};
    char err[512] = "";
    const int rc = tpk_emu_launch(kernel, grid, block, smem, params, err, sizeof err);
    if (expected == nullptr) {
        check(rc == 0, std::string(kernel) + " must run: " + err);
    } else {
        check(rc != 0 && std::strstr(err, expected) != nullptr,
              std::string(kernel) + " must fail with '" + expected + "', got: " + (rc ? err : "success"));
    }
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
    // Tensor-core decode: one token, a full 16, 9 (the second n tile half used), K not a multiple of the
    // 32-wide step, split-K shares that leave warps idle, a LoRA segment, padding blocks.
    gemm_case("mma_decode", 1, 64, 0, 100, 192, false, 7);
    gemm_case("mma_decode", 16, 520, 16, 130, 200, true, 8);
    gemm_case("mma_decode", 9, 8, 8, 64, 64, false, 9);
    gemm_case("mma_decode", 5, 1000, 0, 61, 61, true, 10);
    misaligned_load_fails();
    rule_breakers_fail();
    if (failures == 0) std::printf("[tpk] emulator self-test: all cases passed\n");
    return failures == 0 ? 0 : 1;
}
