// device.cpp: the emulated device. Runs a kernel of the project's own sources, compiled for the host, with one
// fiber per CUDA thread. Blocks run one after another (in index order, or reversed: TPK_EMU_BLOCK_ORDER); inside a block a fiber runs until it reaches a
// barrier, a warp or warpgroup collective, an mbarrier try_wait or a poll of global memory, then the next one
// runs; when none can run, the TMA unit (a fiber of its own) lands the loads in flight. That is one legal CUDA
// schedule, and every synchronisation point is checked: a __syncthreads that not every thread reaches, a
// collective with lanes missing or lanes at different collectives, a cp.async never waited for, a misaligned
// vector or shared-memory access: each fails the launch with a message instead of hanging or guessing. The
// Hopper primitives (mbarrier, TMA, wgmma) and their checks are in device_sm90.cpp.
//
// Time: %globaltimer is the host's monotonic clock plus a virtual offset that jumps whenever a block cannot
// progress but has threads in a bounded wait (an mbarrier try_wait, a spin on a flag): their tries fail, time
// passes, and the waits' own loop (tpk_bounded_wait of tpk_ptx.cuh) traps within some tens of such rounds, as
// it would after TPK_WAIT_BOUND_MS on a GPU. A block stuck with no such wait (only barriers and collectives) is
// a deadlock, reported at once.
//
// Speed is not a goal beyond keeping tests quick: context switches are a few instructions (fiber_switch.S),
// not swapcontext's system calls.
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "cuda_host.h"
#include "tpk_ptx.cuh"  // the emulated primitives' declarations (TPK_EMULATION is set by cuda_host.h)
#include "kernel_registry.h"
#include "device_internal.h"
#include "tpk_emu.h"

extern "C" void tpk_emu_switch(void** save_sp, void* next_sp);  // fiber_switch.S
extern "C" void tpk_emu_fiber_entry();                           // fiber_switch.S: calls tpk_emu_fiber_main

namespace tpk_emu {

Launch* g_launch = nullptr;

void yield() { tpk_emu_switch(&me().sp, g_launch->scheduler_sp); }

namespace {

constexpr size_t STACK_BYTES = 64 * 1024;  // kernel frames are small; 1024 threads need 64 MiB
// The virtual time a round in which no thread of the block can progress stands for: long, so that a bounded wait
// expires in some tens of rounds rather than in seconds of the host's time.
constexpr u64 STALL_NS = 100000000;

u64 g_virtual_ns = 0;  // added to the host's clock; only grows (under g_launch_lock, like everything here)

std::mutex g_launch_lock;

[[noreturn]] void fail_v(const char* fmt, va_list ap) {
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    Launch& l = *g_launch;
    l.failed = true;
    const uint3& t = l.current->tid;
    char where[160], who[64] = "the TMA unit";
    if (l.current != &l.engine) snprintf(who, sizeof who, "thread (%u,%u,%u)", t.x, t.y, t.z);
    snprintf(where, sizeof where, "%s block (%u,%u,%u) %s: ", l.kernel->name, l.block_idx.x, l.block_idx.y,
             l.block_idx.z, who);
    l.error = std::string(where) + buf;
    for (;;) yield();  // the scheduler never resumes a failed launch
}

}  // namespace

u64 globaltimer_ns() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (u64)ts.tv_sec * 1000000000ull + (u64)ts.tv_nsec + g_virtual_ns;
}

void poll(const u32* addr) {
    Fiber& f = me();
    const u32 v = *addr;
    f.spinning = f.poll_addr == addr && f.poll_value == v;
    f.poll_addr = addr;
    f.poll_value = v;
    f.at_poll = true;
    yield();
}

void trap() {
    const Launch& l = *g_launch;
    if (l.stuck.empty()) fail("trap");
    fail("trap: a bounded wait expired, the block having stopped: %s", l.stuck.c_str());
}

const uint3& thread_idx() { return g_launch->current->tid; }
const uint3& block_idx() { return g_launch->block_idx; }
const uint3& block_dim() { return g_launch->block; }
const uint3& grid_dim() { return g_launch->grid; }
unsigned char* dynamic_smem() { return g_launch->smem_base; }

void fail(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fail_v(fmt, ap);
}

void sync_threads() {
    Launch& l = *g_launch;
    me().state = State::AT_BARRIER;
    if (++l.at_barrier == (int)l.fibers.size()) {
        l.at_barrier = 0;
        l.interval++;
        sm90_join_at_barrier(l);
        for (Fiber& f : l.fibers) f.state = State::READY;
        return;
    }
    yield();
}

