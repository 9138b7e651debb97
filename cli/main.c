/* tg: the command-line front end. Dispatches to cli/cmd_*.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "commands.h"

/* Subcommands: one declaration and one table row per cli/cmd_NAME.c,
 * in the order `tg --help` lists them. */
int tg_cmd_plugins(int argc, char **argv);
int tg_cmd_new_plugin(int argc, char **argv);
int tg_cmd_conform(int argc, char **argv);
int tg_cmd_fuzz(int argc, char **argv);
int tg_cmd_spirv(int argc, char **argv);
int tg_cmd_bench(int argc, char **argv);
int tg_cmd_rank(int argc, char **argv);
int tg_cmd_tune(int argc, char **argv);

static const tg_command commands[] = {
    {"plugins", tg_cmd_plugins, "list plugins, their devices and capabilities, and why others failed"},
    {"new-plugin", tg_cmd_new_plugin, "write a new plugin project from the template"},
    {"conform", tg_cmd_conform, "certify a plugin against ref with the conformance suite"},
    {"fuzz", tg_cmd_fuzz, "differential fuzzing of a plugin against ref with random kernels"},
    {"spirv", tg_cmd_spirv, "print the SPIR-V the vulkan plugin makes for a case file's kernels"},
    {"bench", tg_cmd_bench, "benchmark plugins side by side (Google Benchmark JSON, roofline plot)"},
    {"rank", tg_cmd_rank, "rank the certified plugins on this host; device \"auto\" follows it"},
    {"tune", tg_cmd_tune, "tune the cpu plugin's kernels for this host while running a command (TG_BEAM)"},
    {NULL, NULL, NULL},
};

static void usage(FILE *f) {
    fprintf(f, "usage: tg [--help] [--version] COMMAND [ARGS...]\n\ncommands:\n");
    for (const tg_command *c = commands; c->name; c++) fprintf(f, "  %-12s %s\n", c->name, c->summary);
    fprintf(f, "\n'tg COMMAND --help' describes a command.\n");
}

int tg_cli_is_help(const char *arg) { return !strcmp(arg, "--help") || !strcmp(arg, "-h"); }

int tg_cli_usage_error(const char *command, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "tg %s: ", command);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'tg %s --help')\n", command);
    return 2;
}

/* A command's exit status, made 1 if its standard output could not be
 * written (a full disk, a closed pipe): a truncated report never exits 0. */
static int finish(int rc) {
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "tg: error writing to standard output: %s (the output is incomplete)\n", strerror(errno));
        return rc ? rc : 1;
    }
    return rc;
}

static const tg_command *find(const char *name) {
    for (const tg_command *c = commands; c->name; c++)
        if (!strcmp(name, c->name)) return c;
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (tg_cli_is_help(argv[1]) || !strcmp(argv[1], "help")) {
        if (argc == 2) {
            usage(stdout);
            return finish(0);
        }
        const tg_command *c = find(argv[2]); /* tg help COMMAND, tg --help COMMAND */
        if (!c) {
            fprintf(stderr, "tg: unknown command '%s' (see 'tg --help')\n", argv[2]);
            return 2;
        }
        return finish(c->fn(2, (char *[]){argv[2], "--help", NULL}));
    }
    if (!strcmp(argv[1], "--version")) {
        if (argc > 2) {
            fprintf(stderr, "tg: unexpected argument '%s' (see 'tg --help')\n", argv[2]);
            return 2;
        }
        printf("tg %s\n", TG_VERSION);
        return finish(0);
    }
    const tg_command *c = find(argv[1]);
    if (c) return finish(c->fn(argc - 1, argv + 1));
    fprintf(stderr, "tg: unknown %s '%s' (see 'tg --help')\n", argv[1][0] == '-' ? "option" : "command", argv[1]);
    return 2;
}
