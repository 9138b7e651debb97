/* plugins/vulkan/vk_program.c -- programs: kernel -> SPIR-V text ->
 * validated, optimised words -> compute pipeline (cached per device by a
 * hash of the words, and on disk through the VkPipelineCache); launches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tg/lower.h>
#include "vk_device.h"

#define CHECK(d, call, status)                                                        \
    do {                                                                              \
        VkResult r_ = (call);                                                         \
        if (r_ != VK_SUCCESS)                                                         \
            return vk_fail(d, status, "vulkan: %s: %s", #call, vk_result_name(r_));    \
    } while (0)

static uint64_t fnv1a(const void *p, size_t n) {
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 0x100000001b3ull;
    return h;
}

/* The descriptor-set and pipeline layouts of kernels with n params: every
 * param is one storage buffer, binding i of set 0. */
static tg_status layout(tg_device *d, uint32_t n) {
    if (d->pl[n]) return TG_OK;
    VkDescriptorSetLayoutBinding b[VK_MAX_PARAMS];
    for (uint32_t i = 0; i < n; i++)
        b[i] = (VkDescriptorSetLayoutBinding){.binding = i, .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                              .descriptorCount = 1, .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
    VkDescriptorSetLayoutCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                           .bindingCount = n, .pBindings = b};
    CHECK(d, vkCreateDescriptorSetLayout(d->dev, &dci, NULL, &d->dsl[n]), TG_ERR_DEVICE);
    VkPushConstantRange pr = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = d->push_bytes};
    VkPipelineLayoutCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO, .setLayoutCount = 1,
                                      .pSetLayouts = &d->dsl[n], .pushConstantRangeCount = 1, .pPushConstantRanges = &pr};
    VkResult r = vkCreatePipelineLayout(d->dev, &pci, NULL, &d->pl[n]);
    if (r != VK_SUCCESS) {
        vkDestroyDescriptorSetLayout(d->dev, d->dsl[n], NULL);
        d->dsl[n] = VK_NULL_HANDLE;
        return vk_fail(d, TG_ERR_DEVICE, "vulkan: vkCreatePipelineLayout: %s", vk_result_name(r));
    }
    return TG_OK;
}

static tg_status pipeline(tg_device *d, uint32_t nparams, const uint32_t *words, size_t nwords, vk_pipe **out) {
    uint64_t key = fnv1a(words, nwords * 4) ^ nparams;
    for (vk_pipe *p = d->pipes; p; p = p->next)
        if (p->key == key && p->nwords == nwords) {
            *out = p;
            return TG_OK;
        }
    tg_status st = layout(d, nparams);
    if (st) return st;
    VkShaderModuleCreateInfo mci = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO, .codeSize = nwords * 4,
                                    .pCode = words};
    VkShaderModule mod;
    CHECK(d, vkCreateShaderModule(d->dev, &mci, NULL, &mod), TG_ERR_COMPILE);
    VkComputePipelineCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                  .module = mod, .pName = "main"},
        .layout = d->pl[nparams]};
    vk_pipe *p = calloc(1, sizeof *p);
    VkResult r = p ? vkCreateComputePipelines(d->dev, d->pcache, 1, &ci, NULL, &p->pipeline) : VK_ERROR_OUT_OF_HOST_MEMORY;
    vkDestroyShaderModule(d->dev, mod, NULL);
    if (r != VK_SUCCESS) {
        free(p);
        return vk_fail(d, TG_ERR_COMPILE, "vulkan: vkCreateComputePipelines: %s", vk_result_name(r));
    }
    p->key = key;
    p->nwords = nwords;
    p->next = d->pipes;
    d->pipes = p;
    *out = p;
    return TG_OK;
}

tg_status vk_program_create(tg_device *d, const tg_kernel *k, tg_program **out) {
    char err[512] = "";
    char *text = NULL, *msg = NULL;
    uint32_t *words = NULL;
    size_t nwords = 0;
    vk_spv_plan plan;
    vk_clear_error(d);
    *out = NULL;
    if (!k || k->nparams > d->max_params)
        return vk_fail(d, TG_ERR_UNSUPPORTED, "vulkan: kernel has %u params, the device binds at most %u",
                       k ? k->nparams : 0, d->max_params);
    tg_status st = vk_spv_generate(k, &d->target, &text, &plan, err, sizeof err);
    if (st) return vk_fail(d, st, "%s", err[0] ? err : "vulkan: SPIR-V generation failed");
    int nbda = 0;
    for (uint32_t i = 0; i < k->nparams; i++) nbda += plan.bda >> i & 1;
    int push = (int)sizeof(vk_push) + 8 * nbda + 8 * (int)vk_nargs(k);
    if (push > (int)d->push_bytes || vk_nargs(k) > VK_MAX_ARGS) {
        free(text);
        return vk_fail(d, TG_ERR_UNSUPPORTED, "vulkan: %d params beyond maxStorageBufferRange and %u arguments need %d "
                       "bytes of push constants (at most %d arguments); the device has %u", nbda, vk_nargs(k), push,
                       VK_MAX_ARGS, d->push_bytes);
    }
    st = vk_spv_assemble(text, &words, &nwords, &msg);
    if (st) {
        free(text);
        return vk_fail_owned(d, st, msg);
    }
    const char *noopt = getenv("TG_VULKAN_NO_OPT");
    if (!(noopt && *noopt && *noopt != '0')) vk_spv_optimize(&words, &nwords);
    tg_program *p = calloc(1, sizeof *p);
    if (!p) {
        free(text);
        free(words);
        return vk_fail(d, TG_ERR_NO_MEMORY, "vulkan: out of host memory");
    }
    uint32_t nbind = k->nparams + (plan.npasses == 2 ? 1 : 0);
    st = pipeline(d, nbind, words, nwords, &p->pipe);
    free(words);
    if (!st && plan.npasses == 2) st = vk_buffer_create(d, plan.scratch_bytes, &p->scratch);
    if (st) {
        free(text);
        free(p);
        return st;
    }
    p->text = text;
    p->plan = plan;
    p->nparams = k->nparams;
    p->nargs = vk_nargs(k);
    if (p->nargs) memcpy(p->args, k->args, p->nargs * sizeof *p->args);
    *out = p;
    return TG_OK;
}

