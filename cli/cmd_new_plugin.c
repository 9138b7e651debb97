/* tg new-plugin NAME [DIR] [--codegen]: write a copy of templates/plugin
 * (or templates/codegen) with NAME substituted for the word "template" in
 * file names, symbols and strings. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "commands.h"
#include "template_files.h"

static const char *usage_text =
    "usage: tg new-plugin NAME [DIR] [--codegen]\n"
    "Write a new plugin project named NAME into DIR (default: ./NAME), a copy\n"
    "of tg's plugin template. NAME is the plugin's name: lowercase letters,\n"
    "digits and '_', not starting with a digit (a valid C identifier).\n"
    "DIR must not exist yet.\n"
    "  --codegen  a plugin that renders kernels through the SDK's lowering\n"
    "             library (you write a dialect table and a runtime) instead of\n"
    "             one that takes the kernel IR whole (you bring a compiler)\n";

static int valid_name(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n > 64 || (name[0] >= '0' && name[0] <= '9')) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
            return 0;
    return 1;
}

static int is_word_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Write `text` to `f` with each whole word "template" replaced by `name`. */
static int write_substituted(FILE *f, const char *text, const char *name) {
    const char *word = "template";
    size_t wn = strlen(word);
    for (const char *p = text; *p;) {
        if (!strncmp(p, word, wn) && (p == text || !is_word_char(p[-1])) && !is_word_char(p[wn])) {
            fputs(name, f);
            p += wn;
        } else {
            fputc(*p++, f);
        }
    }
    return ferror(f) ? -1 : 0;
}

int tg_cmd_new_plugin(int argc, char **argv) {
    const char *name = NULL, *dir = NULL;
    const template_file *files = template_files;
    size_t nfiles = sizeof template_files / sizeof template_files[0];
    for (int i = 1; i < argc; i++) {
        if (tg_cli_is_help(argv[i])) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--codegen")) {
            files = codegen_files;
            nfiles = sizeof codegen_files / sizeof codegen_files[0];
            continue;
        }
        if (argv[i][0] == '-') return tg_cli_usage_error("new-plugin", "unknown option '%s'", argv[i]);
        if (!name) name = argv[i];
        else if (!dir) dir = argv[i];
        else return tg_cli_usage_error("new-plugin", "unexpected argument '%s'", argv[i]);
    }
    if (!name) return tg_cli_usage_error("new-plugin", "missing NAME");
    if (!valid_name(name))
        return tg_cli_usage_error("new-plugin",
                                  "'%s' is not a valid plugin name: use lowercase letters, digits and '_', "
                                  "not starting with a digit, at most 64 characters", name);
    if (!dir) dir = name;
    struct stat st;
    if (stat(dir, &st) == 0) return tg_cli_usage_error("new-plugin", "'%s' already exists; choose a new directory", dir);
    if (mkdir(dir, 0777) != 0) {
        fprintf(stderr, "tg new-plugin: cannot create '%s': %s\n", dir, strerror(errno));
        return 1;
    }
    for (size_t i = 0; i < nfiles; i++) {
        char path[4096];
        const char *rel = files[i].path;
        const char *stem = strncmp(rel, "template.", 9) ? NULL : rel + 8; /* template.c -> NAME.c */
        if (stem) snprintf(path, sizeof path, "%s/%s%s", dir, name, stem);
        else snprintf(path, sizeof path, "%s/%s", dir, rel);
        FILE *f = fopen(path, "w");
        int bad = !f || write_substituted(f, files[i].contents, name) != 0;
        if (f && fclose(f) != 0) bad = 1;
        if (bad) {
            fprintf(stderr, "tg new-plugin: cannot write '%s': %s\n", path, strerror(errno));
            return 1;
        }
    }
    printf("wrote plugin '%s' to %s/\nnext: cd %s && meson setup build && meson compile -C build\n"
           "      tg conform --plugin ./build/tg-%s.so\n",
           name, dir, dir, name);
    return 0;
}
