/* plugins/vulkan/vk_plugin.c -- the vulkan plugin's entry, its function
 * table, and devices: instance, physical-device choice (TG_VULKAN_DEVICE),
 * features, memory types, the on-disk pipeline cache, caps. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "vk_device.h"
#include <tg/dtype_util.h>

static char plugin_err[512];

static const char *vkp_plugin_error(void) { return plugin_err; }

const char *vk_result_name(VkResult r) {
    switch (r) {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_NOT_READY: return "VK_NOT_READY";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_INVALID_SHADER_NV: return "VK_ERROR_INVALID_SHADER_NV";
    default: return "VkResult error";
    }
}

void vk_clear_error(tg_device *d) {
    free(d->err);
    d->err = NULL;
    d->errbuf[0] = 0;
}

tg_status vk_fail(tg_device *d, tg_status s, const char *fmt, ...) {
    va_list ap;
    vk_clear_error(d);
    va_start(ap, fmt);
    vsnprintf(d->errbuf, sizeof d->errbuf, fmt, ap);
    va_end(ap);
    return s;
}

tg_status vk_fail_owned(tg_device *d, tg_status s, char *msg) {
    vk_clear_error(d);
    if (msg) d->err = msg;
    else snprintf(d->errbuf, sizeof d->errbuf, "vulkan: out of memory while reporting an error");
    return s;
}

static const char *vkp_device_error(tg_device *d) { return d->err ? d->err : d->errbuf; }

/* ------------------------------------------------------------ instance */

static VkResult make_instance(VkInstance *out) {
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .pApplicationName = "tg",
                             .pEngineName = "tg", .apiVersion = VK_API_VERSION_1_2};
    VkInstanceCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app};
    return vkCreateInstance(&ci, NULL, out);
}

static bool has_compute_queue(VkPhysicalDevice pd, uint32_t *out_family) {
    uint32_t n = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, NULL);
    VkQueueFamilyProperties q[32];
    if (n > 32) n = 32;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, q);
    for (uint32_t i = 0; i < n; i++)
        if (q[i].queueFlags & VK_QUEUE_COMPUTE_BIT && q[i].queueCount > 0) {
            *out_family = i;
            return true;
        }
    return false;
}

/* The usable physical devices (Vulkan >= 1.1 with a compute queue), in the
 * loader's order; TG_VULKAN_DEVICE=i keeps only the i-th of them. */
static uint32_t usable_devices(VkInstance inst, VkPhysicalDevice *out, uint32_t cap) {
    uint32_t n = 0, m = 0, fam;
    VkPhysicalDevice all[16];
    if (vkEnumeratePhysicalDevices(inst, &n, NULL) != VK_SUCCESS) return 0;
    if (n > 16) n = 16;
    if (vkEnumeratePhysicalDevices(inst, &n, all) < 0) return 0;
    for (uint32_t i = 0; i < n && m < cap; i++) {
        VkPhysicalDeviceProperties p;
        vkGetPhysicalDeviceProperties(all[i], &p);
        if (p.apiVersion >= VK_API_VERSION_1_1 && has_compute_queue(all[i], &fam)) out[m++] = all[i];
    }
    const char *sel = getenv("TG_VULKAN_DEVICE");
    if (sel && *sel) {
        char *end;
        long i = strtol(sel, &end, 10);
        if (*end || i < 0 || i >= (long)m) {
            snprintf(plugin_err, sizeof plugin_err, "vulkan: TG_VULKAN_DEVICE=%s: no such device (%u usable)", sel, m);
            return 0;
        }
        out[0] = out[i];
        m = 1;
    }
    return m;
}

static tg_status vkp_device_count(uint32_t *out_count) {
    VkInstance inst;
    VkPhysicalDevice pds[16];
    plugin_err[0] = 0;
    *out_count = 0;
    VkResult r = make_instance(&inst);
    if (r != VK_SUCCESS) {
        snprintf(plugin_err, sizeof plugin_err, "vulkan: no Vulkan driver (vkCreateInstance: %s)", vk_result_name(r));
        return TG_OK;
    }
    *out_count = usable_devices(inst, pds, 16);
    if (*out_count == 0 && !plugin_err[0])
        snprintf(plugin_err, sizeof plugin_err, "vulkan: no Vulkan 1.1 device with a compute queue");
    vkDestroyInstance(inst, NULL);
    return TG_OK;
}

/* ------------------------------------------------------------- devices */

