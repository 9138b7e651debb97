/* plugins/vulkan/vk_run.c -- buffers, programs and asynchronous work.
 *
 * Every launch, copy and staged write is one command buffer submitted with
 * its own fence; submissions are kept in a FIFO and retired in order. A
 * buffer or program destroyed while a submission uses it is only marked and
 * freed when that submission retires. Each command buffer opens with a
 * global memory barrier, so work on the device runs in call order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vk_device.h"

#define CHECK(d, call, status)                                                        \
    do {                                                                              \
        VkResult r_ = (call);                                                         \
        if (r_ != VK_SUCCESS)                                                         \
            return vk_fail(d, status, "vulkan: %s: %s", #call, vk_result_name(r_));    \
    } while (0)

/* ------------------------------------------------------- submissions */

static void buffer_free(tg_device *d, tg_buffer *b) {
    free(b->mtmp);
    if (b->map) vkUnmapMemory(d->dev, b->mem);
    vkDestroyBuffer(d->dev, b->buf, NULL);
    vkFreeMemory(d->dev, b->mem, NULL);
    free(b);
}


static void sub_destroy(tg_device *d, vk_sub *s) {
    if (s->dpool) vkDestroyDescriptorPool(d->dev, s->dpool, NULL);
    if (s->cmd) vkFreeCommandBuffers(d->dev, d->cpool, 1, &s->cmd);
    if (s->fence) vkDestroyFence(d->dev, s->fence, NULL);
    free(s);
}

/* Release what a retired (or aborted) submission holds, and keep its fence,
 * command buffer and descriptor pool for a later one. */
static void sub_free(tg_device *d, vk_sub *s) {
    for (uint32_t i = 0; i < s->nbufs; i++) {
        tg_buffer *b = s->bufs[i];
        if (--b->busy == 0 && b->dead) buffer_free(d, b);
    }
    if (s->prog && --s->prog->busy == 0 && s->prog->dead) vk_program_free(d, s->prog);
    if (s->staging) vkDestroyBuffer(d->dev, s->staging, NULL);
    if (s->staging_mem) vkFreeMemory(d->dev, s->staging_mem, NULL);
    if (s->dpool) vkResetDescriptorPool(d->dev, s->dpool, 0);
    s->nbufs = 0;
    s->prog = NULL;
    s->staging = VK_NULL_HANDLE;
    s->staging_mem = VK_NULL_HANDLE;
    if (d->nspare >= 32 || !s->cmd || !s->fence) {
        sub_destroy(d, s);
        return;
    }
    s->next = d->spare;
    d->spare = s;
    d->nspare++;
}

void vk_sub_drop_spares(tg_device *d) {
    while (d->spare) {
        vk_sub *s = d->spare;
        d->spare = s->next;
        sub_destroy(d, s);
    }
    d->nspare = 0;
}

/* Retire finished submissions, oldest first; wait for all if `all`. */
tg_status vk_retire(tg_device *d, bool all) {
    tg_status st = TG_OK;
    while (d->subs) {
        vk_sub *s = d->subs;
        VkResult r = all ? vkWaitForFences(d->dev, 1, &s->fence, VK_TRUE, UINT64_MAX) : vkGetFenceStatus(d->dev, s->fence);
        if (r == VK_NOT_READY || r == VK_TIMEOUT) break;
        if (r != VK_SUCCESS) st = vk_fail(d, TG_ERR_DEVICE, "vulkan: waiting for a submission: %s", vk_result_name(r));
        d->subs = s->next;
        if (!d->subs) d->subs_tail = NULL;
        sub_free(d, s);
        if (st) break;
    }
    return st;
}

tg_status vk_synchronize(tg_device *d) { return vk_retire(d, true); }

/* A new submission with a recording command buffer that opens with the
 * ordering barrier. */