/* A loop over program_create (each message kept until the next batch). */
tg_status vk_program_create_batch(tg_device *d, uint32_t n, const tg_kernel *const *ks, tg_program **out,
                                  tg_status *out_st, const char **out_msg) {
    tg_status first = TG_OK;
    free(d->batch_msgs), d->batch_msgs = NULL;
    if (!(d->batch_msgs = calloc(n ? n : 1, 512))) return vk_fail(d, TG_ERR_NO_MEMORY, "vulkan: out of host memory");
    for (uint32_t i = 0; i < n; i++) {
        out_st[i] = vk_program_create(d, ks[i], &out[i]);
        out_msg[i] = d->batch_msgs + 512 * (size_t)i;
        if (out_st[i]) snprintf(d->batch_msgs + 512 * (size_t)i, 512, "%s", d->err ? d->err : d->errbuf);
        if (!first) first = out_st[i];
    }
    return first;
}

void vk_program_free(tg_device *d, tg_program *p) {
    vk_buffer_destroy(d, p->scratch); /* only this program's launches used it */
    free(p->text);
    free(p);
}

void vk_program_destroy(tg_device *d, tg_program *p) {
    if (!p) return;
    vk_retire(d, false);
    if (p->busy) p->dead = true;
    else vk_program_free(d, p);
}

const char *vk_program_source(tg_device *d, tg_program *p) { return p ? p->text : NULL; }