static char *cache_file(const VkPhysicalDeviceProperties *p) {
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char dir[1024];
    if (xdg && *xdg) snprintf(dir, sizeof dir, "%s/tg", xdg);
    else if (home && *home) snprintf(dir, sizeof dir, "%s/.cache/tg", home);
    else return NULL;
    size_t n = strlen(dir) + 96;
    char *path = malloc(n);
    if (path)
        snprintf(path, n, "%s/vulkan-%04x-%04x-%08x.pipelines", dir, p->vendorID, p->deviceID, p->driverVersion);
    return path;
}

static void cache_load(tg_device *d) {
    void *data = NULL;
    size_t size = 0;
    FILE *f = d->cache_path ? fopen(d->cache_path, "rb") : NULL;
    if (f) {
        if (fseek(f, 0, SEEK_END) == 0) {
            long n = ftell(f);
            if (n > 0 && n < (64l << 20) && fseek(f, 0, SEEK_SET) == 0 && (data = malloc((size_t)n)))
                size = fread(data, 1, (size_t)n, f) == (size_t)n ? (size_t)n : 0;
        }
        fclose(f);
    }
    VkPipelineCacheCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
                                    .initialDataSize = size, .pInitialData = size ? data : NULL};
    if (vkCreatePipelineCache(d->dev, &ci, NULL, &d->pcache) != VK_SUCCESS) {
        ci.initialDataSize = 0; /* a stale or foreign file: start empty */
        ci.pInitialData = NULL;
        if (vkCreatePipelineCache(d->dev, &ci, NULL, &d->pcache) != VK_SUCCESS) d->pcache = VK_NULL_HANDLE;
    }
    free(data);
}

/* Best effort: the cache only saves compile time. */
static void cache_save(tg_device *d) {
    size_t size = 0;
    if (!d->pcache || !d->cache_path) return;
    if (vkGetPipelineCacheData(d->dev, d->pcache, &size, NULL) != VK_SUCCESS || !size) return;
    void *data = malloc(size);
    if (!data) return;
    if (vkGetPipelineCacheData(d->dev, d->pcache, &size, data) == VK_SUCCESS) {
        char dir[1024], tmp[1100];
        snprintf(dir, sizeof dir, "%s", d->cache_path);
        char *slash = strrchr(dir, '/');
        if (slash) {
            *slash = 0;
            char *parent = strrchr(dir, '/');
            if (parent) { *parent = 0; mkdir(dir, 0755); *parent = '/'; }
            mkdir(dir, 0755);
        }
        snprintf(tmp, sizeof tmp, "%s.%ld.tmp", d->cache_path, (long)getpid());
        FILE *f = fopen(tmp, "wb");
        if (f) {
            bool ok = fwrite(data, 1, size, f) == size;
            ok = fclose(f) == 0 && ok;
            if (!ok || rename(tmp, d->cache_path) != 0) remove(tmp);
        }
    }
    free(data);
}

static void pick_memory(tg_device *d) {
    VkPhysicalDeviceMemoryProperties mp;
    vkGetPhysicalDeviceMemoryProperties(d->pd, &mp);
    const VkMemoryPropertyFlags hv = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    uint64_t biggest = 0;
    for (uint32_t i = 0; i < mp.memoryHeapCount; i++)
        if (mp.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT && mp.memoryHeaps[i].size > biggest)
            biggest = mp.memoryHeaps[i].size;
    d->mem_type = d->staging_type = UINT32_MAX;
    /* TG_VULKAN_STAGING=1 copies through staging buffers even where device
     * memory is host-visible (to test the path discrete GPUs take) */
    const char *stg = getenv("TG_VULKAN_STAGING");
    bool force = stg && *stg && *stg != '0';
    for (uint32_t i = 0; i < mp.memoryTypeCount && !force; i++) {
        VkMemoryPropertyFlags f = mp.memoryTypes[i].propertyFlags;
        uint64_t heap = mp.memoryHeaps[mp.memoryTypes[i].heapIndex].size;
        if ((f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) && (f & hv) == hv && heap >= biggest && !d->host_visible) {
            d->mem_type = i;
            d->host_visible = true;
            d->heap_bytes = heap;
        }
    }
    if (!d->host_visible)
        for (uint32_t i = 0; i < mp.memoryTypeCount; i++) {
            VkMemoryPropertyFlags f = mp.memoryTypes[i].propertyFlags;
            if (d->mem_type == UINT32_MAX && (f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT)) {
                d->mem_type = i;
                d->heap_bytes = mp.memoryHeaps[mp.memoryTypes[i].heapIndex].size;
            }
            if (d->staging_type == UINT32_MAX && (f & hv) == hv) d->staging_type = i;
        }
    if (d->mem_type == UINT32_MAX) d->mem_type = 0;
    if (d->host_visible) d->staging_type = d->mem_type; /* buffer_write_async to a busy buffer */
}