namespace {
// The collective of a warp or a warpgroup: each thread arrives with its op; the last one in checks that all
// are at the same op, runs compute for all, and releases them.
void group_collective(Group& g, int index, const char* kind, const char* op, Collective compute, const void* in,
                      void* out) {
    Launch& l = *g_launch;
    Fiber& f = me();
    f.state = State::AT_COLLECTIVE;
    f.op = op;
    f.compute = compute;
    f.in = in;
    f.out = out;
    if (++g.arrived < g.lanes) {
        yield();
        return;
    }
    const void* ins[128];
    void* outs[128];
    for (int i = 0; i < g.lanes; i++) {
        Fiber& lane = l.fibers[g.first + i];
        if (std::strcmp(lane.op, op) != 0 || lane.compute != compute) {
            fail("%s %d: lane %d is at %s while lane %d is at %s (divergent %s collective)", kind, index, i, lane.op,
                 f.linear - g.first, op, kind);
        }
        ins[i] = lane.in;
        outs[i] = lane.out;
    }
    l.collective_first = g.first;
    compute(ins, outs, g.lanes);
    g.arrived = 0;
    for (int i = 0; i < g.lanes; i++) l.fibers[g.first + i].state = State::READY;
}
}  // namespace

void warp_collective(const char* op, Collective compute, const void* in, void* out) {
    const int w = me().linear / 32;
    group_collective(g_launch->warps[w], w, "warp", op, compute, in, out);
}

void warpgroup_collective(const char* op, Collective compute, const void* in, void* out) {
    Launch& l = *g_launch;
    const int index = me().linear / 128;
    Group& g = l.warpgroups[index];
    if (g.lanes != 128) {
        fail("%s needs a whole warpgroup of 128 threads, but warpgroup %d of this %u-thread block has %d", op,
             index, l.block.x * l.block.y * l.block.z, g.lanes);
    }
    group_collective(g, index, "warpgroup", op, compute, in, out);
}

void check_global_alignment(const void* p, unsigned long bytes, const char* what) {
    if (reinterpret_cast<uintptr_t>(p) % bytes != 0) fail("%s at %p is not %lu-byte aligned", what, p, bytes);
}

// ---- shared memory and cp.async

u32 shared_window_address(const void* p) {
    const Launch& l = *g_launch;
    const unsigned char* c = static_cast<const unsigned char*>(p);
    if (c < l.smem_base || c > l.smem_base + l.smem_bytes) {
        fail("shared-window address of %p, outside the %u bytes of dynamic shared memory", p, l.smem_bytes);
    }
    return (u32)(c - l.smem_base);
}

unsigned char* shared_bytes(u32 addr, unsigned bytes, const char* what) {
    const Launch& l = *g_launch;
    if (addr % 16 != 0 && bytes == 16) fail("%s: shared address %u is not 16-byte aligned", what, addr);
    if ((unsigned long long)addr + bytes > l.smem_bytes) {
        fail("%s: shared bytes [%u, %u) outside the %u bytes of dynamic shared memory", what, addr, addr + bytes,
             l.smem_bytes);
    }
    return l.smem_base + addr;
}

namespace {
void land(const Copy& c) {
    Launch& l = *g_launch;
    unsigned char* dst = l.smem_base + c.dst;
    if (c.pred) std::memcpy(dst, c.src, 16);
    else std::memset(dst, 0, 16);
    Chunk& k = l.chunks[c.dst / 16];
    if (k.writer == me().linear && k.written == c.issued) k.landed = l.interval;
}

// A read of the 16 bytes at addr by thread `reader` (ldmatrix rows).
void note_read(u32 addr, int reader) {
    Launch& l = *g_launch;
    Chunk& k = l.chunks[addr / 16];
    if (k.writer >= 0 && k.written <= l.interval &&
        (k.landed == NOT_LANDED || (k.writer != reader && k.landed >= l.interval))) {
        fail("race: thread %d reads shared bytes [%u, %u) while thread %d's cp.async into them (issued in barrier "
             "interval %d) %s", reader, addr, addr + 16, k.writer, k.written,
             k.landed == NOT_LANDED ? "is still in flight" : "was retired with no __syncthreads since");
    }
    sm90_check_read(addr, reader);
    if (k.read != l.interval) {
        k.read = l.interval;
        k.reader = reader;
    } else if (k.reader != reader) {
        k.reader = MANY;
    }
}
}  // namespace

