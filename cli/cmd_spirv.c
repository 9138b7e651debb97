/* tg spirv --kernel FILE [--case ID] [--plugin NAME|PATH]: the SPIR-V
 * assembly the vulkan plugin generates for the kernels of a case file (the
 * text format of `tg conform --case-file`), through program_source. */
#include <stdio.h>
#include <string.h>
#include <tg/conform.h>
#include "commands.h"

static void usage(FILE *f) {
    fprintf(f, "usage: tg spirv --kernel FILE [--case ID] [--plugin NAME|PATH]\n\n"
               "Prints the SPIR-V assembly (spirv-as syntax) that the vulkan plugin generates\n"
               "for each kernel of FILE, a case file as read by `tg conform --case-file`.\n"
               "--case ID prints only that case. --plugin picks another plugin with\n"
               "program_source (default: vulkan). Needs a device of the plugin.\n");
}

int tg_cmd_spirv(int argc, char **argv) {
    const char *file = NULL, *only = NULL, *plugin = "vulkan";
    for (int i = 1; i < argc; i++) {
        if (tg_cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        }
        const char **slot = !strcmp(argv[i], "--kernel") ? &file : !strcmp(argv[i], "--case") ? &only
                          : !strcmp(argv[i], "--plugin") ? &plugin : NULL;
        if (!slot) return tg_cli_usage_error("spirv", "unknown option '%s'", argv[i]);
        if (i + 1 >= argc) return tg_cli_usage_error("spirv", "%s needs a value", argv[i]);
        *slot = argv[++i];
    }
    if (!file) return tg_cli_usage_error("spirv", "--kernel FILE is required");

    tgc_catalog cat = {0};
    if (tgc_casefile_read(file, &cat) != TG_OK) {
        fprintf(stderr, "tg spirv: %s\n", tg_last_error());
        return 1;
    }
    tgc_device dev;
    if (tgc_device_open(plugin, &dev) != TG_OK) {
        fprintf(stderr, "tg spirv: %s\n", tg_last_error());
        tgc_catalog_free(&cat);
        return 1;
    }
    int rc = 0, shown = 0;
    for (size_t i = 0; i < cat.count; i++) {
        const tgc_case *c = &cat.cases[i];
        if (only && strcmp(c->id, only)) continue;
        tg_kernel k;
        tgc_case_kernel(c, &k);
        tg_program *prog = NULL;
        shown++;
        if (tg_kernel_validate(&k, &dev.caps) != TG_OK) {
            fprintf(stderr, "tg spirv: case %s: %s\n", c->id, tg_last_error());
            rc = 1;
            continue;
        }
        tg_status st = dev.api->program_create(dev.dev, &k, &prog);
        if (st != TG_OK) {
            fprintf(stderr, "tg spirv: case %s: %s: %s\n", c->id, tg_status_name(st), dev.api->device_error(dev.dev));
            rc = 1;
            continue;
        }
        const char *src = dev.api->program_source ? dev.api->program_source(dev.dev, prog) : NULL;
        printf("; case %s\n%s", c->id, src ? src : "; (the plugin shows no source)\n");
        dev.api->program_destroy(dev.dev, prog);
    }
    if (only && !shown) {
        fprintf(stderr, "tg spirv: no case '%s' in %s\n", only, file);
        rc = 1;
    }
    tgc_device_close(&dev);
    tgc_catalog_free(&cat);
    return rc;
}
