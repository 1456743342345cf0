// device_sm90.cpp: the Hopper primitives of tpk_ptx_sm90.cuh on the emulated device (device.cpp runs the
// fibers): mbarriers, TMA tile loads, setmaxnreg and the asynchronous warpgroup MMA, each from its PTX ISA
// definition, with the rules the ISA states checked so that a misuse fails the launch with a message:
//
//   - mbarrier (PTX ISA "mbarrier"): the emulator keeps each barrier's state (pending arrivals, expected count,
//     tx-count, phase) by shared address. A phase completes when its pending arrivals and its tx-count are both
//     zero. mbar_try_wait(bar, parity) returns true once the phase of that parity has completed, i.e. while the
//     current phase's parity differs; otherwise the thread sleeps until a phase completes (true) or the block can
//     do nothing else (false; the bounded loop of mbar_wait tries again or traps). Use before mbar_init, a
//     misaligned barrier, more arrivals than the count, a tx-count out of its range and TMA bytes beyond what
//     expect_tx announced all fail, and so does using a barrier another thread initialised before that thread
//     published it (mbar_fence_init, then __syncthreads).
//   - TMA (cp.async.bulk.tensor, 2-D tiles): a load is queued at its issue and lands only when no thread can
//     run (as late as a GPU may land it), copying the box, zero-filling what lies outside the tensor, laying it
//     out as the map's swizzle says, then counting the box's bytes down on its mbarrier.
//   - wgmma (PTX ISA "Asynchronous Warpgroup Level Matrix Multiply-Accumulate"): fence, mma_async, commit_group
//     and wait_group are collectives of the 128 threads of a warpgroup. An mma_async only records its operands,
//     and its accumulators read as NaN until the wait_group that retires its group runs it: reading them early
//     shows, and writing them meanwhile fails.
//
// Races between the asynchronous units and the threads are checked per 16-byte chunk of shared memory:
//   (a) a wgmma that reads bytes a TMA load wrote must come after a wait, by a thread of its warpgroup (or by
//       any thread before a __syncthreads), that observed the completion of the mbarrier phase the load's bytes
//       counted in;
//   (b) a TMA load must not write bytes a wgmma still reads (issued, not retired by wgmma_wait), nor bytes a
//       retired wgmma read unless the issuing thread is ordered after that wgmma_wait: an mbarrier arrive after
//       the wait by a thread of that warpgroup, then a wait observing the phase it completed (the usual "empty"
//       barrier of a pipeline), or a __syncthreads.
// Knowledge flows as in the PTX memory model's release/acquire patterns: arrive releases what the arriving
// thread knows, a wait that observes the phase acquires it, __syncthreads joins everything.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cuda_host.h"
#include "tpk_ptx_sm90.cuh"
#include "kernel_registry.h"
#include "device_internal.h"
#include "tensor_map.h"

