// kernel_registry.h: kernels by name, each with a thunk that calls it with cuLaunchKernel's argument array.
// build-emulator.sh generates one registration file per .cu file (the kernel names come from its PTX's
// .entry lines), so the argument types come from the kernel's own declaration, never from a copy.
#pragma once

#include <cstddef>
#include <cstring>
#include <type_traits>
#include <utility>

namespace tpk_emu {

struct KernelEntry {
    const char* name;
    void (*call)(void* fn, void** params);
    void* fn;
    void invoke(void** params) const { call(fn, params); }
};

const KernelEntry* find_kernel(const char* name);
bool register_kernels(const KernelEntry* entries, std::size_t count);

// An argument's value, copied as cuLaunchKernel does: params[i] need not be aligned for its type (a 64-byte
// aligned tensor map passed from a buffer that is only 8-byte aligned, say).
template <typename T>
T load_param(const void* p) {
    static_assert(std::is_trivially_copyable<T>::value, "kernel parameters are copied bytewise");
    T v;
    std::memcpy(static_cast<void*>(&v), p, sizeof v);
    return v;
}

template <typename... A, std::size_t... I>
void call_unpacked(void* fn, void** params, std::index_sequence<I...>) {
    reinterpret_cast<void (*)(A...)>(fn)(load_param<A>(params[I])...);
}

template <typename... A>
KernelEntry kernel_entry(const char* name, void (*fn)(A...)) {
    return KernelEntry{name, [](void* f, void** params) { call_unpacked<A...>(f, params, std::index_sequence_for<A...>{}); },
                       reinterpret_cast<void*>(fn)};
}

}  // namespace tpk_emu