tg_status vk_sub_begin(tg_device *d, vk_sub **out) {
    vk_sub *s = d->spare;
    if (s) { /* a recycled one: its command buffer resets when it begins */
        d->spare = s->next;
        d->nspare--;
        s->next = NULL;
        *out = s;
        CHECK(d, vkResetFences(d->dev, 1, &s->fence), TG_ERR_DEVICE);
    } else {
        s = calloc(1, sizeof *s);
        if (!s) return vk_fail(d, TG_ERR_NO_MEMORY, "vulkan: out of host memory");
        *out = s;
        VkCommandBufferAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                          .commandPool = d->cpool, .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                          .commandBufferCount = 1};
        CHECK(d, vkAllocateCommandBuffers(d->dev, &ai, &s->cmd), TG_ERR_DEVICE);
        VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
        CHECK(d, vkCreateFence(d->dev, &fi, NULL, &s->fence), TG_ERR_DEVICE);
    }
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    CHECK(d, vkBeginCommandBuffer(s->cmd, &bi), TG_ERR_DEVICE);
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_HOST_WRITE_BIT |
                                           VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_TRANSFER_READ_BIT,
                          .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                                           VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT};
    vkCmdPipelineBarrier(s->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_HOST_BIT,
                         VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
    return TG_OK;
}

/* Close the command buffer (making writes visible to the host) and submit. */
tg_status vk_sub_submit(tg_device *d, vk_sub *s) {
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
    vkCmdPipelineBarrier(s->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
    CHECK(d, vkEndCommandBuffer(s->cmd), TG_ERR_DEVICE);
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &s->cmd};
    CHECK(d, vkQueueSubmit(d->queue, 1, &si, s->fence), TG_ERR_DEVICE);
    for (uint32_t i = 0; i < s->nbufs; i++) s->bufs[i]->busy++;
    if (s->prog) s->prog->busy++;
    if (d->subs_tail) d->subs_tail->next = s;
    else d->subs = s;
    d->subs_tail = s;
    return TG_OK;
}

/* On failure before submission: free what the submission holds (it holds
 * no busy counts yet). */
tg_status vk_sub_abort(tg_device *d, vk_sub *s, tg_status st) {
    if (s) {
        s->nbufs = 0;
        s->prog = NULL;
        sub_free(d, s);
    }
    return st;
}

/* ---------------------------------------------------------- buffers */

static tg_status make_buffer(tg_device *d, uint64_t bytes, uint32_t type, VkBuffer *out_buf, VkDeviceMemory *out_mem) {
    VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = bytes,
                              .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                       VK_BUFFER_USAGE_TRANSFER_DST_BIT |
                                       (d->bda ? VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT : 0),
                              .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    VkResult r = vkCreateBuffer(d->dev, &bci, NULL, out_buf);
    if (r != VK_SUCCESS) return vk_fail(d, TG_ERR_NO_MEMORY, "vulkan: vkCreateBuffer(%llu bytes): %s",
                                        (unsigned long long)bytes, vk_result_name(r));
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(d->dev, *out_buf, &req);
    if (!(req.memoryTypeBits >> type & 1)) {
        vkDestroyBuffer(d->dev, *out_buf, NULL);
        return vk_fail(d, TG_ERR_DEVICE, "vulkan: buffers cannot use memory type %u", type);
    }
    VkMemoryAllocateFlagsInfo fi = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO,
                                    .flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT};
    VkMemoryAllocateInfo mai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .pNext = d->bda ? &fi : NULL,
                                .allocationSize = req.size, .memoryTypeIndex = type};
    r = vkAllocateMemory(d->dev, &mai, NULL, out_mem);
    if (r != VK_SUCCESS) {
        vkDestroyBuffer(d->dev, *out_buf, NULL);
        return vk_fail(d, TG_ERR_NO_MEMORY, "vulkan: vkAllocateMemory(%llu bytes): %s", (unsigned long long)req.size,
                       vk_result_name(r));
    }
    r = vkBindBufferMemory(d->dev, *out_buf, *out_mem, 0);
    if (r != VK_SUCCESS) {
        vkDestroyBuffer(d->dev, *out_buf, NULL);
        vkFreeMemory(d->dev, *out_mem, NULL);
        return vk_fail(d, TG_ERR_DEVICE, "vulkan: vkBindBufferMemory: %s", vk_result_name(r));
    }
    return TG_OK;
}

