/* plugins/vulkan/vk_device.h -- the Vulkan runtime's objects, shared by
 * vk_plugin.c (plugin, devices, caps) and vk_run.c (buffers, programs,
 * submissions). */
#ifndef TG_VK_DEVICE_H
#define TG_VK_DEVICE_H

#include <vulkan/vulkan.h>
#include "vk_internal.h"

#define VK_MAX_PARAMS 64
#define VK_MAX_ARGS 16 /* kernel arguments: a word each in push constants */

/* One command buffer in flight and what it keeps alive. */
typedef struct vk_sub {
    VkFence fence;
    VkCommandBuffer cmd;
    VkDescriptorPool dpool;
    VkBuffer staging;
    VkDeviceMemory staging_mem;
    tg_buffer *bufs[VK_MAX_PARAMS];
    uint32_t nbufs;
    tg_program *prog;
    struct vk_sub *next;
} vk_sub;

/* A compute pipeline, cached for the device's life by a hash of its SPIR-V. */
typedef struct vk_pipe {
    uint64_t key;
    size_t nwords;
    VkPipeline pipeline;
    bool ran;           /* its first launch has completed (see launch) */
    struct vk_pipe *next;
} vk_pipe;

struct tg_buffer {
    VkBuffer buf;
    VkDeviceMemory mem;
    void *map;          /* persistent mapping where memory is host-visible */
    uint64_t size;      /* bytes asked for                                 */
    uint64_t alloc;     /* bytes of the VkBuffer (>= 4, multiple of 4)     */
    uint32_t busy;      /* submissions in flight that use it               */
    bool dead;          /* destroyed by the core while busy                */
    void *mtmp;         /* buffer_map_range's host copy where memory is not
                           host-visible: [moff, moff + mbytes), mflags      */
    uint64_t moff, mbytes;
    uint32_t mflags;
};

struct tg_program {
    vk_pipe *pipe;
    tg_buffer *scratch; /* partial results of a split reduction, or NULL   */
    uint32_t nparams;
    uint32_t nargs;
    tg_arg args[VK_MAX_ARGS];
    vk_spv_plan plan;
    char *text;         /* the SPIR-V assembly we generated                */
    uint32_t busy;
    bool dead;
};

struct tg_device {
    VkInstance inst;
    VkPhysicalDevice pd;
    VkDevice dev;
    VkQueue queue;
    uint32_t qfam;
    VkPhysicalDeviceProperties props;
    uint32_t mem_type, staging_type;
    bool host_visible, unified;
    bool bda;                /* buffers have device addresses              */
    uint32_t push_bytes;     /* push-constant range of every layout        */
    uint64_t heap_bytes;
    uint64_t max_alloc;      /* maxMemoryAllocationSize                    */
    vk_spv_target target;
    VkCommandPool cpool;
    VkPipelineCache pcache;
    char *cache_path;
    vk_sub *subs, *subs_tail;
    vk_sub *spare;           /* retired submissions kept for reuse         */
    uint32_t nspare;
    VkDescriptorSetLayout dsl[VK_MAX_PARAMS + 1];
    VkPipelineLayout pl[VK_MAX_PARAMS + 1];
    vk_pipe *pipes;
    uint32_t max_params;
    uint32_t max_gx, max_gy; /* work groups per dispatch in x and y        */
    char *err;          /* malloc'd long message, or NULL: then errbuf     */
    char errbuf[512];
    char *batch_msgs;   /* the last program_create_batch's messages, 512 each */
    char name[VK_MAX_PHYSICAL_DEVICE_NAME_SIZE];
    char driver[2 * VK_MAX_DRIVER_NAME_SIZE + 8];
    char version[64];
};

const char *vk_result_name(VkResult r);
/* Set the device's message (printf-style) and return status. */
tg_status vk_fail(tg_device *d, tg_status s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Take ownership of a malloc'd message. */
tg_status vk_fail_owned(tg_device *d, tg_status s, char *msg);
void vk_clear_error(tg_device *d);

/* vk_run.c: submissions (each a command buffer with its fence) */
tg_status vk_sub_begin(tg_device *d, vk_sub **out);
tg_status vk_sub_submit(tg_device *d, vk_sub *s);
tg_status vk_sub_abort(tg_device *d, vk_sub *s, tg_status st);
void vk_sub_drop_spares(tg_device *d);
/* Retire finished submissions in order; wait for all if `all`. */
tg_status vk_retire(tg_device *d, bool all);
/* vk_run.c: buffers; vk_program.c: programs */
tg_status vk_buffer_create(tg_device *d, uint64_t bytes, tg_buffer **out);
void vk_buffer_destroy(tg_device *d, tg_buffer *b);
void vk_program_free(tg_device *d, tg_program *p); /* now, not deferred */
tg_status vk_buffer_write(tg_device *d, tg_buffer *b, uint64_t off, const void *src, uint64_t bytes);
tg_status vk_buffer_read(tg_device *d, tg_buffer *b, uint64_t off, void *dst, uint64_t bytes);
tg_status vk_buffer_copy(tg_device *d, tg_buffer *dst, uint64_t doff, tg_buffer *src, uint64_t soff, uint64_t bytes);
tg_status vk_buffer_map(tg_device *d, tg_buffer *b, void **out);
tg_status vk_buffer_write_async(tg_device *d, tg_buffer *b, uint64_t off, const void *src, uint64_t bytes);
tg_status vk_buffer_map_range(tg_device *d, tg_buffer *b, uint64_t off, uint64_t bytes, uint32_t flags, void **out);
tg_status vk_buffer_unmap(tg_device *d, tg_buffer *b, void *ptr);
tg_status vk_program_create(tg_device *d, const tg_kernel *k, tg_program **out);
tg_status vk_program_create_batch(tg_device *d, uint32_t n, const tg_kernel *const *ks, tg_program **out,
                                  tg_status *out_st, const char **out_msg);
void vk_program_destroy(tg_device *d, tg_program *p);
tg_status vk_program_launch(tg_device *d, tg_program *p, tg_buffer *const *bufs, uint32_t n);
tg_status vk_program_run(tg_device *d, tg_program *p, const tg_launch *l);
const char *vk_program_source(tg_device *d, tg_program *p);
tg_status vk_synchronize(tg_device *d);
/* Wait for all work, free pipelines and layouts (vk_program.c). */
void vk_run_teardown(tg_device *d);

#endif
