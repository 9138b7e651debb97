/* A small plugin compiled several times, once per FAKE_* kind, to give the
 * loader tests good and broken plugins. The good ones have one device with
 * host-memory buffers and run no kernels. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <tg/plugin.h>

#define UNUSED __attribute__((unused))
/* A real SIGSEGV, without UBSan's report of the null store first. */
#define CRASHES __attribute__((no_sanitize("undefined")))

#ifndef FAKE_NAME
#error "define FAKE_NAME"
#endif

struct tg_device { char error[128]; };
struct tg_buffer { uint64_t bytes; unsigned char *data; };

#if defined(FAKE_NULL_MESSAGE)
static const char *fake_plugin_error(void) { return NULL; }
#elif defined(FAKE_HUGE_MESSAGE)
/* 16 MiB of 'x': a caller must not print it whole. */
static const char *fake_plugin_error(void) {
    static char *huge;
    if (!huge && (huge = malloc(16u << 20))) {
        memset(huge, 'x', (16u << 20) - 1);
        huge[(16u << 20) - 1] = '\0';
    }
    return huge ? huge : "out of memory";
}
#else
static const char *fake_plugin_error(void) { return ""; }
#endif

#ifdef FAKE_THREAD
/* A worker that outlives the device (and the plugin's dlclose): its code
 * must still be mapped when it wakes up. */
static void *fake_late_worker(void *arg) {
    struct timespec t = {0, 300 * 1000 * 1000};
    nanosleep(&t, NULL);
    return arg;
}
#endif

#ifdef FAKE_RACY
/* Detects two plugin-level calls at once (plugin.h: the core serialises them). */
static int fake_inside;
static tg_status fake_check_alone(void) {
    int before = __atomic_fetch_add(&fake_inside, 1, __ATOMIC_SEQ_CST);
    struct timespec t = {0, 2 * 1000 * 1000};
    nanosleep(&t, NULL);
    __atomic_fetch_sub(&fake_inside, 1, __ATOMIC_SEQ_CST);
    return before ? TG_ERR_INTERNAL : TG_OK;
}
#endif

#ifdef FAKE_CTOR_CRASH
/* Runs at dlopen, before the loader sees any symbol. */
__attribute__((constructor)) CRASHES static void fake_crash_at_load(void) {
    volatile int *volatile nowhere = NULL; /* volatile: the store must happen */
    *nowhere = 1;
}
#endif

CRASHES static tg_status fake_device_count(uint32_t *out_count) {
#ifdef FAKE_COUNT_CRASH
    volatile int *volatile nowhere = NULL; /* volatile: the store must happen */
    *nowhere = 1;
#endif
    *out_count = 1;
#if defined(FAKE_NULL_MESSAGE) || defined(FAKE_HUGE_MESSAGE)
    return TG_ERR_DEVICE;
#elif defined(FAKE_RACY)
    return fake_check_alone();
#else
    return TG_OK;
#endif
}

static tg_status fake_device_create(uint32_t index, tg_device **out_device) {
    if (index != 0) return TG_ERR_NOT_FOUND;
#ifdef FAKE_NULL_DEVICE
    *out_device = NULL; /* and says TG_OK: a plugin bug the core must catch */
    return TG_OK;
#endif
#ifdef FAKE_THREAD
    pthread_t worker;
    if (pthread_create(&worker, NULL, fake_late_worker, NULL) == 0) pthread_detach(worker);
#endif
#ifdef FAKE_RACY
    if (fake_check_alone()) return TG_ERR_INTERNAL;
#endif
    *out_device = calloc(1, sizeof **out_device);
    return *out_device ? TG_OK : TG_ERR_NO_MEMORY;
}

static void fake_device_destroy(tg_device *d) { free(d); }

static const char *fake_device_error(tg_device *d) { return d->error; }

CRASHES static tg_status fake_device_caps(tg_device *d, tg_caps *caps) {
#ifdef FAKE_CAPS_CRASH
    volatile int *volatile nowhere = NULL; /* volatile: the store must happen */
    *nowhere = 1;
#endif
    if (caps->struct_size < offsetof(tg_caps, reserved)) return TG_ERR_INVALID;
    caps->dtypes = 1u << TG_FLOAT32;
    caps->max_dims = 4;
#ifdef FAKE_ONE_PARAM
    caps->max_params = 1; /* and max_nodes 0: no limit */
#endif
    caps->vector_width = 16;
    if (caps->struct_size >= offsetof(tg_caps, driver) + sizeof caps->driver) {
        caps->memory_bytes = 1u << 20;
        caps->name = "fake device";
        caps->vendor = "tg tests";
        caps->version = "1";
        caps->driver = "none";
    }
    return TG_OK;
}