void cp_async_queue(u32 dst, const void* src, bool pred) {
    shared_bytes(dst, 16, "cp.async");
    if (pred) check_global_alignment(src, 16, "cp.async source");
    Launch& l = *g_launch;
    const int self = me().linear;
    Chunk& k = l.chunks[dst / 16];
    sm90_check_async_write(dst);
    if (k.read == l.interval && k.reader != self) {
        fail("race: cp.async into shared bytes [%u, %u) that %s read in this barrier interval", dst, dst + 16,
             k.reader == MANY ? "several threads" : ("thread " + std::to_string(k.reader)).c_str());
    }
    if (k.writer >= 0 && k.writer != self && (k.landed == NOT_LANDED || k.landed >= l.interval)) {
        fail("race: cp.async into shared bytes [%u, %u) that thread %d's cp.async also writes in this interval", dst,
             dst + 16, k.writer);
    }
    k.writer = self;
    k.written = l.interval;
    k.landed = NOT_LANDED;
    me().open.push_back(Copy{dst, src, pred, l.interval});
}

void cp_async_commit_group() {
    Fiber& f = me();
    f.groups.push_back(std::move(f.open));
    f.open.clear();
}

void cp_async_wait_groups(int allowed_in_flight) {
    Fiber& f = me();
    while ((int)f.groups.size() > allowed_in_flight) {
        for (const Copy& c : f.groups.front()) land(c);
        f.groups.erase(f.groups.begin());
    }
}

// ---- ldmatrix and mma (PTX ISA: "Warp-level matrix load instruction: ldmatrix", "Matrix Fragments for
// mma.m16n8k16 with floating point type")

namespace {
void ldmatrix_x4_compute(const void* const* ins, void* const* outs, int lanes) {
    if (lanes != 32) fail("ldmatrix over %d lanes", lanes);
    for (int l = 0; l < 32; l++) {
        u32* r = static_cast<u32*>(outs[l]);
        for (int m = 0; m < 4; m++) {
            // Matrix m's rows come from the addresses of lanes 8m..8m+7; lane l holds row l/4, word l%4.
            const int source = 8 * m + l / 4;
            const u32 row_addr = *static_cast<const u32*>(ins[source]);
            const unsigned char* row = shared_bytes(row_addr, 16, "ldmatrix row");
            if (l % 4 == 0) note_read(row_addr, g_launch->collective_first + source);
            std::memcpy(&r[m], row + 4 * (l % 4), 4);
        }
    }
}

// Transposed: lane l holds, of matrix m, column l/4 of rows 2(l%4) and 2(l%4)+1, the lower row in the low half.
void ldmatrix_x4_trans_compute(const void* const* ins, void* const* outs, int lanes) {
    if (lanes != 32) fail("ldmatrix.trans over %d lanes", lanes);
    for (int m = 0; m < 4; m++) {
        for (int row = 0; row < 8; row++) {
            const int source = 8 * m + row;
            note_read(*static_cast<const u32*>(ins[source]), g_launch->collective_first + source);
        }
    }
    for (int l = 0; l < 32; l++) {
        u32* r = static_cast<u32*>(outs[l]);
        for (int m = 0; m < 4; m++) {
            u16 half[2];
            for (int h = 0; h < 2; h++) {
                const u32 row_addr = *static_cast<const u32*>(ins[8 * m + 2 * (l % 4) + h]);
                std::memcpy(&half[h], shared_bytes(row_addr, 16, "ldmatrix.trans row") + 2 * (l / 4), 2);
            }
            r[m] = (u32)half[0] | ((u32)half[1] << 16);
        }
    }
}

struct MmaIn {
    u32 a[4], b[2];
    float c[4];
    bool bf16;
};

float half_bits_to_f32(u32 bits16, bool bf16) {
    return bf16 ? __uint_as_float(bits16 << 16) : f16_to_f32((u16)bits16);
}

void mma_16816_compute(const void* const* ins, void* const* outs, int lanes) {
    if (lanes != 32) fail("mma.sync over %d lanes", lanes);
    float A[16][16], B[16][8], C[16][8];
    const bool bf16 = static_cast<const MmaIn*>(ins[0])->bf16;
    for (int l = 0; l < 32; l++) {
        const MmaIn& in = *static_cast<const MmaIn*>(ins[l]);
        if (in.bf16 != bf16) fail("mma.sync with bf16 and f16 lanes in one warp");
        const int g = l >> 2, c = l & 3;
        for (int h = 0; h < 2; h++) {  // h: the low (lower column) or high half of each register
            A[g][2 * c + h] = half_bits_to_f32((in.a[0] >> (16 * h)) & 0xffff, bf16);
            A[g + 8][2 * c + h] = half_bits_to_f32((in.a[1] >> (16 * h)) & 0xffff, bf16);
            A[g][2 * c + 8 + h] = half_bits_to_f32((in.a[2] >> (16 * h)) & 0xffff, bf16);
            A[g + 8][2 * c + 8 + h] = half_bits_to_f32((in.a[3] >> (16 * h)) & 0xffff, bf16);
            B[2 * c + h][g] = half_bits_to_f32((in.b[0] >> (16 * h)) & 0xffff, bf16);
            B[2 * c + 8 + h][g] = half_bits_to_f32((in.b[1] >> (16 * h)) & 0xffff, bf16);
        }
        C[g][2 * c] = in.c[0];
        C[g][2 * c + 1] = in.c[1];
        C[g + 8][2 * c] = in.c[2];
        C[g + 8][2 * c + 1] = in.c[3];
    }
    for (int l = 0; l < 32; l++) {
        const int g = l >> 2, c = l & 3;
        float* d = static_cast<float*>(outs[l]);
        const int rows[4] = {g, g, g + 8, g + 8};
        const int cols[4] = {2 * c, 2 * c + 1, 2 * c, 2 * c + 1};
        for (int q = 0; q < 4; q++) {
            double s = C[rows[q]][cols[q]];  // products of halves are exact; one rounding at the end
            for (int k = 0; k < 16; k++) s += (double)A[rows[q]][k] * B[k][cols[q]];
            d[q] = (float)s;
        }
    }
}
}  // namespace