static tg_status vkp_device_create(uint32_t index, tg_device **out_device) {
    VkPhysicalDevice pds[16];
    plugin_err[0] = 0;
    *out_device = NULL;
    tg_device *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(plugin_err, sizeof plugin_err, "vulkan: out of memory");
        return TG_ERR_NO_MEMORY;
    }
    VkResult r = make_instance(&d->inst);
    if (r != VK_SUCCESS) {
        snprintf(plugin_err, sizeof plugin_err, "vulkan: no Vulkan driver (vkCreateInstance: %s)", vk_result_name(r));
        free(d);
        return TG_ERR_NOT_FOUND;
    }
    uint32_t n = usable_devices(d->inst, pds, 16);
    if (index >= n) {
        if (!plugin_err[0]) snprintf(plugin_err, sizeof plugin_err, "vulkan: no device %u (%u usable)", index, n);
        vkDestroyInstance(d->inst, NULL);
        free(d);
        return TG_ERR_NOT_FOUND;
    }
    d->pd = pds[index];
    has_compute_queue(d->pd, &d->qfam);
    vkGetPhysicalDeviceProperties(d->pd, &d->props);
    bool v12 = d->props.apiVersion >= VK_API_VERSION_1_2;

    /* features: what the shaders may use */
    VkPhysicalDeviceVulkan12Features f12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
    VkPhysicalDevice16BitStorageFeatures f16s = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES,
                                                 .pNext = v12 ? &f12 : NULL};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f16s};
    vkGetPhysicalDeviceFeatures2(d->pd, &f2);
    VkPhysicalDeviceFloatControlsProperties fc = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FLOAT_CONTROLS_PROPERTIES};
    VkPhysicalDeviceDriverProperties dp = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES, .pNext = &fc};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = v12 ? &dp : NULL};
    vkGetPhysicalDeviceProperties2(d->pd, &p2);
    VkPhysicalDeviceMaintenance3Properties m3 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
    VkPhysicalDeviceProperties2 p2m = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &m3};
    vkGetPhysicalDeviceProperties2(d->pd, &p2m);
    d->max_alloc = m3.maxMemoryAllocationSize;

    vk_spv_target *t = &d->target;
    t->int64 = f2.features.shaderInt64;
    t->float64 = f2.features.shaderFloat64;
    t->int16 = f2.features.shaderInt16;
    t->storage16 = f16s.storageBuffer16BitAccess;
    if (v12) {
        t->int8 = f12.shaderInt8;
        t->float16 = f12.shaderFloat16;
        t->storage8 = f12.storageBuffer8BitAccess;
        t->float_controls = true;
        t->denorm_preserve[0] = fc.shaderDenormPreserveFloat16;
        t->denorm_preserve[1] = fc.shaderDenormPreserveFloat32;
        t->denorm_preserve[2] = fc.shaderDenormPreserveFloat64;
        t->szinp[0] = fc.shaderSignedZeroInfNanPreserveFloat16;
        t->szinp[1] = fc.shaderSignedZeroInfNanPreserveFloat32;
        t->szinp[2] = fc.shaderSignedZeroInfNanPreserveFloat64;
        t->rte16 = fc.shaderRoundingModeRTEFloat16;
        /* buffers beyond maxStorageBufferRange are reached by address */
        d->bda = f12.bufferDeviceAddress && t->int64;
    }
    t->bda = d->bda;
    t->max_range = d->props.limits.maxStorageBufferRange;
    /* TG_VULKAN_MAX_RANGE lowers it (to test addressing by device address) */
    const char *mr = getenv("TG_VULKAN_MAX_RANGE");
    if (mr && atoll(mr) > 0 && (uint64_t)atoll(mr) < t->max_range) t->max_range = (uint64_t)atoll(mr);
    uint32_t wg = 256;
    const VkPhysicalDeviceLimits *lim = &d->props.limits;
    while (wg > 1 && (wg > lim->maxComputeWorkGroupInvocations || wg > lim->maxComputeWorkGroupSize[0] ||
                      wg * 8 > lim->maxComputeSharedMemorySize))
        wg /= 2;
    t->wg_size = wg;
    /* TG_VULKAN_MAX_GROUPS lowers the work groups per dispatch (to test the
     * split of large iteration spaces on small inputs) */
    d->max_gx = lim->maxComputeWorkGroupCount[0];
    d->max_gy = lim->maxComputeWorkGroupCount[1];
    const char *mg = getenv("TG_VULKAN_MAX_GROUPS");
    if (mg && atol(mg) > 0) {
        if ((unsigned long)atol(mg) < d->max_gx) d->max_gx = (uint32_t)atol(mg);
        if ((unsigned long)atol(mg) < d->max_gy) d->max_gy = (uint32_t)atol(mg);
    }
    uint32_t push_max = (uint32_t)sizeof(vk_push) + 8 * (VK_MAX_PARAMS + VK_MAX_ARGS);
    d->push_bytes = lim->maxPushConstantsSize < push_max ? lim->maxPushConstantsSize : push_max;
    d->max_params = lim->maxPerStageDescriptorStorageBuffers < VK_MAX_PARAMS ? lim->maxPerStageDescriptorStorageBuffers
                                                                              : VK_MAX_PARAMS;
    t->max_bindings = d->max_params;
    /* a GPU needs many invocations, so few outputs reduce with work-group
     * trees; a CPU device (lavapipe) is filled by a few groups, and its
     * barriers are costly */
    t->tree_outputs = d->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU ? 64 : 16384;

    /* the logical device, enabling exactly what we use */
    VkPhysicalDeviceVulkan12Features e12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                            .shaderInt8 = f12.shaderInt8, .shaderFloat16 = f12.shaderFloat16,
                                            .storageBuffer8BitAccess = f12.storageBuffer8BitAccess,
                                            .bufferDeviceAddress = d->bda};
    VkPhysicalDevice16BitStorageFeatures e16 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES,
                                                .pNext = v12 ? &e12 : NULL,
                                                .storageBuffer16BitAccess = f16s.storageBuffer16BitAccess};
    VkPhysicalDeviceFeatures2 e2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &e16};
    e2.features.shaderInt64 = t->int64;
    e2.features.shaderFloat64 = t->float64;
    e2.features.shaderInt16 = t->int16;
    float prio = 1.0f;
    VkDeviceQueueCreateInfo qci = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueFamilyIndex = d->qfam,
                                   .queueCount = 1, .pQueuePriorities = &prio};
    VkDeviceCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .pNext = &e2, .queueCreateInfoCount = 1,
                              .pQueueCreateInfos = &qci};
    r = vkCreateDevice(d->pd, &dci, NULL, &d->dev);
    if (r != VK_SUCCESS) {
        snprintf(plugin_err, sizeof plugin_err, "vulkan: vkCreateDevice(%s): %s", d->props.deviceName, vk_result_name(r));
        vkDestroyInstance(d->inst, NULL);
        free(d);
        return TG_ERR_DEVICE;
    }
    vkGetDeviceQueue(d->dev, d->qfam, 0, &d->queue);
    VkCommandPoolCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                   .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                   .queueFamilyIndex = d->qfam};
    r = vkCreateCommandPool(d->dev, &pci, NULL, &d->cpool);
    if (r != VK_SUCCESS) {
        snprintf(plugin_err, sizeof plugin_err, "vulkan: vkCreateCommandPool: %s", vk_result_name(r));
        vkDestroyDevice(d->dev, NULL);
        vkDestroyInstance(d->inst, NULL);
        free(d);
        return TG_ERR_DEVICE;
    }
    pick_memory(d);
    d->unified = d->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU ||
                 (d->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU && d->host_visible);
    snprintf(d->name, sizeof d->name, "%s", d->props.deviceName);
    if (v12) snprintf(d->driver, sizeof d->driver, "%s %s", dp.driverName, dp.driverInfo);
    else snprintf(d->driver, sizeof d->driver, "driver %u", d->props.driverVersion);
    snprintf(d->version, sizeof d->version, "Vulkan %u.%u.%u", VK_API_VERSION_MAJOR(d->props.apiVersion),
             VK_API_VERSION_MINOR(d->props.apiVersion), VK_API_VERSION_PATCH(d->props.apiVersion));
    d->cache_path = cache_file(&d->props);
    cache_load(d);
    *out_device = d;
    return TG_OK;
}

