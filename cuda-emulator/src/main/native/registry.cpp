// registry.cpp: the table the generated registration files fill at load time.
#include <cstring>
#include <map>
#include <string>

#include "kernel_registry.h"

namespace tpk_emu {
namespace {
std::map<std::string, KernelEntry>& table() {
    static std::map<std::string, KernelEntry> t;  // built on first use: registration order across files is free
    return t;
}
}  // namespace

const KernelEntry* find_kernel(const char* name) {
    auto it = table().find(name);
    return it == table().end() ? nullptr : &it->second;
}

bool register_kernels(const KernelEntry* entries, std::size_t count) {
    for (std::size_t i = 0; i < count; i++) table()[entries[i].name] = entries[i];
    return true;
}
}  // namespace tpk_emu