void ldmatrix_x4(u32 (&r)[4], u32 addr) { warp_collective("ldmatrix.x4", &ldmatrix_x4_compute, &addr, r); }
void ldmatrix_x4_trans(u32 (&r)[4], u32 addr) {
    warp_collective("ldmatrix.x4.trans", &ldmatrix_x4_trans_compute, &addr, r);
}

void mma_16816(float (&d)[4], const u32 (&a)[4], u32 b0, u32 b1, bool bf16) {
    MmaIn in{{a[0], a[1], a[2], a[3]}, {b0, b1}, {d[0], d[1], d[2], d[3]}, bf16};
    float out[4];
    warp_collective("mma.m16n8k16", &mma_16816_compute, &in, out);
    for (int q = 0; q < 4; q++) d[q] = out[q];
}

// ---- running a launch

namespace {

// What the threads of a block that cannot progress are doing.
std::string describe_stuck(const Launch& l) {
    int done = 0, barrier = 0, collective = 0, mbarrier = 0, spinning = 0;
    std::string first, poll;
    for (const Fiber& f : l.fibers) {
        switch (f.state) {
            case State::DONE: done++; break;
            case State::AT_BARRIER: barrier++; break;
            case State::AT_COLLECTIVE:
                collective++;
                if (first.empty()) first = std::string(" (first: thread ") + std::to_string(f.linear) + " at " + f.op + ")";
                break;
            case State::AT_MBARRIER: mbarrier++; break;
            case State::READY:
                if (f.at_poll && f.spinning && spinning++ == 0) {
                    char buf[200];
                    snprintf(buf, sizeof buf, " (first: thread %d, at %p, which holds %u; blocks run one after another "
                             "here, so only a block that ran before can have set it)", f.linear, (const void*)f.poll_addr,
                             f.poll_value);
                    poll = buf;
                }
                break;
        }
    }
    char buf[512];
    snprintf(buf, sizeof buf,
             "deadlock: %d threads at __syncthreads, %d at a warp or warpgroup collective%s, %d waiting on an mbarrier, "
             "%d spinning on global memory%s, %d exited",
             barrier, collective, first.c_str(), mbarrier, spinning, poll.c_str(), done);
    return buf + sm90_describe_waits(l);
}

// A round in which no thread can progress and no load is in flight: if some threads are in a bounded wait, time
// passes and their tries fail (true); otherwise nothing ever can change (false).
bool stall(Launch& l) {
    bool spinning = false;
    for (const Fiber& f : l.fibers) spinning |= f.state == State::READY && f.at_poll && f.spinning;
    if (sm90_time_out_waits(l) == 0 && !spinning) return false;
    g_virtual_ns += STALL_NS;
    l.stalled_ns += STALL_NS;
    return true;
}

// Fails the launch: the block cannot progress (stuck says how).
bool stopped(Launch& l, const std::string& stuck) {
    char where[160];
    snprintf(where, sizeof where, "%s block (%u,%u,%u): ", l.kernel->name, l.block_idx.x, l.block_idx.y,
             l.block_idx.z);
    l.failed = true;
    l.error = where + stuck;
    return false;
}

// A fresh frame for tpk_emu_switch: 8 bytes of mxcsr/x87 control words, six callee-saved registers, then the
// return address (the entry trampoline); the stack top stays 16-byte aligned.
void start_fiber(Fiber& f) {
    if (f.stack.empty()) f.stack.resize(STACK_BYTES);
    f.state = State::READY;
    f.groups.clear();
    f.open.clear();
    f.wait_bar = -1;  // a failed launch leaves its threads wherever they were
    f.timed_out = f.retrying = f.at_poll = f.spinning = false;
    f.poll_addr = nullptr;
    uintptr_t top = (reinterpret_cast<uintptr_t>(f.stack.data()) + f.stack.size()) & ~uintptr_t(15);
    void** sp = reinterpret_cast<void**>(top);
    *--sp = nullptr;  // padding: the trampoline starts with rsp % 16 == 8, like any function entry
    *--sp = reinterpret_cast<void*>(&tpk_emu_fiber_entry);
    for (int r = 0; r < 6; r++) *--sp = nullptr;
    --sp;
    uint32_t csr[2];
    __asm__ volatile("stmxcsr %0" : "=m"(csr[0]));
    __asm__ volatile("fnstcw %0" : "=m"(csr[1]));
    std::memcpy(sp, csr, 8);
    f.sp = sp;
}

// Runs f until it yields; false if the launch failed meanwhile.
bool run_fiber(Launch& l, Fiber& f) {
    l.current = &f;
    tpk_emu_switch(&l.scheduler_sp, f.sp);
    return !l.failed;
}

// Sweeps over the ready threads until all have exited. When none can progress (every thread waits, or spins
// on memory that does not change), the TMA unit lands the loads in flight (as late as a GPU may: a stage read too
// early still holds poison), which may complete mbarrier phases and wake their waiters; if nothing is in flight
// either, time passes for the bounded waits (stall), and without any the block is deadlocked.
bool run_block(Launch& l) {
    const int n = (int)l.fibers.size();
    for (Fiber& f : l.fibers) start_fiber(f);
    start_fiber(l.engine);
    if (l.smem_bytes) std::memset(l.smem_base, 0xff, l.smem_bytes);  // poison: unwritten shared memory is NaN
    l.chunks.assign((l.smem_bytes + 15) / 16, Chunk{});
    l.at_barrier = 0;
    l.interval = 0;
    for (Group& g : l.warps) g.arrived = 0;
    for (Group& g : l.warpgroups) g.arrived = 0;
    sm90_begin_block(l);
    l.stuck.clear();
    l.stalled_ns = 0;
    int done = 0;
    while (done < n) {
        bool progressed = false;
        for (Fiber& f : l.fibers) {
            if (f.state != State::READY) continue;
            const bool retrying = f.retrying;
            f.retrying = f.at_poll = false;
            if (!run_fiber(l, f)) return false;
            if (!f.at_poll) f.poll_addr = nullptr;  // a spin is polls in a row
            progressed |= !retrying && (!f.at_poll || !f.spinning);
            if (f.state == State::DONE) done++;
        }
        if (done == n) break;
        if (progressed) {
            l.stuck.clear();
            l.stalled_ns = 0;
            continue;
        }
        l.engine.state = State::DONE;  // the engine says READY when it landed something
        if (!run_fiber(l, l.engine)) return false;
        if (l.engine.state == State::READY) continue;
        std::string stuck = describe_stuck(l);
        if (!stall(l)) return stopped(l, stuck);
        // A wait still spinning long past the bound is one that does not trap: fail rather than hang.
        if (l.stalled_ns > 4ull * TPK_WAIT_BOUND_MS * 1000000) {
            return stopped(l, "still waiting " + std::to_string(l.stalled_ns / 1000000) + " ms past the last progress, "
                              "far beyond the bound of a device-side wait (TPK_WAIT_BOUND_MS): a wait that does not "
                              "trap (every wait must be a tpk_bounded_wait); " + stuck);
        }
        l.stuck = std::move(stuck);
    }
    sm90_end_block(l);
    return !l.failed;
}

}  // namespace
}  // namespace tpk_emu

