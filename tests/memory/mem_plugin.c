/* A plugin that forwards to the ref plugin (dlopen'd from $TG_PROXY_REF)
 * with one way of moving memory, to see which one the core picks and that
 * it keeps to each one's rules. Compiled once per mode:
 *
 *  MEM_MAP    buffer_map_range/buffer_unmap through a host copy that is
 *             freed at unmap (a use after unmap is a use after free), no
 *             buffer_map, not host-visible.
 *  MEM_ASYNC  buffer_write_async that copies nothing until the next call
 *             that waits (synchronize, buffer_read) or the next work that
 *             could see the data: it reads `src` then, so a source the core
 *             freed too early is a use after free (ASan) or garbage.
 *  MEM_HV     buffer_map and TG_CAP_HOST_VISIBLE (1.0's way), with a
 *             synchronize that counts.
 *  MEM_PLAIN  none of them: buffer_read/buffer_write only.
 *  MEM_LOSE   with MEM_MAP: unmap drops what the host wrote (a bug that
 *             the conformance cases must catch).
 *
 * tg_memtest_count(slot) says how often a slot was called. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tg/plugin.h>

static const tg_plugin_api *ref;
static tg_plugin_api table;

#define UNUSED __attribute__((unused)) /* each mode uses some of the slots */

enum { C_WRITE, C_READ, C_ASYNC, C_MAP_READ, C_MAP_WRITE, C_UNMAP, C_MAP, C_SYNC, C_COUNT };
static const char *const count_names[C_COUNT] = {"buffer_write", "buffer_read", "buffer_write_async",
                                                 "map_read", "map_write", "buffer_unmap", "buffer_map",
                                                 "synchronize"};
static unsigned counts[C_COUNT];

__attribute__((visibility("default"))) unsigned tg_memtest_count(const char *slot);
__attribute__((visibility("default"))) unsigned tg_memtest_count(const char *slot) {
    for (int i = 0; i < C_COUNT; i++)
        if (strcmp(slot, count_names[i]) == 0) return counts[i];
    return 0;
}

/* ------------------------------------------------- deferred writes */

typedef struct pending {
    tg_buffer *buffer;
    uint64_t offset, bytes;
    const void *src;
} pending;
static pending queue[256];
static int nqueue;

static tg_status flush(tg_device *d) {
    tg_status st = TG_OK;
    for (int i = 0; i < nqueue && st == TG_OK; i++)
        st = ref->buffer_write(d, queue[i].buffer, queue[i].offset, queue[i].src, queue[i].bytes);
    nqueue = 0;
    return st;
}

UNUSED static tg_status mem_write_async(tg_device *d, tg_buffer *b, uint64_t off, const void *src, uint64_t bytes) {
    counts[C_ASYNC]++;
    if (nqueue == 256) return TG_ERR_NO_MEMORY;
    queue[nqueue++] = (pending){b, off, bytes, src};
    return TG_OK;
}

static tg_status mem_write(tg_device *d, tg_buffer *b, uint64_t off, const void *src, uint64_t bytes) {
    counts[C_WRITE]++;
    tg_status st = flush(d);
    return st ? st : ref->buffer_write(d, b, off, src, bytes);
}

static tg_status mem_read(tg_device *d, tg_buffer *b, uint64_t off, void *dst, uint64_t bytes) {
    counts[C_READ]++;
    tg_status st = flush(d);
    return st ? st : ref->buffer_read(d, b, off, dst, bytes);
}

static tg_status mem_sync(tg_device *d) {
    counts[C_SYNC]++;
    return flush(d);
}

static tg_status mem_launch(tg_device *d, tg_program *p, tg_buffer *const *bufs, uint32_t n) {
    tg_status st = flush(d);
    return st ? st : ref->program_launch(d, p, bufs, n);
}

static tg_status mem_copy(tg_device *d, tg_buffer *dst, uint64_t doff, tg_buffer *src, uint64_t soff, uint64_t n) {
    tg_status st = flush(d);
    return st ? st : ref->buffer_copy(d, dst, doff, src, soff, n);
}

