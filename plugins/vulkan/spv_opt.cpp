// plugins/vulkan/spv_opt.cpp -- SPIRV-Tools' optimizer has only a C++ API;
// this wraps its performance passes for the C code.
#include <cstdlib>
#include <cstring>
#include <vector>
#include <spirv-tools/optimizer.hpp>

extern "C" bool vk_spv_optimize(uint32_t **words, size_t *count) {
    spvtools::Optimizer opt(SPV_ENV_VULKAN_1_1);
    opt.SetMessageConsumer([](spv_message_level_t, const char *, const spv_position_t &, const char *) {});
    opt.RegisterPerformancePasses();
    std::vector<uint32_t> out;
    try {
        if (!opt.Run(*words, *count, &out)) return false;
    } catch (...) {
        return false;
    }
    uint32_t *w = static_cast<uint32_t *>(std::malloc(out.size() * 4));
    if (!w) return false;
    std::memcpy(w, out.data(), out.size() * 4);
    std::free(*words);
    *words = w;
    *count = out.size();
    return true;
}