static tg_status fake_buffer_create(tg_device *d, uint64_t bytes, tg_buffer **out) {
    tg_buffer *b = calloc(1, sizeof *b);
    if (!b || !(b->data = malloc(bytes ? bytes : 1))) {
        free(b);
        return TG_ERR_NO_MEMORY;
    }
    b->bytes = bytes;
    *out = b;
    return TG_OK;
}

static void fake_buffer_destroy(tg_device *d, tg_buffer *b) {
    if (b) free(b->data);
    free(b);
}

static tg_status fake_buffer_write(tg_device *d, tg_buffer *b, uint64_t off, const void *src, uint64_t n) {
    if (off > b->bytes || n > b->bytes - off) return TG_ERR_INVALID;
    memcpy(b->data + off, src, n);
    return TG_OK;
}

UNUSED static tg_status fake_buffer_read(tg_device *d, tg_buffer *b, uint64_t off, void *dst, uint64_t n) {
    if (off > b->bytes || n > b->bytes - off) return TG_ERR_INVALID;
    memcpy(dst, b->data + off, n);
    return TG_OK;
}

static tg_status fake_program_create(tg_device *d, const tg_kernel *k, tg_program **out) {
    strcpy(d->error, "the fake plugin runs no kernels");
    return TG_ERR_UNSUPPORTED;
}

static void fake_program_destroy(tg_device *d, tg_program *p) {}

static tg_status fake_program_launch(tg_device *d, tg_program *p, tg_buffer *const *b, uint32_t n) {
    return TG_ERR_INVALID;
}

/* Set in optional slots that a cut-off table must not expose. */
UNUSED static tg_status fake_bogus_sync(tg_device *d) { return TG_ERR_INTERNAL; }
/* Set past the slots of the minor a table declares (FAKE_STALE_WRAP). */
UNUSED static tg_status fake_bogus_wrap(tg_device *d, void *p, uint64_t n, tg_buffer **out) { return TG_ERR_INTERNAL; }

#ifndef FAKE_MAJOR
#define FAKE_MAJOR TG_ABI_MAJOR
#endif
#ifndef FAKE_MINOR
#define FAKE_MINOR TG_ABI_MINOR
#endif

/* A table as a later minor (1.7) would have it: 1.0's slots, then more. */
typedef struct fake_api_1_7 {
    tg_plugin_api base;
    tg_status (*future_slot)(tg_device *device, uint64_t flags);
    uint64_t future_field;
} fake_api_1_7;

UNUSED static const fake_api_1_7 table = {
    .base = {
        .abi_major = FAKE_MAJOR,
        .abi_minor = FAKE_MINOR,
#if defined(FAKE_SIZE)
        .struct_size = FAKE_SIZE,
#elif defined(FAKE_CUT)
        .struct_size = offsetof(tg_plugin_api, program_launch) + sizeof(void (*)(void)),
#elif defined(FAKE_NEWER)
        .struct_size = sizeof(fake_api_1_7),
#else
        .struct_size = sizeof(tg_plugin_api),
#endif
#ifndef FAKE_NO_NAME
        .name = FAKE_NAME,
#endif
        .version = "0.0.1",
        .description = "a loader test plugin",
        .plugin_error = fake_plugin_error,
        .device_count = fake_device_count,
        .device_create = fake_device_create,
        .device_destroy = fake_device_destroy,
        .device_error = fake_device_error,
        .device_caps = fake_device_caps,
        .buffer_create = fake_buffer_create,
        .buffer_destroy = fake_buffer_destroy,
        .buffer_write = fake_buffer_write,
#ifndef FAKE_NULL_SLOT
        .buffer_read = fake_buffer_read,
#endif
        .program_create = fake_program_create,
        .program_destroy = fake_program_destroy,
        .program_launch = fake_program_launch,
#ifdef FAKE_CUT
        .synchronize = fake_bogus_sync,
#endif
#ifdef FAKE_STALE_WRAP /* declares 1.1 with the current (1.2) table size */
        .buffer_wrap = fake_bogus_wrap,
#endif
    },
    .future_slot = NULL,
    .future_field = 42,
};

#ifdef FAKE_NO_ENTRY
#define ENTRY_NAME not_the_entry
#else
#define ENTRY_NAME tg_plugin_entry
#endif

TG_PLUGIN_EXPORT const tg_plugin_api *ENTRY_NAME(uint32_t core_major, uint32_t core_minor, const char **out_reason) {
#if defined(FAKE_ENTRY_ABORT)
    abort();
#elif defined(FAKE_ENTRY_HANG)
    for (;;) sleep(1);
#endif
#ifdef FAKE_REFUSE
    *out_reason = "this plugin needs a frobnicator, and this host has none";
    return NULL;
#else
    return &table.base;
#endif
}