namespace tpk_emu {
namespace {

constexpr u32 MAX_COUNT = (1u << 20) - 1;       // PTX ISA: expected arrival count 1 .. 2^20 - 1
constexpr long long MAX_TX = (1 << 20) - 1;     // PTX ISA: tx-count -(2^20 - 1) .. 2^20 - 1
constexpr u32 POISON = 0x7fc0beefu;             // a NaN: what the accumulators of a wgmma in flight read as
constexpr int WG_THREADS = 128;

struct Mbarrier {
    u32 addr = 0;
    bool live = false;
    int init_thread = -1, init_interval = 0;
    int fence_interval = -1;  // barrier interval of the initialising thread's mbar_fence_init; -1: none yet
    u32 count = 0, pending = 0;
    long long tx = 0;
    unsigned long long phase = 0;  // the phase in progress = the number of completed phases
    std::array<int, MAX_WARPGROUPS> released;       // what the arrivals of the phase in progress carry
    std::array<int, MAX_WARPGROUPS> released_done;  // ... and of the completed phases
    int waiters = 0, loads_in_flight = 0;
};

struct Load {
    u32 dst;
    tpk_tmap map;
    int c0, c1;
    int bar;
    int issuer;
    unsigned bytes;
};

// A wgmma operand in shared memory: K-major, 128-byte swizzle, as its descriptor says.
struct Operand {
    u32 start, sbo;
};

// The accumulators of a chain of wgmma on the same registers, each accumulating on the previous one: the
// threads' d arrays of n/2 floats for an m64nNk16 (NaN while the chain is in flight) and the values the
// emulator keeps meanwhile, in the threads' register order (lane t's d[v] at values[(n/2) t + v]).
struct Accumulators {
    int n;
    float* d[WG_THREADS];
    std::vector<float> values;
    int per_thread() const { return n / 2; }
};

// A operand held in registers (wgmma's A-from-registers form): what the threads' a[0..3] held at the issue, as
// a 64 x 16 row-major matrix, and where those registers are, to check that no thread changes them before the
// wgmma_wait that retires the wgmma (PTX ISA: accessing them meanwhile is undefined).
struct RegisterA {
    std::vector<float> values;
    const u32* regs[WG_THREADS];
    u32 bits[WG_THREADS][4];
};

struct Mma {
    Operand a, b;
    bool scale_d, bf16;
    std::shared_ptr<RegisterA> a_regs;  // null: A is in shared memory (operand a)
    std::shared_ptr<Accumulators> acc;
};

struct WarpgroupState {
    std::vector<Mma> open;                   // issued since the last commit
    std::deque<std::vector<Mma>> committed;  // oldest first
    bool fenced = false;                     // a wgmma_fence since the block started
    std::vector<float*> handed_back;         // accumulators a wait handed back to the threads since the last fence
    int waits = 0;                           // wgmma_wait calls that retired something
};

}  // namespace

struct Sm90Block {
    std::vector<Mbarrier> barriers;
    std::map<u32, int> by_addr;
    std::vector<Load> loads;  // in flight, in issue order
    std::array<WarpgroupState, MAX_WARPGROUPS> wg;
};

namespace {

Sm90Block& block() { return *g_launch->sm90; }

unsigned long long& seen(Fiber& f, int bar) {
    if ((int)f.seen.size() <= bar) f.seen.resize(bar + 1, 0);
    return f.seen[bar];
}

void merge(std::array<int, MAX_WARPGROUPS>& into, const std::array<int, MAX_WARPGROUPS>& from) {
    for (int g = 0; g < MAX_WARPGROUPS; g++) into[g] = std::max(into[g], from[g]);
}

// Thread f observed that phases 0 .. completed-1 of barrier b completed: it acquires what their arrivals released.
void observe(Fiber& f, int b, unsigned long long completed) {
    unsigned long long& s = seen(f, b);
    s = std::max(s, completed);
    merge(f.knows, block().barriers[b].released_done);
}

// The live barrier at bar, checked for what the PTX ISA requires of its address, and for its initialisation
// having reached the calling thread.
int barrier_at(u32 bar, const char* what) {
    if (bar % 8 != 0) fail("%s: mbarrier at shared address 0x%x is not 8-byte aligned", what, bar);
    shared_bytes(bar, 8, what);
    Sm90Block& s = block();
    auto it = s.by_addr.find(bar);
    if (it == s.by_addr.end() || !s.barriers[it->second].live) {
        fail("%s: no mbarrier at shared address 0x%x (used before mbar_init)", what, bar);
    }
    const Mbarrier& b = s.barriers[it->second];
    const Launch& l = *g_launch;
    if (me().linear != b.init_thread && !(b.fence_interval >= 0 && b.fence_interval < l.interval)) {
        fail("%s: the mbarrier at 0x%x was initialised by thread %d, which has not published it to the other threads "
             "yet (mbar_fence_init after mbar_init, then __syncthreads)", what, bar, b.init_thread);
    }
    return it->second;
}

// Completes the phase in progress if its arrivals and its tx bytes are all in, and wakes its waiters.
void try_complete(int index) {
    Mbarrier& b = block().barriers[index];
    if (b.pending != 0 || b.tx != 0) return;
    const u32 parity = b.phase & 1;
    b.phase++;
    b.pending = b.count;
    merge(b.released_done, b.released);
    b.released.fill(-1);
    for (Fiber& f : g_launch->fibers) {
        if (f.state == State::AT_MBARRIER && f.wait_bar == index && f.wait_parity == parity) {
            observe(f, index, b.phase);
            f.state = State::READY;
            b.waiters--;
        }
    }
}

void arrive_on(int index, const char* what) {
    Mbarrier& b = block().barriers[index];
    if (b.pending == 0) {
        fail("%s on the mbarrier at 0x%x: all %u arrivals of phase %llu are in (it waits for %lld tx bytes); more "
             "arrivals than its count", what, b.addr, b.count, b.phase, b.tx);
    }
    b.pending--;
    merge(b.released, me().knows);
    if (b.pending == 0 && b.tx < 0) {
        fail("%s on the mbarrier at 0x%x: the TMA loads of phase %llu delivered %lld bytes more than its expect_tx "
             "announced", what, b.addr, b.phase, -b.tx);
    }
    try_complete(index);
}

// A TMA load's bytes arrive (PTX ISA: complete-tx). The tx-count may go negative while arrivals are pending
// (the load landed before its expect_tx), but bytes beyond what a phase whose arrivals are all in expects
// would spill into the next phase: the kernel's expect_tx is too small.
void complete_tx(int index, unsigned bytes, int issuer) {
    Mbarrier& b = block().barriers[index];
    if (b.pending == 0 && (long long)bytes > b.tx) {
        fail("thread %d's TMA load of %u bytes overshoots phase %llu of the mbarrier at 0x%x, which expects only %lld "
             "more bytes (expect_tx too small)", issuer, bytes, b.phase, b.addr, b.tx);
    }
    b.tx -= bytes;
    if (b.tx < -MAX_TX) fail("the tx-count of the mbarrier at 0x%x fell below -(2^20 - 1)", b.addr);
    try_complete(index);
}

}  // namespace

// ---- mbarrier

void mbar_init(u32 bar, u32 count) {
    if (bar % 8 != 0) fail("mbar_init: mbarrier at shared address 0x%x is not 8-byte aligned", bar);
    shared_bytes(bar, 8, "mbar_init");
    if (count == 0 || count > MAX_COUNT) fail("mbar_init: count %u is not in 1..2^20-1", count);
    const Chunk& k = g_launch->chunks[bar / 16];
    if (k.tma_bar >= 0 && k.tma_phase == TMA_IN_FLIGHT) {
        fail("mbar_init: shared address 0x%x is written by thread %d's TMA load in flight", bar, k.tma_issuer);
    }
    Sm90Block& s = block();
    auto it = s.by_addr.find(bar);
    if (it == s.by_addr.end()) {
        it = s.by_addr.emplace(bar, (int)s.barriers.size()).first;
        s.barriers.emplace_back();
    }
    Mbarrier& b = s.barriers[it->second];
    if (b.live && (b.waiters > 0 || b.loads_in_flight > 0)) {
        fail("mbar_init: the mbarrier at 0x%x is in use (%d threads wait on it, %d TMA loads count on it)", bar,
             b.waiters, b.loads_in_flight);
    }
    b = Mbarrier{};
    b.addr = bar;
    b.live = true;
    b.init_thread = me().linear;
    b.init_interval = g_launch->interval;
    b.count = b.pending = count;
    b.released.fill(-1);
    b.released_done.fill(-1);
}

void mbar_fence_init() {
    for (Mbarrier& b : block().barriers) {
        if (b.live && b.init_thread == me().linear && b.fence_interval < 0) b.fence_interval = g_launch->interval;
    }
}

void mbar_arrive(u32 bar) { arrive_on(barrier_at(bar, "mbar_arrive"), "mbar_arrive"); }

void mbar_arrive_expect_tx(u32 bar, u32 bytes) {
    const int index = barrier_at(bar, "mbar_arrive_expect_tx");
    Mbarrier& b = block().barriers[index];
    b.tx += bytes;  // expect-tx first, then the arrival (PTX ISA: mbarrier.arrive.expect_tx)
    if (b.tx > MAX_TX) fail("mbar_arrive_expect_tx: the tx-count of the mbarrier at 0x%x exceeds 2^20 - 1", bar);
    arrive_on(index, "mbar_arrive_expect_tx");
}

// As on a GPU, a try that finds the phase incomplete suspends the thread until the phase completes or a time limit
// passes: here the limit is the block having nothing else to do (sm90_time_out_waits).
bool mbar_try_wait(u32 bar, u32 parity) {
    if (parity > 1) fail("mbar_try_wait: parity %u is not 0 or 1", parity);
    const int index = barrier_at(bar, "mbar_try_wait");
    Mbarrier& b = block().barriers[index];
    Fiber& f = me();
    if ((b.phase & 1) != parity) {  // the last completed phase has this parity
        observe(f, index, b.phase);
        return true;
    }
    f.state = State::AT_MBARRIER;
    f.wait_bar = index;
    f.wait_parity = parity;
    f.timed_out = false;
    b.waiters++;
    yield();  // try_complete wakes it, having recorded what it observed, or sm90_time_out_waits does
    f.wait_bar = -1;
    return !f.timed_out;
}

// ---- TMA

namespace {

// Where the 128-byte swizzle puts the byte at shared address a: the 16-byte chunk index within each 128-byte
// row (address bits 4-6) is XORed with the row's index within the 1024-byte pattern (bits 7-9). CUDA
// Programming Guide, "TMA Swizzle"; PTX ISA, the 128B swizzling mode of the shared memory matrix layouts. The
// pattern is taken from absolute address bits, which is why loads and operands must be 1024-byte aligned.
u32 swizzle128(u32 a) { return a ^ (((a >> 7) & 7) << 4); }

void check_tma_write(u32 chunk_addr, const Fiber& issuer) {
    const Chunk& k = g_launch->chunks[chunk_addr / 16];
    const u32 lo = chunk_addr, hi = chunk_addr + 16;
    if (k.tma_bar >= 0 && k.tma_phase == TMA_IN_FLIGHT) {
        fail("race: TMA load into shared bytes [%u, %u) that thread %d's TMA load, still in flight, also writes", lo,
             hi, k.tma_issuer);
    }
    if (k.writer >= 0 && k.landed == NOT_LANDED) {
        fail("race: TMA load into shared bytes [%u, %u) that thread %d's cp.async, still in flight, also writes", lo,
             hi, k.writer);
    }
    if (k.wgmma_pending > 0) {
        fail("race: TMA load into shared bytes [%u, %u) that a wgmma of warpgroup %d still reads: no wgmma_wait has "
             "retired it (release a stage only after the wait)", lo, hi, k.wgmma_pending_wg);
    }
    for (int g = 0; g < MAX_WARPGROUPS; g++) {
        if (k.wgmma_retired[g] > issuer.knows[g]) {
            fail("race: TMA load into shared bytes [%u, %u) that a wgmma of warpgroup %d read, and nothing orders "
                 "that read before this load (an mbarrier arrive after its wgmma_wait, then a wait observing it)",
                 lo, hi, g);
        }
    }
}

// The checks of cp.async.bulk.tensor and of what the emulator implements of it.
void check_load(u32 dst, const tpk_tmap& m, unsigned esize, unsigned bytes) {
    if (m.rank != 2) fail("tma_load_2d with a tensor map of rank %u", m.rank);
    if (m.interleave != TPK_TMAP_INTERLEAVE_NONE) fail("tma_load_2d: interleaved tensor maps are not emulated");
    if (m.swizzle != TPK_TMAP_SWIZZLE_NONE && m.swizzle != TPK_TMAP_SWIZZLE_128B) {
        fail("tma_load_2d: swizzle mode %u is not emulated (only none and 128B)", m.swizzle);
    }
    if (m.element_strides[1] != 1) fail("tma_load_2d: element strides other than 1 are not emulated");
    if (m.oob_fill != TPK_TMAP_OOB_FILL_NONE) fail("tma_load_2d: the NaN out-of-bounds fill is not emulated");
    if (m.dtype == TPK_TMAP_FLOAT32_FTZ || m.dtype == TPK_TMAP_TFLOAT32 || m.dtype == TPK_TMAP_TFLOAT32_FTZ) {
        fail("tma_load_2d: data type %u (TF32/FTZ) is not emulated", m.dtype);
    }
    if (dst % 128 != 0) fail("tma_load_2d: shared destination 0x%x is not 128-byte aligned", dst);
    if (m.swizzle == TPK_TMAP_SWIZZLE_128B) {
        if (dst % 1024 != 0) {
            fail("tma_load_2d: shared destination 0x%x of a 128B-swizzled load is not 1024-byte aligned (where the "
                 "swizzle pattern starts is then not what a wgmma descriptor with base offset 0 assumes)", dst);
        }
        if (m.box[0] * esize != 128) {
            fail("tma_load_2d: 128B swizzle with %u-byte box rows is not emulated (only 128)", m.box[0] * esize);
        }
    }
    shared_bytes(dst, bytes, "tma_load_2d destination");
    for (const Mbarrier& b : block().barriers) {
        if (b.live && b.addr + 8 > dst && b.addr < dst + bytes) {
            fail("tma_load_2d: shared bytes [0x%x, 0x%x) overlap the mbarrier at 0x%x", dst, dst + bytes, b.addr);
        }
    }
}

void land(const Load& ld) {
    Launch& l = *g_launch;
    const tpk_tmap& m = ld.map;
    const unsigned esize = tpk_tmap_element_bytes(m.dtype), row_bytes = m.box[0] * esize;
    const unsigned char* global = reinterpret_cast<const unsigned char*>((uintptr_t)m.address);
    for (unsigned i = 0; i < m.box[1]; i++) {
        const long long r = (long long)ld.c1 + i;
        for (unsigned j = 0; j < m.box[0]; j++) {
            const long long c = (long long)ld.c0 + j;
            u32 a = ld.dst + i * row_bytes + j * esize;
            if (m.swizzle == TPK_TMAP_SWIZZLE_128B) a = swizzle128(a);
            unsigned char* to = l.smem_base + a;
            if (r >= 0 && c >= 0 && (unsigned long long)r < m.dims[1] && (unsigned long long)c < m.dims[0]) {
                std::memcpy(to, global + r * m.strides[0] + c * esize, esize);
            } else {
                std::memset(to, 0, esize);  // outside the tensor: zeros, and they count as bytes of the box
            }
        }
    }
    Mbarrier& b = block().barriers[ld.bar];
    for (u32 a = ld.dst; a < ld.dst + ld.bytes; a += 16) l.chunks[a / 16].tma_phase = b.phase;
    b.loads_in_flight--;
    complete_tx(ld.bar, ld.bytes, ld.issuer);
}

}  // namespace

void tma_load_2d(u32 dst, const void* map, int c0, int c1, u32 bar) {
    tpk_tmap m;
    if (!tpk_tmap_decode(map, &m)) fail("tma_load_2d: %p holds no tensor map made by cuTensorMapEncodeTiled", map);
    const unsigned esize = tpk_tmap_element_bytes(m.dtype), bytes = m.box[0] * m.box[1] * esize;
    check_load(dst, m, esize, bytes);
    const int index = barrier_at(bar, "tma_load_2d");
    Mbarrier& b = block().barriers[index];
    if (b.fence_interval < 0) {
        fail("tma_load_2d: the mbarrier at 0x%x is not visible to the TMA unit: no mbar_fence_init after its mbar_init",
             bar);
    }
    const Fiber& f = me();
    for (u32 a = dst; a < dst + bytes; a += 16) check_tma_write(a, f);
    for (u32 a = dst; a < dst + bytes; a += 16) {
        Chunk& k = g_launch->chunks[a / 16];
        k.tma_bar = index;
        k.tma_issuer = f.linear;
        k.tma_phase = TMA_IN_FLIGHT;
        k.wgmma_retired.fill(-1);
    }
    b.loads_in_flight++;
    block().loads.push_back(Load{dst, m, c0, c1, index, f.linear, bytes});
}

// ---- setmaxnreg: nothing to do on a CPU, but it must be executed by the whole warpgroup

namespace {
void setmaxnreg_compute(const void* const* ins, void* const*, int lanes) {
    const int n = *static_cast<const int*>(ins[0]);
    for (int t = 1; t < lanes; t++) {
        const int other = *static_cast<const int*>(ins[t]);
        if (other != n) fail("setmaxnreg: lane 0 asks for %d registers, lane %d for %d", n, t, other);
    }
}
}  // namespace

void setmaxnreg(bool increase, int registers) {
    warpgroup_collective(increase ? "setmaxnreg.inc.sync.aligned" : "setmaxnreg.dec.sync.aligned", &setmaxnreg_compute,
                         &registers, nullptr);
}

// ---- wgmma

namespace {

int warpgroup() { return g_launch->collective_first / WG_THREADS; }
WarpgroupState& wg_state() { return block().wg[warpgroup()]; }

// A matrix descriptor (PTX ISA, "Matrix Descriptor Format"): start address >> 4 in bits 0-13, leading byte
// offset >> 4 in 16-29, stride byte offset >> 4 in 32-45, base offset in 49-51, swizzle mode in 62-63. Only
// what tpk_ptx_sm90.cuh makes is emulated: K-major operands in the 128-byte swizzle (mode 1) with base offset 0
// (the LBO is unused by swizzled K-major layouts). Other bits set mean a descriptor computed wrong, e.g. a start
// address that overflowed its field.
Operand decode(u64 desc, const char* which) {
    const u64 fields = 0x3fffull | (0x3fffull << 16) | (0x3fffull << 32) | (7ull << 49) | (3ull << 62);
    if (desc & ~fields) fail("wgmma: %s descriptor 0x%llx has bits set outside its fields", which, desc);
    const unsigned mode = (unsigned)(desc >> 62), base_offset = (unsigned)(desc >> 49) & 7;
    if (mode != 1) fail("wgmma: %s descriptor 0x%llx: swizzle mode %u is not emulated (only 1, 128B)", which, desc, mode);
    if (base_offset != 0) fail("wgmma: %s descriptor 0x%llx: base offset %u is not emulated (only 0)", which, desc, base_offset);
    Operand o{(u32)(desc & 0x3fff) << 4, (u32)((desc >> 32) & 0x3fff) << 4};
    if (o.start % 128 + 32 > 128) {
        fail("wgmma: %s descriptor 0x%llx: the 32 bytes of a row's k16 slice at 0x%x cross a 128-byte swizzle row",
             which, desc, o.start);
    }
    return o;
}

// The shared address of bytes 16h..16h+15 (h = 0, 1: k 0-7, 8-15) of row r of a K-major 128B-swizzled operand:
// rows of 8-row groups 128 bytes apart, groups SBO apart (PTX ISA: canonical layout
// Swizzle<3,4,3> o ((8,m),(T,2k)):((8T,SBO),(1,T))), then the swizzle of the absolute address.
u32 operand_chunk(const Operand& o, int r, int h) { return swizzle128(o.start + (r / 8) * o.sbo + (r % 8) * 128 + 16 * h); }

// What thread `lane` of a warpgroup holds in d[v] (PTX ISA, wgmma .m64nNk16 accumulator fragment): warp w has
// rows 16w..16w+15; lane l, for i in 0..N/8-1, d[4i + q] at row 16w + l/4 + 8(q/2), column 8i + 2(l%4) + q%2.
void fragment_position(int lane, int v, int& row, int& col) {
    const int w = lane / 32, l = lane % 32, i = v / 4, q = v % 4;
    row = 16 * w + l / 4 + 8 * (q / 2);
    col = 8 * i + 2 * (l % 4) + q % 2;
}

// Race (a) for the chunks an operand reads, then counts the wgmma as their reader until it retires.
void note_operand_reads(const Operand& o, int rows, int g) {
    Launch& l = *g_launch;
    // per barrier: the most phases any thread of the warpgroup observed complete (the wgmma comes after all of
    // its threads: it is a collective); computed on first need
    std::vector<unsigned long long> seen_by_group;
    std::vector<bool> known;
    auto observed = [&](int bar) {
        if (known.empty()) {
            seen_by_group.assign(block().barriers.size(), 0);
            known.assign(block().barriers.size(), false);
        }
        if (!known[bar]) {
            for (int t = 0; t < WG_THREADS; t++) {
                seen_by_group[bar] = std::max(seen_by_group[bar], seen(l.fibers[g * WG_THREADS + t], bar));
            }
            known[bar] = true;
        }
        return seen_by_group[bar];
    };
    for (int r = 0; r < rows; r++) {
        for (int h = 0; h < 2; h++) {
            const u32 a = operand_chunk(o, r, h);
            shared_bytes(a, 16, "wgmma operand");
            Chunk& k = l.chunks[a / 16];
            if (k.tma_bar >= 0 && k.tma_phase == TMA_IN_FLIGHT) {
                fail("race: a wgmma of warpgroup %d reads shared bytes [%u, %u) that thread %d's TMA load is still "
                     "writing (no mbar_wait for its mbarrier phase before the wgmma)", g, a, a + 16, k.tma_issuer);
            }
            if (k.tma_bar >= 0 && observed(k.tma_bar) <= k.tma_phase) {
                fail("race: a wgmma of warpgroup %d reads shared bytes [%u, %u) loaded by a TMA that completes phase "
                     "%llu of the mbarrier at 0x%x, which no thread of the warpgroup has waited for", g, a, a + 16,
                     k.tma_phase, block().barriers[k.tma_bar].addr);
            }
            if (k.writer >= 0 && k.landed == NOT_LANDED) {
                fail("race: a wgmma of warpgroup %d reads shared bytes [%u, %u) while thread %d's cp.async into them "
                     "is in flight", g, a, a + 16, k.writer);
            }
            k.wgmma_pending++;
            k.wgmma_pending_wg = g;
        }
    }
}

void retire_operand_reads(const Operand& o, int rows, int g, int wait_number) {
    for (int r = 0; r < rows; r++) {
        for (int h = 0; h < 2; h++) {
            Chunk& k = g_launch->chunks[operand_chunk(o, r, h) / 16];
            k.wgmma_pending--;
            k.wgmma_retired[g] = wait_number;
        }
    }
}

bool poisoned(const float* d) {
    u32 bits;
    std::memcpy(&bits, d, 4);
    return bits == POISON;
}

void check_untouched(const Accumulators& acc, const char* when) {
    for (int t = 0; t < WG_THREADS; t++) {
        for (int v = 0; v < acc.per_thread(); v++) {
            if (!poisoned(&acc.d[t][v])) {
                fail("lane %d of warpgroup %d wrote accumulator d[%d] of a wgmma in flight (%s)", t, warpgroup(), v,
                     when);
            }
        }
    }
}

// The accumulators of the pending wgmma of this warpgroup on the registers d, or null.
std::shared_ptr<Accumulators> pending_on(const WarpgroupState& w, float* const* d) {
    auto match = [&](const Mma& m) -> bool {
        if (m.acc->d[0] != d[0]) return false;
        for (int t = 1; t < WG_THREADS; t++) {
            if (m.acc->d[t] != d[t]) {
                fail("wgmma: lane %d's accumulators are not the ones of the wgmma in flight on lane 0's", t);
            }
        }
        return true;
    };
    for (const Mma& m : w.open) {
        if (match(m)) return m.acc;
    }
    for (const auto& group : w.committed) {
        for (const Mma& m : group) {
            if (match(m)) return m.acc;
        }
    }
    return nullptr;
}

struct MmaIn {
    u64 desc_a, desc_b;
    int scale_d, n;
    float* d;
    const u32* a;  // A in registers (then desc_a is unused), or null
};

float half_value(u16 bits, bool bf16) { return bf16 ? __uint_as_float((u32)bits << 16) : f16_to_f32(bits); }

// The A operand of every lane's a[0..3] (PTX ISA, wgmma .m64nNk16 A fragment: a[j] holds two 16-bit elements,
// the lower half first, element e = 2j + h where the m64n16 accumulator fragment has d[e]; the ISA's figures of
// the two fragments place element e and d[e] alike). Not emulated: the ordering of the threads' writes of a[]
// before wgmma_fence, a matter of the compiler (tpk_ptx_sm90.cuh pins them with wgmma_fence_operand); the caller's
// a[] must stay in scope until the wgmma_wait, as the registers must stay unchanged on a GPU.
std::shared_ptr<RegisterA> register_a(const void* const* ins, bool bf16) {
    auto a = std::make_shared<RegisterA>();
    a->values.assign(64 * 16, 0.f);
    for (int t = 0; t < WG_THREADS; t++) {
        const u32* regs = static_cast<const MmaIn*>(ins[t])->a;
        a->regs[t] = regs;
        for (int j = 0; j < 4; j++) {
            a->bits[t][j] = regs[j];
            for (int h = 0; h < 2; h++) {
                int row, col;
                fragment_position(t, 2 * j + h, row, col);
                a->values[row * 16 + col] = half_value((u16)(regs[j] >> (16 * h)), bf16);
            }
        }
    }
    return a;
}

void mma_compute(const void* const* ins, void* const*, int lanes) {
    const MmaIn& first = *static_cast<const MmaIn*>(ins[0]);
    float* d[WG_THREADS];
    for (int t = 0; t < lanes; t++) {
        const MmaIn& in = *static_cast<const MmaIn*>(ins[t]);
        if ((!first.a && in.desc_a != first.desc_a) || in.desc_b != first.desc_b) {
            const bool a = in.desc_a != first.desc_a;
            fail("wgmma: the %s descriptor is not uniform across the warpgroup %d (lane 0: 0x%llx, lane %d: 0x%llx); "
                 "the PTX ISA requires the same descriptor in all its warps", a ? "A" : "B", warpgroup(),
                 a ? first.desc_a : first.desc_b, t, a ? in.desc_a : in.desc_b);
        }
        if ((in.scale_d != 0) != (first.scale_d != 0)) fail("wgmma: scale-d differs between lane 0 and lane %d", t);
        d[t] = in.d;
    }
    const int g = warpgroup();
    WarpgroupState& w = wg_state();
    Mma m;
    m.bf16 = std::strstr(g_launch->fibers[g_launch->collective_first].op, ".bf16") != nullptr;
    if (first.a) {
        m.a_regs = register_a(ins, m.bf16);
    } else {
        m.a = decode(first.desc_a, "A");
    }
    m.b = decode(first.desc_b, "B");
    m.scale_d = first.scale_d != 0;
    const int n = first.n;
    m.acc = pending_on(w, d);
    if (m.acc) {  // accumulating on a wgmma in flight: the hardware orders the two (PTX ISA, wgmma.fence)
        if (m.acc->n != n) {
            fail("wgmma: an m64n%dk16 accumulates on the registers of an m64n%dk16 in flight", n, m.acc->n);
        }
        check_untouched(*m.acc, "before the next wgmma on them");
    } else {
        if (!w.fenced || std::find(w.handed_back.begin(), w.handed_back.end(), d[0]) != w.handed_back.end()) {
            fail("wgmma: no wgmma_fence between the threads' %s the accumulators and the wgmma that uses them",
                 w.fenced ? "access to" : "first writes of");
        }
        m.acc = std::make_shared<Accumulators>();
        m.acc->n = n;
        const int per = m.acc->per_thread();
        m.acc->values.resize(WG_THREADS * per);
        for (int t = 0; t < WG_THREADS; t++) {
            m.acc->d[t] = d[t];
            std::memcpy(&m.acc->values[t * per], d[t], per * sizeof(float));
            for (int v = 0; v < per; v++) std::memcpy(&d[t][v], &POISON, 4);
        }
    }
    if (!m.a_regs) note_operand_reads(m.a, 64, g);
    note_operand_reads(m.b, n, g);
    w.open.push_back(std::move(m));
}

float element(u32 addr, bool bf16) {
    u16 bits;
    std::memcpy(&bits, g_launch->smem_base + addr, 2);
    return half_value(bits, bf16);
}

// The 16 k of `rows` rows of a K-major operand, row-major.
std::vector<float> operand_values(const Operand& o, int rows, bool bf16) {
    std::vector<float> v(rows * 16);
    for (int r = 0; r < rows; r++) {
        for (int h = 0; h < 2; h++) {
            for (int e = 0; e < 8; e++) v[r * 16 + 8 * h + e] = element(operand_chunk(o, r, h) + 2 * e, bf16);
        }
    }
    return v;
}

// D = A * B^T (+ D): A 64 x 16, B N x 16, products exact in double, one rounding to f32 per instruction.
void execute(Mma& m, int g, int wait_number) {
    check_untouched(*m.acc, "before the wgmma_wait that retires it");
    // On the heap: this runs on the stack of a kernel thread's fiber (64 KiB), and B alone is up to 16 KiB.
    const int n = m.acc->n, per = m.acc->per_thread();
    if (m.a_regs) {
        for (int t = 0; t < WG_THREADS; t++) {
            for (int j = 0; j < 4; j++) {
                if (m.a_regs->regs[t][j] != m.a_regs->bits[t][j]) {
                    fail("lane %d of warpgroup %d changed a[%d], an A register of a wgmma in flight (before the "
                         "wgmma_wait that retires it)", t, g, j);
                }
            }
        }
    }
    const std::vector<float> A = m.a_regs ? m.a_regs->values : operand_values(m.a, 64, m.bf16);
    const std::vector<float> B = operand_values(m.b, n, m.bf16);
    std::vector<float>& acc = m.acc->values;
    for (int t = 0; t < WG_THREADS; t++) {
        for (int v = 0; v < per; v++) {
            int row, col;
            fragment_position(t, v, row, col);
            double s = m.scale_d ? acc[t * per + v] : 0.0;
            for (int k = 0; k < 16; k++) s += (double)A[row * 16 + k] * B[col * 16 + k];
            acc[t * per + v] = (float)s;
        }
    }
    if (!m.a_regs) retire_operand_reads(m.a, 64, g, wait_number);
    retire_operand_reads(m.b, n, g, wait_number);
}

void wait_compute(const void* const* ins, void* const*, int lanes) {
    const int n = *static_cast<const int*>(ins[0]);
    for (int t = 1; t < lanes; t++) {
        if (*static_cast<const int*>(ins[t]) != n) fail("wgmma_wait: lanes 0 and %d wait for different counts", t);
    }
    const int g = warpgroup();
    WarpgroupState& w = wg_state();
    if ((int)w.committed.size() <= n) return;
    const int number = ++w.waits;
    std::vector<std::shared_ptr<Accumulators>> finished;
    while ((int)w.committed.size() > n) {
        for (Mma& m : w.committed.front()) {
            execute(m, g, number);
            if (std::find(finished.begin(), finished.end(), m.acc) == finished.end()) finished.push_back(m.acc);
        }
        w.committed.pop_front();
    }
    // Accumulators that no wgmma in flight still works on go back to the threads' registers.
    for (const auto& acc : finished) {
        bool busy = false;
        for (const Mma& m : w.open) busy |= m.acc == acc;
        for (const auto& group : w.committed)
            for (const Mma& m : group) busy |= m.acc == acc;
        if (busy) continue;
        const int per = acc->per_thread();
        for (int t = 0; t < WG_THREADS; t++) std::memcpy(acc->d[t], &acc->values[t * per], per * sizeof(float));
        w.handed_back.push_back(acc->d[0]);
    }
    for (int t = 0; t < WG_THREADS; t++) g_launch->fibers[g * WG_THREADS + t].knows[g] = number;
}

}  // namespace

void wgmma_fence() {
    warpgroup_collective("wgmma.fence.sync.aligned", [](const void* const*, void* const*, int) {
        WarpgroupState& w = wg_state();
        w.fenced = true;
        w.handed_back.clear();
    }, nullptr, nullptr);
}

void wgmma_commit() {
    warpgroup_collective("wgmma.commit_group.sync.aligned", [](const void* const*, void* const*, int) {
        WarpgroupState& w = wg_state();
        w.committed.push_back(std::move(w.open));
        w.open.clear();
    }, nullptr, nullptr);
}

void wgmma_wait(int pending) { warpgroup_collective("wgmma.wait_group.sync.aligned", &wait_compute, &pending, nullptr); }

namespace {

// The PTX instruction a wgmma call stands for: the collective's identity (lanes at different shapes, types or A
// sources fail as divergent), and where execute reads the input type.
const char* mma_name(int n, bool bf16, bool a_in_registers) {
    static const int shapes[] = {16, 32, 64, 128, 256};
    static std::string names[5][2][2];
    for (int i = 0; i < 5; i++) {
        if (shapes[i] != n) continue;
        std::string& name = names[i][bf16][a_in_registers];
        if (name.empty()) {
            const char* type = bf16 ? "bf16" : "f16";
            name = "wgmma.mma_async.sync.aligned.m64n" + std::to_string(n) + "k16.f32." + type + "." + type +
                   (a_in_registers ? " (A in registers)" : "");
        }
        return name.c_str();
    }
    fail("wgmma: m64n%dk16 is not emulated (only N = 16, 32, 64, 128 and 256)", n);
}

}  // namespace

void wgmma_m64nNk16(float* d, int n, u64 desc_a, u64 desc_b, int scale_d, bool bf16) {
    MmaIn in{desc_a, desc_b, scale_d, n, d, nullptr};
    warpgroup_collective(mma_name(n, bf16, false), &mma_compute, &in, nullptr);
}

void wgmma_m64nNk16_rs(float* d, int n, const u32* a, u64 desc_b, int scale_d, bool bf16) {
    MmaIn in{0, desc_b, scale_d, n, d, a};
    warpgroup_collective(mma_name(n, bf16, true), &mma_compute, &in, nullptr);
}

// ---- the device's hooks

void sm90_begin_block(Launch& l) {
    static Sm90Block s;
    s.barriers.clear();
    s.by_addr.clear();
    s.loads.clear();
    for (WarpgroupState& w : s.wg) w = WarpgroupState{};
    l.sm90 = &s;
    for (Fiber& f : l.fibers) {
        f.wait_bar = -1;
        f.seen.clear();
        f.knows.fill(-1);
    }
}

bool sm90_land_async_copies() {
    Sm90Block& s = block();
    if (s.loads.empty()) return false;
    std::vector<Load> loads;
    loads.swap(s.loads);
    for (const Load& ld : loads) land(ld);
    return true;
}

void sm90_end_block(Launch& l) {
    if (l.sm90->loads.empty()) return;
    const Load& ld = l.sm90->loads.front();
    char buf[256];
    snprintf(buf, sizeof buf, "%s block (%u,%u,%u): the block finished with %zu TMA loads in flight (the first by "
             "thread %d, into shared bytes [%u, %u)) that no thread waited for", l.kernel->name, l.block_idx.x,
             l.block_idx.y, l.block_idx.z, l.sm90->loads.size(), ld.issuer, ld.dst, ld.dst + ld.bytes);
    l.failed = true;
    l.error = buf;
}

void sm90_thread_exit() {
    const WarpgroupState& w = block().wg[me().linear / WG_THREADS];
    size_t unfinished = w.open.size();
    for (const auto& group : w.committed) unfinished += group.size();
    if (unfinished > 0) {
        fail("exited with %zu wgmma of its warpgroup not retired by a wgmma_wait%s", unfinished,
             w.open.empty() ? "" : " (some not even committed)");
    }
}

void sm90_join_at_barrier(Launch& l) {
    std::array<int, MAX_WARPGROUPS> knows;
    knows.fill(-1);
    std::vector<unsigned long long> all;
    for (Fiber& f : l.fibers) {
        merge(knows, f.knows);
        if (all.size() < f.seen.size()) all.resize(f.seen.size(), 0);
        for (size_t b = 0; b < f.seen.size(); b++) all[b] = std::max(all[b], f.seen[b]);
    }
    for (Fiber& f : l.fibers) {
        f.knows = knows;
        f.seen = all;
    }
}

void sm90_check_read(u32 addr, int reader) {
    Launch& l = *g_launch;
    const Chunk& k = l.chunks[addr / 16];
    if (k.tma_bar < 0) return;
    if (k.tma_phase == TMA_IN_FLIGHT || seen(l.fibers[reader], k.tma_bar) <= k.tma_phase) {
        fail("race: thread %d reads shared bytes [%u, %u) that thread %d's TMA load writes, without having waited for "
             "its mbarrier phase", reader, addr, addr + 16, k.tma_issuer);
    }
}

void sm90_check_async_write(u32 addr) {
    const Chunk& k = g_launch->chunks[addr / 16];
    if (k.tma_bar >= 0 && k.tma_phase == TMA_IN_FLIGHT) {
        fail("race: cp.async into shared bytes [%u, %u) that thread %d's TMA load, in flight, also writes", addr,
             addr + 16, k.tma_issuer);
    }
    if (k.wgmma_pending > 0) {
        fail("race: cp.async into shared bytes [%u, %u) that a wgmma of warpgroup %d still reads", addr, addr + 16,
             k.wgmma_pending_wg);
    }
}

int sm90_time_out_waits(Launch& l) {
    int woken = 0;
    for (Fiber& f : l.fibers) {
        if (f.state != State::AT_MBARRIER) continue;
        l.sm90->barriers[f.wait_bar].waiters--;
        f.timed_out = f.retrying = true;
        f.state = State::READY;
        woken++;
    }
    return woken;
}

std::string sm90_describe_waits(const Launch& l) {
    if (l.sm90 == nullptr) return "";
    std::string out;
    const auto& barriers = l.sm90->barriers;
    for (size_t i = 0; i < barriers.size(); i++) {
        const Mbarrier& b = barriers[i];
        int waiting[2] = {0, 0};
        for (const Fiber& f : l.fibers) {
            if (f.state == State::AT_MBARRIER && f.wait_bar == (int)i) waiting[f.wait_parity]++;
        }
        for (int p = 0; p < 2; p++) {
            if (waiting[p] == 0) continue;
            char buf[256];
            snprintf(buf, sizeof buf, "; %d threads wait for parity %d of the mbarrier at shared 0x%x, whose phase %llu "
                     "waits for %u of %u arrivals and %lld tx bytes", waiting[p], p, b.addr, b.phase, b.pending,
                     b.count, b.tx);
            out += buf;
        }
    }
    return out;
}

}  // namespace tpk_emu