using namespace tpk_emu;

// Every fiber starts here: the kernel for a thread, the landing loop for the TMA unit.
extern "C" void tpk_emu_fiber_main() {
    Launch& l = *g_launch;
    if (l.current == &l.engine) {
        for (;;) {
            if (sm90_land_async_copies()) l.engine.state = State::READY;
            yield();
        }
    }
    l.kernel->invoke(l.params);
    Fiber& f = me();
    if (!f.open.empty() || !f.groups.empty()) fail("exited with cp.async copies never waited for");
    sm90_thread_exit();
    // A thread that exits while others wait at a barrier or at a collective with it: reported as a deadlock.
    f.state = State::DONE;
    for (;;) yield();
}

extern "C" int tpk_emu_has_kernel(const char* name) { return find_kernel(name) != nullptr; }

extern "C" int tpk_emu_launch(const char* name, const unsigned grid[3], const unsigned block[3],
                              unsigned dynamic_smem_bytes, void** params, char* err, unsigned long errlen) {
    std::lock_guard<std::mutex> guard(g_launch_lock);
    auto reason = [&](const std::string& s) {
        snprintf(err, errlen, "%s", s.c_str());
        return 1;
    };
    const KernelEntry* k = find_kernel(name);
    if (!k) return reason(std::string("no kernel named ") + name + " in the emulator");
    const unsigned long long threads = (unsigned long long)block[0] * block[1] * block[2];
    if (threads == 0 || threads > 1024) return reason("block of " + std::to_string(threads) + " threads");
    if ((unsigned long long)grid[0] * grid[1] * grid[2] == 0) return reason("empty grid");

    static Launch l;  // its fiber stacks are reused from launch to launch
    l.kernel = k;
    l.params = params;
    l.grid = uint3{grid[0], grid[1], grid[2]};
    l.block = uint3{block[0], block[1], block[2]};
    // 1024-byte aligned, so that a kernel aligning a generic pointer to shared memory aligns its shared-window
    // address alike (the window starts at address 0), as the 128-byte TMA swizzle needs.
    l.smem.resize(dynamic_smem_bytes + 1024);
    l.smem_base = reinterpret_cast<unsigned char*>((reinterpret_cast<uintptr_t>(l.smem.data()) + 1023) & ~uintptr_t(1023));
    l.smem_bytes = dynamic_smem_bytes;
    l.failed = false;
    l.error.clear();
    l.fibers.resize(threads);
    for (unsigned long long i = 0; i < threads; i++) {
        Fiber& f = l.fibers[i];
        f.linear = (int)i;
        f.tid = uint3{(unsigned)(i % block[0]), (unsigned)(i / block[0] % block[1]), (unsigned)(i / block[0] / block[1])};
    }
    l.engine.linear = -1;
    l.warps.clear();
    for (unsigned long long first = 0; first < threads; first += 32) {
        l.warps.push_back(Group{(int)first, (int)std::min<unsigned long long>(32, threads - first), 0});
    }
    l.warpgroups.clear();
    for (unsigned long long first = 0; first < threads; first += 128) {
        l.warpgroups.push_back(Group{(int)first, (int)std::min<unsigned long long>(128, threads - first), 0});
    }
    g_launch = &l;
    // Blocks in index order (x fastest), as GPUs dispatch them, or with TPK_EMU_BLOCK_ORDER=reverse the other
    // way round: CUDA promises no order, so a kernel whose blocks wait for each other must work both ways.
    const char* order = getenv("TPK_EMU_BLOCK_ORDER");
    const bool reverse = order != nullptr && strcmp(order, "reverse") == 0;
    const unsigned long long blocks = (unsigned long long)grid[0] * grid[1] * grid[2];
    for (unsigned long long i = 0; i < blocks; i++) {
        const unsigned long long b = reverse ? blocks - 1 - i : i;
        l.block_idx = uint3{(unsigned)(b % grid[0]), (unsigned)(b / grid[0] % grid[1]), (unsigned)(b / grid[0] / grid[1])};
        if (!run_block(l)) {
            g_launch = nullptr;
            return reason(l.error);
        }
    }
    g_launch = nullptr;
    return 0;
}