static void vkp_device_destroy(tg_device *d) {
    if (!d) return;
    vk_synchronize(d);
    cache_save(d);
    vk_run_teardown(d);
    if (d->pcache) vkDestroyPipelineCache(d->dev, d->pcache, NULL);
    vkDestroyCommandPool(d->dev, d->cpool, NULL);
    vkDestroyDevice(d->dev, NULL);
    vkDestroyInstance(d->inst, NULL);
    free(d->cache_path);
    free(d->batch_msgs);
    free(d->err);
    free(d);
}

static const char *vendor_name(uint32_t id) {
    switch (id) {
    case 0x10de: return "NVIDIA";
    case 0x1002: return "AMD";
    case 0x8086: return "Intel";
    case 0x13b5: return "ARM";
    case 0x5143: return "Qualcomm";
    case 0x10005: return "Mesa";
    default: return "unknown vendor";
    }
}

static tg_status vkp_device_caps(tg_device *d, tg_caps *caps) {
    if (!caps) return vk_fail(d, TG_ERR_INVALID, "vulkan: device_caps: caps is NULL");
    tg_caps c = {0};
    c.dtypes = vk_spv_dtypes(&d->target);
    c.fusion = TG_FUSE_ELEMENTWISE | TG_FUSE_REDUCE_INPUT | TG_FUSE_REDUCE_OUTPUT | TG_FUSE_MULTI_OUTPUT;
    c.flags = TG_CAP_ASYNC | TG_CAP_ARG_VALUES | (d->host_visible ? TG_CAP_HOST_VISIBLE : 0) | (d->unified ? TG_CAP_UNIFIED : 0);
    c.max_dims = TG_MAX_DIMS;
    c.max_params = d->max_params;
    c.max_view_depth = 16;
    c.vector_width = 16;
    c.memory_bytes = d->heap_bytes;
    c.max_buffer_bytes = d->bda ? d->max_alloc : d->props.limits.maxStorageBufferRange;
    c.max_group_size = d->props.limits.maxComputeWorkGroupInvocations;
    c.local_memory_bytes = d->props.limits.maxComputeSharedMemorySize;
    c.emulated_dtypes = c.dtypes & (1u << TG_FLOAT16 | 1u << TG_BFLOAT16); /* in float32 (README.md) */
    c.name = d->name;
    c.vendor = vendor_name(d->props.vendorID);
    c.version = d->version;
    c.driver = d->driver;
    tgp_caps_copy(caps, &c);
    return TG_OK;
}

