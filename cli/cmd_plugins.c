/* tg plugins [--json]: every plugin in the search path, its versions and
 * devices with their capabilities; plugins that did not load, with why. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <tg/runtime.h>
#include "commands.h"

static const char *const fusion_names[] = {"elementwise", "reduce-input", "reduce-output", "multi-output"};
static const char *const flag_names[] = {"async", "host-visible", "unified"};

/* Print the names of the set bits of `bits` from names[n]. */
static void print_bits(FILE *f, uint32_t bits, const char *const *names, int n, int json) {
    int first = 1;
    for (int b = 0; b < n; b++) {
        if (!(bits & (1u << b))) continue;
        fprintf(f, json ? "%s\"%s\"" : "%s%s", first ? "" : json ? ", " : " ", names[b]);
        first = 0;
    }
    if (first && !json) fprintf(f, "none");
}

static void print_dtypes(FILE *f, uint32_t dtypes, int json) {
    const char *names[TG_DTYPE_COUNT];
    for (int d = 0; d < TG_DTYPE_COUNT; d++) names[d] = tg_dtype_name((tg_dtype)d);
    print_bits(f, dtypes, names, TG_DTYPE_COUNT, json);
}

static void json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

static const char *str(const char *s) { return s ? s : ""; }

/* v in decimal and its unit, or "-" for 0 (unknown or none). */
static const char *num(char buf[32], uint64_t v, const char *unit) {
    if (!v) return "-";
    snprintf(buf, 32, "%" PRIu64 "%s", v, unit);
    return buf;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Open device `index`, print its caps; returns 0 or 1 (failed). */
static int print_device(FILE *f, tg_plugin *p, uint32_t index, int json) {
    const tg_plugin_api *api = tg_plugin_get_api(p);
    tg_device *dev = NULL;
    tg_status st = tg_plugin_device_create(p, index, &dev);
    if (st) {
        const char *why = tg_last_error();
        if (json) {
            fprintf(f, "%s{\"index\": %u, \"status\": \"%s\", \"error\": ", index ? ", " : "", index, tg_status_name(st));
            json_string(f, why);
            fprintf(f, "}");
        } else {
            fprintf(f, "  device %u: cannot open: %s: %s\n", index, tg_status_name(st), why);
        }
        return 1;
    }
    tg_caps c = {.struct_size = sizeof c};
    st = api->device_caps(dev, &c);
    if (st) {
        if (json) {
            fprintf(f, "%s{\"index\": %u, \"status\": \"%s\", \"error\": ", index ? ", " : "", index, tg_status_name(st));
            json_string(f, tg_plugin_message(api->device_error(dev)));
            fprintf(f, "}");
        } else {
            fprintf(f, "  device %u: device_caps failed: %s: %s\n", index, tg_status_name(st),
                    tg_plugin_message(api->device_error(dev)));
        }
        api->device_destroy(dev);
        return 1;
    }
    uint32_t max_dims = c.max_dims ? c.max_dims : TG_MAX_DIMS, depth = c.max_view_depth ? c.max_view_depth : 1;
    uint32_t vector = c.vector_width ? c.vector_width : 4;
    int map = api->buffer_map_range && api->buffer_unmap, async = api->buffer_write_async != NULL;
    if (json) {
        fprintf(f, "%s{\"index\": %u, \"status\": \"TG_OK\", \"name\": ", index ? ", " : "", index);
        json_string(f, c.name);
        fprintf(f, ", \"vendor\": ");
        json_string(f, c.vendor);
        fprintf(f, ", \"version\": ");
        json_string(f, c.version);
        fprintf(f, ", \"driver\": ");
        json_string(f, c.driver);
        fprintf(f, ", \"dtypes\": [");
        print_dtypes(f, c.dtypes, 1);
        fprintf(f, "], \"fusion\": [");
        print_bits(f, c.fusion, fusion_names, 4, 1);
        fprintf(f, "], \"flags\": [");
        print_bits(f, c.flags, flag_names, 3, 1);
        fprintf(f, "], \"max_dims\": %u, \"max_nodes\": %u, \"max_params\": %u, \"max_view_depth\": %u, "
                   "\"vector_width\": %u, \"memory_bytes\": %" PRIu64 ", \"max_buffer_bytes\": %" PRIu64,
                max_dims, c.max_nodes, c.max_params, depth, vector, c.memory_bytes, c.max_buffer_bytes);
        fprintf(f, ", \"compute_units\": %u, \"max_group_size\": %u, \"local_memory_bytes\": %" PRIu64
                   ", \"emulated_dtypes\": [", c.compute_units, c.max_group_size, c.local_memory_bytes);
        print_dtypes(f, c.emulated_dtypes, 1);
        fprintf(f, "], \"map_range\": %s, \"write_async\": %s}", map ? "true" : "false", async ? "true" : "false");
    } else {
        fprintf(f, "  device %u: %s\n", index, *str(c.name) ? c.name : "(unnamed)");
        fprintf(f, "    vendor %s, version %s, driver %s\n", *str(c.vendor) ? c.vendor : "-",
                *str(c.version) ? c.version : "-", *str(c.driver) ? c.driver : "-");
        fprintf(f, "    dtypes: ");
        print_dtypes(f, c.dtypes, 0);
        fprintf(f, "\n    fusion: ");
        print_bits(f, c.fusion, fusion_names, 4, 0);
        fprintf(f, "\n    flags: ");
        print_bits(f, c.flags, flag_names, 3, 0);
        fprintf(f, "\n    max dims %u, view depth %u, vector width %u bytes", max_dims, depth, vector);
        if (c.max_nodes) fprintf(f, ", max nodes %u", c.max_nodes);
        if (c.max_params) fprintf(f, ", max params %u", c.max_params);
        fprintf(f, "\n    memory: ");
        if (c.memory_bytes) fprintf(f, "%.1f MiB", (double)c.memory_bytes / (1 << 20));
        else fprintf(f, "unknown");
        if (c.max_buffer_bytes) fprintf(f, ", largest buffer %.1f MiB", (double)c.max_buffer_bytes / (1 << 20));
        fprintf(f, ", host-visible %s, map/unmap %s, async upload %s\n", (c.flags & TG_CAP_HOST_VISIBLE) ? "yes" : "no",
                map ? "yes" : "no", async ? "yes" : "no");
        char a[32], b[32], m[32];
        if (c.compute_units || c.max_group_size || c.local_memory_bytes)
            fprintf(f, "    compute units %s, work-group size %s, local memory %s\n", num(a, c.compute_units, ""),
                    num(b, c.max_group_size, ""), num(m, c.local_memory_bytes >> 10, " KiB"));
        if (c.emulated_dtypes) {
            fprintf(f, "    emulated (computed in a wider type): ");
            print_dtypes(f, c.emulated_dtypes, 0);
            fprintf(f, "\n");
        }
    }
    api->device_destroy(dev);
    return 0;
}

/* A plugin that scanned as loadable: open it and list its devices. */
static void print_loaded(FILE *f, const tg_plugin_info *info, int json) {
    tg_plugin *p = NULL;
    if (tg_plugin_open(info->path, &p)) {
        if (json) {
            fprintf(f, "\"status\": \"%s\", \"error\": ", tg_status_name(TG_ERR_INTERNAL));
            json_string(f, tg_last_error());
        } else {
            fprintf(f, "  (failed on the second open: %s)\n", tg_last_error());
        }
        return;
    }
    const tg_plugin_api *api = tg_plugin_get_api(p);
    uint32_t count = 0;
    tg_status st = tg_plugin_device_count(p, &count);
    char why[1024] = "";
    if (st || count == 0) snprintf(why, sizeof why, "%s", tg_last_error());
    if (json) {
        fprintf(f, "\"status\": \"TG_OK\", \"version\": ");
        json_string(f, api->version);
        fprintf(f, ", \"abi\": \"%u.%u\", \"description\": ", api->abi_major, api->abi_minor);
        json_string(f, api->description);
        fprintf(f, ", \"device_count_status\": \"%s\", \"device_note\": ", tg_status_name(st));
        json_string(f, why);
        fprintf(f, ", \"devices\": [");
    } else {
        fprintf(f, "%s %s (ABI %u.%u)  %s\n", api->name, api->version, api->abi_major, api->abi_minor, info->path);
        if (api->description && *api->description) fprintf(f, "  %s\n", api->description);
        if (st) fprintf(f, "  device_count failed: %s: %s\n", tg_status_name(st), why);
        else if (count == 0) fprintf(f, "  no devices: %s\n", why);
    }
    for (uint32_t i = 0; !st && i < count; i++) print_device(f, p, i, json);
    if (json) fprintf(f, "]");
    tg_plugin_close(p);
}

/* print_loaded in a child process: a plugin whose device_create or
 * device_caps crashes or hangs, or whose threads outlive it, cannot take
 * `tg plugins` down. The child's output is printed only if it finished. */
static void print_loaded_isolated(FILE *f, const tg_plugin_info *info, int json) {
    int fds[2];
    fflush(f);
    if (pipe(fds) != 0) {
        print_loaded(f, info, json);
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        static const int fatal[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
        for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) signal(fatal[i], SIG_DFL); /* die, be told */
        close(fds[0]);
        FILE *to = fdopen(fds[1], "w");
        if (!to) _exit(3);
        print_loaded(to, info, json);
        _exit(fclose(to) == 0 ? 0 : 3);
    }
    close(fds[1]);
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    char buf[4096];
    double deadline = now_s() + 30;
    int hung = 0;
    for (;;) {
        struct pollfd pfd = {fds[0], POLLIN, 0};
        double left = deadline - now_s();
        if (left <= 0 || poll(&pfd, 1, (int)(left * 1000) + 1) == 0) {
            hung = 1;
            break;
        }
        ssize_t n = read(fds[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (mem) fwrite(buf, 1, (size_t)n, mem);
    }
    close(fds[0]);
    if (mem) fclose(mem);
    int status = 0;
    if (pid > 0 && hung) kill(pid, SIGKILL);
    if (pid > 0) while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    int ok = pid > 0 && !hung && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (ok && text) {
        fwrite(text, 1, len, f);
    } else {
        char why[160];
        if (pid < 0) snprintf(why, sizeof why, "cannot fork to list its devices");
        else if (hung) snprintf(why, sizeof why, "listing its devices did not finish within 30 s (killed)");
        else if (WIFSIGNALED(status))
            snprintf(why, sizeof why, "crashed while listing its devices (signal %d, %s)", WTERMSIG(status),
                     strsignal(WTERMSIG(status)));
        else snprintf(why, sizeof why, "exited with status %d while listing its devices", WEXITSTATUS(status));
        if (json) {
            fprintf(f, "\"status\": \"%s\", \"error\": ", tg_status_name(TG_ERR_INTERNAL));
            json_string(f, why);
        } else {
            fprintf(f, "%s FAILED (%s)  %s\n  %s\n", info->name, tg_status_name(TG_ERR_INTERNAL), info->path, why);
        }
    }
    free(text);
}

static void usage(FILE *f) {
    fprintf(f, "usage: tg plugins [--json]\n\n"
               "Lists every plugin file (tg-NAME.so) in the search path: TG_PLUGIN_PATH, then the build\n"
               "tree, then the install directory. For each plugin that loads: its version, ABI version\n"
               "and each device with its capabilities; for each that does not: why.\n\n"
               "  --json   one JSON object on stdout instead of text\n");
}

int tg_cmd_plugins(int argc, char **argv) {
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (tg_cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--json")) json = 1;
        else if (argv[i][0] == '-') return tg_cli_usage_error("plugins", "unknown option '%s'", argv[i]);
        else return tg_cli_usage_error("plugins", "unexpected argument '%s'", argv[i]);
    }
    tg_plugin_info *list = NULL;
    size_t n = 0;
    if (tg_plugin_scan(&list, &n)) {
        fprintf(stderr, "tg plugins: %s\n", tg_last_error());
        return 1;
    }
    FILE *f = stdout;
    if (json) {
        fprintf(f, "{\"search_path\": ");
        json_string(f, tg_plugin_search_path());
        fprintf(f, ", \"plugins\": [");
    } else if (n == 0) {
        fprintf(f, "no plugins found in %s\n", tg_plugin_search_path());
    }
    for (size_t i = 0; i < n; i++) {
        const tg_plugin_info *info = &list[i];
        if (json) {
            fprintf(f, "%s\n  {\"name\": ", i ? "," : "");
            json_string(f, info->name);
            fprintf(f, ", \"path\": ");
            json_string(f, info->path);
            fprintf(f, ", ");
        }
        if (info->status == TG_OK) {
            print_loaded_isolated(f, info, json);
        } else if (json) {
            fprintf(f, "\"status\": \"%s\", \"error\": ", tg_status_name(info->status));
            json_string(f, info->error);
        } else {
            fprintf(f, "%s FAILED (%s)  %s\n  %s\n", info->name, tg_status_name(info->status), info->path, info->error);
        }
        if (json) fprintf(f, "}");
    }
    if (json) fprintf(f, "\n]}\n");
    tg_plugin_scan_free(list, n);
    return 0;
}