/* A launch; words: the arguments' words (tgl_args_pack), NULL for zeros. */
static tg_status launch(tg_device *d, tg_program *p, tg_buffer *const *bufs, uint32_t n, const uint64_t *words) {
    vk_clear_error(d);
    if (!p || n != p->nparams)
        return vk_fail(d, TG_ERR_INVALID, "vulkan: program_launch: %u buffers for %u params", n, p ? p->nparams : 0);
    for (uint32_t i = 0; i < n; i++)
        if (!bufs[i]) return vk_fail(d, TG_ERR_INVALID, "vulkan: program_launch: buffer %u is NULL", i);
    if (p->plan.groups[0] == 0) return TG_OK;
    vk_sub *s = NULL;
    tg_status st = vk_sub_begin(d, &s);
    if (st) return vk_sub_abort(d, s, st);
    /* descriptors: a small pool per submission, freed when it retires */
    VkDescriptorSet set = VK_NULL_HANDLE;
    uint32_t nbind = n + (p->scratch ? 1 : 0);
    if (nbind) { /* one set per submission, from a pool it keeps (reset when it retires) */
        VkDescriptorPoolSize ps = {.type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .descriptorCount = VK_MAX_PARAMS + 1};
        VkDescriptorPoolCreateInfo dpi = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO, .maxSets = 1,
                                          .poolSizeCount = 1, .pPoolSizes = &ps};
        VkResult r = s->dpool ? VK_SUCCESS : vkCreateDescriptorPool(d->dev, &dpi, NULL, &s->dpool);
        if (r != VK_SUCCESS)
            return vk_sub_abort(d, s, vk_fail(d, TG_ERR_DEVICE, "vulkan: vkCreateDescriptorPool: %s", vk_result_name(r)));
        VkDescriptorSetAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                          .descriptorPool = s->dpool, .descriptorSetCount = 1, .pSetLayouts = &d->dsl[nbind]};
        r = vkAllocateDescriptorSets(d->dev, &ai, &set);
        if (r != VK_SUCCESS)
            return vk_sub_abort(d, s, vk_fail(d, TG_ERR_DEVICE, "vulkan: vkAllocateDescriptorSets: %s", vk_result_name(r)));
        VkDescriptorBufferInfo bi[VK_MAX_PARAMS + 1];
        VkWriteDescriptorSet w[VK_MAX_PARAMS + 1];
        uint64_t range = d->props.limits.maxStorageBufferRange;
        for (uint32_t i = 0; i < nbind; i++) {
            tg_buffer *b = i < n ? bufs[i] : p->scratch;
            /* params beyond the range are reached by address (plan.bda);
             * the binding then covers what it can and goes unused */
            bi[i] = (VkDescriptorBufferInfo){.buffer = b->buf, .offset = 0,
                                             .range = b->alloc < range ? b->alloc : range & ~UINT64_C(3)};
            w[i] = (VkWriteDescriptorSet){.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = set,
                                          .dstBinding = i, .descriptorCount = 1,
                                          .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .pBufferInfo = &bi[i]};
            if (i < n) s->bufs[s->nbufs++] = bufs[i];
        }
        vkUpdateDescriptorSets(d->dev, nbind, w, 0, NULL);
    }
    vkCmdBindPipeline(s->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipe->pipeline);
    if (nbind) vkCmdBindDescriptorSets(s->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, d->pl[nbind], 0, 1, &set, 0, NULL);
    /* split the groups into dispatches within maxComputeWorkGroupCount */
    uint64_t maxx = d->max_gx, maxy = d->max_gy;
    uint8_t push[sizeof(vk_push) + 8 * (VK_MAX_PARAMS + VK_MAX_ARGS)];
    uint32_t npush = sizeof(vk_push);
    for (uint32_t i = 0; i < n; i++) {
        if (!(p->plan.bda >> i & 1)) continue;
        VkBufferDeviceAddressInfo ai = {.sType = VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO, .buffer = bufs[i]->buf};
        uint64_t addr = vkGetBufferDeviceAddress(d->dev, &ai);
        memcpy(push + npush, &addr, 8);
        npush += 8;
    }
    for (uint32_t a = 0; a < p->nargs; a++, npush += 8) {
        uint64_t w = words ? words[a] : 0;
        memcpy(push + npush, &w, 8); /* little-endian: the low half first */
    }
    for (uint32_t pass = 0; pass < p->plan.npasses; pass++) {
        if (pass == 1) { /* the partial results, written, are read */
            VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER, .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
                                  .dstAccessMask = VK_ACCESS_SHADER_READ_BIT};
            vkCmdPipelineBarrier(s->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0,
                                 1, &mb, 0, NULL, 0, NULL);
        }
        uint64_t groups = p->plan.groups[pass];
        for (uint64_t base = 0, left = groups; left;) {
            uint64_t cx = left < maxx ? left : maxx;
            uint64_t cy = left <= maxx ? 1 : (left / maxx < maxy ? left / maxx : maxy);
            vk_push pc = {(uint32_t)base, (uint32_t)(base >> 32), (uint32_t)cx, pass, 0, 0};
            memcpy(push, &pc, sizeof pc);
            vkCmdPushConstants(s->cmd, d->pl[nbind], VK_SHADER_STAGE_COMPUTE_BIT, 0, npush, push);
            vkCmdDispatch(s->cmd, (uint32_t)cx, (uint32_t)cy, 1);
            base += cx * cy;
            left -= cx * cy;
        }
    }
    s->prog = p;
    if ((st = vk_sub_submit(d, s))) return vk_sub_abort(d, s, st);
    /* A pipeline's first launch is waited for: lavapipe compiles it then, on
     * its queue thread, and a process exiting during that compile crashes
     * inside LLVM (whose exit handlers have run). Later launches stay async. */
    if (!p->pipe->ran) {
        p->pipe->ran = true;
        return vk_retire(d, true);
    }
    vk_retire(d, false);
    return TG_OK;
}

tg_status vk_program_launch(tg_device *d, tg_program *p, tg_buffer *const *bufs, uint32_t n) {
    return launch(d, p, bufs, n, NULL);
}

tg_status vk_program_run(tg_device *d, tg_program *p, const tg_launch *l) {
    vk_clear_error(d);
    if (!p || !l || l->struct_size < offsetof(tg_launch, args) + sizeof l->args || l->nargs != p->nargs ||
        (p->nargs && !l->args))
        return vk_fail(d, TG_ERR_INVALID, "vulkan: program_run: a short launch or %u argument values for %u",
                       l ? l->nargs : 0, p ? p->nargs : 0);
    uint64_t words[VK_MAX_ARGS];
    tgl_args_pack(p->nargs, p->args, l->args, words);
    return launch(d, p, l->buffers, l->nbuffers, words);
}

void vk_run_teardown(tg_device *d) {
    vk_retire(d, true);
    vk_sub_drop_spares(d);
    while (d->pipes) {
        vk_pipe *p = d->pipes;
        d->pipes = p->next;
        vkDestroyPipeline(d->dev, p->pipeline, NULL);
        free(p);
    }
    for (uint32_t i = 0; i <= VK_MAX_PARAMS; i++) {
        if (d->pl[i]) vkDestroyPipelineLayout(d->dev, d->pl[i], NULL);
        if (d->dsl[i]) vkDestroyDescriptorSetLayout(d->dev, d->dsl[i], NULL);
    }
}