/* --------------------------------------------------------------- table */

static tg_status vkp_buffer_create(tg_device *d, uint64_t bytes, tg_buffer **out) {
    vk_clear_error(d);
    return vk_buffer_create(d, bytes, out);
}

static const tg_plugin_api vk_api = {
    .abi_major = TG_ABI_MAJOR,
    .abi_minor = TG_ABI_MINOR,
    .struct_size = sizeof(tg_plugin_api),
    .name = "vulkan",
    .version = "0.1.0",
    .description = "SPIR-V kernels through SPIRV-Tools, run with Vulkan compute",
    .plugin_error = vkp_plugin_error,
    .device_count = vkp_device_count,
    .device_create = vkp_device_create,
    .device_destroy = vkp_device_destroy,
    .device_error = vkp_device_error,
    .device_caps = vkp_device_caps,
    .buffer_create = vkp_buffer_create,
    .buffer_destroy = vk_buffer_destroy,
    .buffer_write = vk_buffer_write,
    .buffer_read = vk_buffer_read,
    .program_create = vk_program_create,
    .program_create_batch = vk_program_create_batch,
    .program_destroy = vk_program_destroy,
    .program_launch = vk_program_launch,
    .synchronize = vk_synchronize,
    .buffer_copy = vk_buffer_copy,
    .buffer_map = vk_buffer_map,
    .program_source = vk_program_source,
    .program_run = vk_program_run,
    .buffer_map_range = vk_buffer_map_range,
    .buffer_unmap = vk_buffer_unmap,
    .buffer_write_async = vk_buffer_write_async,
};

TG_PLUGIN_EXPORT const tg_plugin_api *tg_plugin_entry(uint32_t core_major, uint32_t core_minor,
                                                      const char **out_reason) {
    (void)core_minor;
    if (core_major != TG_ABI_MAJOR) {
        if (out_reason) *out_reason = "vulkan plugin speaks tg ABI 1.x only";
        return NULL;
    }
    return &vk_api;
}
