/* tg: the command-line front end. Dispatches to cli/cmd_*.c. */
#include <stdio.h>
#include <string.h>
#include "commands.h"

/* Declarations and table rows: one pair per subcommand file. */

static const tg_command commands[] = {
    {NULL, NULL, NULL},
};

static void usage(FILE *f) {
    fprintf(f, "usage: tg [--help] [--version] COMMAND [ARGS...]\n\ncommands:\n");
    for (const tg_command *c = commands; c->name; c++) fprintf(f, "  %-12s %s\n", c->name, c->summary);
    fprintf(f, "\n'tg COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("tg %s\n", TG_VERSION);
        return 0;
    }
    for (const tg_command *c = commands; c->name; c++)
        if (!strcmp(argv[1], c->name)) return c->fn(argc - 1, argv + 1);
    fprintf(stderr, "tg: unknown %s '%s' (see 'tg --help')\n", argv[1][0] == '-' ? "option" : "command", argv[1]);
    return 2;
}