tg_status vk_buffer_create(tg_device *d, uint64_t bytes, tg_buffer **out) {
    *out = NULL;
    if (bytes > UINT64_MAX - 8) return vk_fail(d, TG_ERR_INVALID, "vulkan: buffer_create: size %llu too large",
                                              (unsigned long long)bytes);
    tg_buffer *b = calloc(1, sizeof *b);
    if (!b) return vk_fail(d, TG_ERR_NO_MEMORY, "vulkan: out of host memory");
    b->size = bytes;
    b->alloc = bytes < 4 ? 4 : (bytes + 3) & ~UINT64_C(3);
    tg_status s = make_buffer(d, b->alloc, d->mem_type, &b->buf, &b->mem);
    if (s) {
        free(b);
        return s;
    }
    if (d->host_visible) {
        VkResult r = vkMapMemory(d->dev, b->mem, 0, VK_WHOLE_SIZE, 0, &b->map);
        if (r != VK_SUCCESS) {
            buffer_free(d, b);
            return vk_fail(d, TG_ERR_DEVICE, "vulkan: vkMapMemory: %s", vk_result_name(r));
        }
    }
    *out = b;
    return TG_OK;
}

void vk_buffer_destroy(tg_device *d, tg_buffer *b) {
    if (!b) return;
    vk_retire(d, false);
    if (b->busy) b->dead = true;
    else buffer_free(d, b);
}

static tg_status check_range(tg_device *d, const char *what, tg_buffer *b, uint64_t off, uint64_t bytes) {
    if (!b) return vk_fail(d, TG_ERR_INVALID, "vulkan: %s: NULL buffer", what);
    if (off > b->size || bytes > b->size - off)
        return vk_fail(d, TG_ERR_INVALID, "vulkan: %s: range [%llu, +%llu) outside a buffer of %llu bytes", what,
                       (unsigned long long)off, (unsigned long long)bytes, (unsigned long long)b->size);
    return TG_OK;
}

/* A host-visible staging buffer attached to a new submission. */
static tg_status staging(tg_device *d, vk_sub *s, uint64_t bytes, void **map) {
    if (d->staging_type == UINT32_MAX) return vk_fail(d, TG_ERR_DEVICE, "vulkan: no host-visible memory for staging");
    tg_status st = make_buffer(d, bytes < 4 ? 4 : bytes, d->staging_type, &s->staging, &s->staging_mem);
    if (st) {
        s->staging = VK_NULL_HANDLE;
        s->staging_mem = VK_NULL_HANDLE;
        return st;
    }
    CHECK(d, vkMapMemory(d->dev, s->staging_mem, 0, VK_WHOLE_SIZE, 0, map), TG_ERR_DEVICE);
    return TG_OK;
}

/* A buffer in host-visible memory is written in place, after the work that
 * uses it; unless `wait` is false: then through staging, like other memory. */
static tg_status write_buffer(tg_device *d, tg_buffer *b, uint64_t off, const void *src, uint64_t bytes, bool wait) {
    vk_clear_error(d);
    tg_status st = check_range(d, "buffer_write", b, off, bytes);
    if (st || !bytes) return st;
    if (b->map && (wait || !b->busy)) {
        /* earlier work may still read or write it: wait for that first */
        if (b->busy && (st = vk_retire(d, true))) return st;
        memcpy((char *)b->map + off, src, bytes);
        return TG_OK;
    }
    vk_sub *s = NULL;
    void *map;
    if ((st = vk_sub_begin(d, &s)) || (st = staging(d, s, bytes, &map))) return vk_sub_abort(d, s, st);
    memcpy(map, src, bytes);
    VkBufferCopy region = {.srcOffset = 0, .dstOffset = off, .size = bytes};
    vkCmdCopyBuffer(s->cmd, s->staging, b->buf, 1, &region);
    s->bufs[s->nbufs++] = b;
    if ((st = vk_sub_submit(d, s))) return vk_sub_abort(d, s, st);
    return TG_OK;
}

tg_status vk_buffer_write(tg_device *d, tg_buffer *b, uint64_t off, const void *src, uint64_t bytes) {
    return write_buffer(d, b, off, src, bytes, true);
}

tg_status vk_buffer_write_async(tg_device *d, tg_buffer *b, uint64_t off, const void *src, uint64_t bytes) {
    return write_buffer(d, b, off, src, bytes, false);
}