/* a deferred write to it is work in flight that uses it: done first */
static void mem_buffer_destroy(tg_device *d, tg_buffer *b) {
    flush(d);
    ref->buffer_destroy(d, b);
}

static void mem_device_destroy(tg_device *d) {
    flush(d);
    ref->device_destroy(d);
}

/* ------------------------------------------------------ mappings */

typedef struct mapping {
    tg_buffer *buffer;
    uint64_t offset, bytes;
    uint32_t flags;
    void *copy;
} mapping;
static mapping maps[64];

UNUSED static tg_status mem_map_range(tg_device *d, tg_buffer *b, uint64_t off, uint64_t bytes, uint32_t flags, void **out) {
    counts[flags & TG_MAP_WRITE ? C_MAP_WRITE : C_MAP_READ]++;
    int i = 0;
    while (i < 64 && maps[i].buffer) i++;
    if (i == 64 || !bytes) return TG_ERR_INVALID;
    void *copy = malloc(bytes);
    memset(copy, 0x5a, bytes); /* without TG_MAP_READ the contents are not the buffer's */
    tg_status st = flags & TG_MAP_READ ? mem_read(d, b, off, copy, bytes) : TG_OK;
    if (st != TG_OK) {
        free(copy);
        return st;
    }
    maps[i] = (mapping){b, off, bytes, flags, copy};
    *out = copy;
    return TG_OK;
}

UNUSED static tg_status mem_unmap(tg_device *d, tg_buffer *b, void *ptr) {
    counts[C_UNMAP]++;
    for (int i = 0; i < 64; i++) {
        if (maps[i].buffer != b || maps[i].copy != ptr) continue;
        tg_status st = TG_OK;
#ifndef MEM_LOSE /* a broken plugin: what the host wrote is lost */
        if (maps[i].flags & TG_MAP_WRITE) st = mem_write(d, b, maps[i].offset, ptr, maps[i].bytes);
#endif
        free(ptr);
        memset(&maps[i], 0, sizeof maps[i]);
        return st;
    }
    return TG_ERR_INVALID;
}

UNUSED static tg_status mem_map(tg_device *d, tg_buffer *b, void **out) {
    counts[C_MAP]++;
    return ref->buffer_map(d, b, out);
}

static tg_status mem_caps(tg_device *d, tg_caps *caps) {
    tg_status st = ref->device_caps(d, caps);
#ifndef MEM_HV
    caps->flags &= ~(uint32_t)TG_CAP_HOST_VISIBLE;
#endif
    return st;
}

TG_PLUGIN_EXPORT const tg_plugin_api *tg_plugin_entry(uint32_t major, uint32_t minor, const char **why) {
    if (!ref) {
        const char *path = getenv("TG_PROXY_REF");
        void *dl = path ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : NULL;
        tg_plugin_entry_fn entry = dl ? (tg_plugin_entry_fn)dlsym(dl, TG_PLUGIN_ENTRY_NAME) : NULL;
        ref = entry ? entry(major, minor, why) : NULL;
        if (!ref) {
            *why = "set TG_PROXY_REF to the ref plugin";
            return NULL;
        }
        table = *ref;
        table.name = MEM_NAME;
        table.device_caps = mem_caps;
        table.device_destroy = mem_device_destroy;
        table.buffer_destroy = mem_buffer_destroy;
        table.buffer_write = mem_write;
        table.buffer_read = mem_read;
        table.buffer_copy = mem_copy;
        table.program_launch = mem_launch;
        table.synchronize = mem_sync;
        table.buffer_map = NULL;
        table.buffer_map_range = NULL;
        table.buffer_unmap = NULL;
        table.buffer_write_async = NULL;
#if defined(MEM_MAP)
        table.buffer_map_range = mem_map_range;
        table.buffer_unmap = mem_unmap;
#elif defined(MEM_ASYNC)
        table.buffer_write_async = mem_write_async;
#elif defined(MEM_HV)
        table.buffer_map = mem_map;
#endif
    }
    return &table;
}
