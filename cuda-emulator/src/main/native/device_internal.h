// device_internal.h: the emulated device's state, shared by device.cpp (fibers, scheduler, barriers, warp
// collectives, cp.async, ldmatrix, mma.sync) and device_sm90.cpp (the Hopper primitives: mbarriers, TMA, wgmma).
// Internal to the device: kernels see only cuda_host.h and the tpk_ptx*_emulated.h headers.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "cuda_host.h"
#include "kernel_registry.h"
#include "tpk_ptx.cuh"

namespace tpk_emu {

constexpr int MAX_WARPGROUPS = 8;  // 1024 threads / 128

// Race bookkeeping per 16-byte chunk of dynamic shared memory, for the accesses the emulator sees (cp.async
// and TMA writes, ldmatrix and wgmma reads). A barrier interval is the stretch between two __syncthreads of
// the block. An asynchronous copy may land at any moment from its issue to the wait_group that retires it,
// so another thread may read the chunk only in a later interval than that wait, and nobody may still be
// reading it in the interval the copy is issued.
struct Chunk {
    int writer = -1, written = -1, landed = -1;  // cp.async: landed is the interval of the retiring wait; NOT_LANDED while in flight
    int read = -1, reader = -1;                  // interval of the last ldmatrix reads; reader, or MANY
    // Hopper (device_sm90.cpp): the last TMA load into the chunk, and the wgmma that read it.
    int tma_bar = -1;                            // index of the mbarrier it completes on (Sm90Block::barriers)
    int tma_issuer = -1;
    unsigned long long tma_phase = 0;            // the barrier phase its bytes counted in; TMA_IN_FLIGHT until it lands
    int wgmma_pending = 0;                       // issued wgmma reading it that no wgmma_wait has retired yet
    int wgmma_pending_wg = -1;                   // the warpgroup of the last of those, for messages
    std::array<int, MAX_WARPGROUPS> wgmma_retired;  // per warpgroup: the wgmma_wait that retired its last read of it
    Chunk() { wgmma_retired.fill(-1); }
};
constexpr int NOT_LANDED = 1 << 30;
constexpr int MANY = -2;
constexpr unsigned long long TMA_IN_FLIGHT = ~0ull;

struct Copy {
    u32 dst;
    const void* src;
    bool pred;
    int issued;  // the barrier interval it was issued in
};

// AT_MBARRIER: in mbar_try_wait until a phase of that barrier completes (device_sm90.cpp wakes it) or the block
// cannot progress (run_block times the try out).
enum class State { READY, AT_BARRIER, AT_COLLECTIVE, AT_MBARRIER, DONE };

struct Fiber {
    void* sp = nullptr;
    std::vector<char> stack;
    uint3 tid{};
    int linear = 0;  // -1: the TMA unit's fiber (Launch::engine)
    State state = State::READY;
    // the collective it waits at
    const char* op = nullptr;
    Collective compute = nullptr;
    const void* in = nullptr;
    void* out = nullptr;
    // cp.async: committed groups (oldest first) and the open one
    std::vector<std::vector<Copy>> groups;
    std::vector<Copy> open;
    // Hopper: the mbarrier it waits on, and what it has synchronised with (device_sm90.cpp): seen[b] is the
    // number of completed phases of barrier b this thread observed, knows[g] the last wgmma_wait of warpgroup
    // g ordered before it (through mbarrier arrive/wait pairs and __syncthreads).
    int wait_bar = -1;
    u32 wait_parity = 0;
    bool timed_out = false;  // its last mbar_try_wait ended because the block could not progress
    bool retrying = false;   // ... and it has not run since: when it does, it can only try again
    // Polls of global memory (tpk_load_acquire), each a yield: the last address and value, whether the fiber
    // stopped at a poll the last time it ran, and whether that poll saw what the one before it saw (a spin).
    const u32* poll_addr = nullptr;
    u32 poll_value = 0;
    bool at_poll = false, spinning = false;
    std::vector<unsigned long long> seen;
    std::array<int, MAX_WARPGROUPS> knows;
};

// The threads of a warp, or of a warpgroup (4 consecutive warps, the first one's index a multiple of 4).
struct Group {
    int first = 0, lanes = 0, arrived = 0;
};

struct Sm90Block;  // device_sm90.cpp: mbarriers, TMA loads in flight, wgmma state per warpgroup

// The launch being run (one at a time, under g_launch_lock).
struct Launch {
    const KernelEntry* kernel = nullptr;
    void** params = nullptr;
    uint3 grid{}, block{}, block_idx{};
    std::vector<unsigned char> smem;  // 1024-byte aligned storage below
    unsigned char* smem_base = nullptr;
    unsigned smem_bytes = 0;
    std::vector<Fiber> fibers;
    Fiber engine;                     // lands TMA loads when no thread can run (device_sm90.cpp)
    std::vector<Group> warps, warpgroups;
    int at_barrier = 0;
    int interval = 0;                 // barrier intervals completed in this block
    int collective_first = 0;         // first thread of the warp or warpgroup whose collective is being computed
    std::vector<Chunk> chunks;        // per 16 bytes of dynamic shared memory
    Sm90Block* sm90 = nullptr;
    Fiber* current = nullptr;
    void* scheduler_sp = nullptr;
    bool failed = false;
    std::string error;
    std::string stuck;                // why the block could not progress, since its last progress (for trap)
    u64 stalled_ns = 0;               // virtual time that passed since its last progress
};

extern Launch* g_launch;

inline Fiber& me() { return *g_launch->current; }

// Back to the scheduler; returns when this fiber is scheduled again.
void yield();

// The 'bytes' bytes of dynamic shared memory at shared-window address addr, or a failure naming 'what'.
unsigned char* shared_bytes(u32 addr, unsigned bytes, const char* what);

// A collective of the 128 threads of the calling thread's warpgroup, as warp_collective is for a warp.
void warpgroup_collective(const char* op, Collective compute, const void* in, void* out);

// ---- the Hopper half (device_sm90.cpp), called by device.cpp

void sm90_begin_block(Launch& l);                // fresh mbarriers, wgmma state and knowledge for a block
bool sm90_land_async_copies();                   // on the engine fiber: lands every TMA in flight; false if none
void sm90_end_block(Launch& l);                  // fails (l.failed) if a TMA is still in flight
void sm90_thread_exit();                         // fails if the thread's warpgroup left wgmma unfinished
void sm90_join_at_barrier(Launch& l);            // __syncthreads: every thread now knows what any thread knew
void sm90_check_read(u32 addr, int reader);      // an ldmatrix read of a chunk a TMA may write
void sm90_check_async_write(u32 addr);           // a cp.async into a chunk a TMA or a wgmma may be using
std::string sm90_describe_waits(const Launch& l);  // the mbarrier waits of a deadlock
int sm90_time_out_waits(Launch& l);              // ends every mbar_try_wait in progress with false; how many

}  // namespace tpk_emu