tg_status vk_buffer_read(tg_device *d, tg_buffer *b, uint64_t off, void *dst, uint64_t bytes) {
    vk_clear_error(d);
    tg_status st = check_range(d, "buffer_read", b, off, bytes);
    if (st || (st = vk_retire(d, true)) || !bytes) return st;
    if (b->map) {
        memcpy(dst, (char *)b->map + off, bytes);
        return TG_OK;
    }
    vk_sub *s = NULL;
    void *map;
    if ((st = vk_sub_begin(d, &s)) || (st = staging(d, s, bytes, &map))) return vk_sub_abort(d, s, st);
    VkBufferCopy region = {.srcOffset = off, .dstOffset = 0, .size = bytes};
    vkCmdCopyBuffer(s->cmd, b->buf, s->staging, 1, &region);
    s->bufs[s->nbufs++] = b;
    if ((st = vk_sub_submit(d, s))) return vk_sub_abort(d, s, st);
    /* copy out before retiring: that frees the staging memory */
    VkResult r = vkWaitForFences(d->dev, 1, &s->fence, VK_TRUE, UINT64_MAX);
    if (r != VK_SUCCESS) return vk_fail(d, TG_ERR_DEVICE, "vulkan: waiting for a read: %s", vk_result_name(r));
    memcpy(dst, map, bytes);
    return vk_retire(d, true);
}

tg_status vk_buffer_copy(tg_device *d, tg_buffer *dst, uint64_t doff, tg_buffer *src, uint64_t soff, uint64_t bytes) {
    vk_clear_error(d);
    tg_status st = check_range(d, "buffer_copy (dst)", dst, doff, bytes);
    if (st || (st = check_range(d, "buffer_copy (src)", src, soff, bytes)) || !bytes) return st;
    if (dst == src && soff < doff + bytes && doff < soff + bytes) {
        /* Vulkan forbids overlapping regions: go through the host */
        void *tmp = malloc(bytes);
        if (!tmp) return vk_fail(d, TG_ERR_NO_MEMORY, "vulkan: out of host memory");
        st = vk_buffer_read(d, src, soff, tmp, bytes);
        if (!st) st = vk_buffer_write(d, dst, doff, tmp, bytes);
        free(tmp);
        return st;
    }
    vk_sub *s = NULL;
    if ((st = vk_sub_begin(d, &s))) return vk_sub_abort(d, s, st);
    VkBufferCopy region = {.srcOffset = soff, .dstOffset = doff, .size = bytes};
    vkCmdCopyBuffer(s->cmd, src->buf, dst->buf, 1, &region);
    s->bufs[s->nbufs++] = dst;
    s->bufs[s->nbufs++] = src;
    if ((st = vk_sub_submit(d, s))) return vk_sub_abort(d, s, st);
    vk_retire(d, false);
    return TG_OK;
}

tg_status vk_buffer_map(tg_device *d, tg_buffer *b, void **out) {
    vk_clear_error(d);
    if (!b || !b->map) return vk_fail(d, TG_ERR_UNSUPPORTED, "vulkan: buffer_map: this device's memory is not host-visible");
    *out = b->map;
    return TG_OK;
}

/* Host-visible memory is mapped in place, after the work that uses the
 * buffer (all work for a read); other memory through a host copy, read here
 * and written back at unmap. */
tg_status vk_buffer_map_range(tg_device *d, tg_buffer *b, uint64_t off, uint64_t bytes, uint32_t flags, void **out) {
    vk_clear_error(d);
    tg_status st = check_range(d, "buffer_map_range", b, off, bytes);
    if (st || ((flags & TG_MAP_READ || b->busy) && (st = vk_retire(d, true)))) return st;
    if (b->mtmp) return vk_fail(d, TG_ERR_INVALID, "vulkan: buffer_map_range: the buffer is mapped already");
    if (b->map) {
        *out = (char *)b->map + off;
        return TG_OK;
    }
    if (!(b->mtmp = malloc(bytes ? bytes : 1))) return vk_fail(d, TG_ERR_NO_MEMORY, "vulkan: out of host memory");
    if ((flags & TG_MAP_READ) && (st = vk_buffer_read(d, b, off, b->mtmp, bytes))) {
        free(b->mtmp);
        b->mtmp = NULL;
        return st;
    }
    b->moff = off, b->mbytes = bytes, b->mflags = flags;
    *out = b->mtmp;
    return TG_OK;
}

tg_status vk_buffer_unmap(tg_device *d, tg_buffer *b, void *ptr) {
    vk_clear_error(d);
    if (!b || !ptr) return vk_fail(d, TG_ERR_INVALID, "vulkan: buffer_unmap: NULL argument");
    tg_status st = b->mtmp && (b->mflags & TG_MAP_WRITE) ? vk_buffer_write(d, b, b->moff, b->mtmp, b->mbytes) : TG_OK;
    free(b->mtmp);
    b->mtmp = NULL;
    return st;
}
