/* The tg command's subcommands. Each lives in cli/cmd_NAME.c and has the
 * signature of tg_cmd_fn: argv[0] is the subcommand's name. Exit status:
 * 0 success, 1 a failure of the work, 2 a usage error. */
#ifndef TG_CLI_COMMANDS_H
#define TG_CLI_COMMANDS_H

typedef int (*tg_cmd_fn)(int argc, char **argv);

typedef struct tg_command {
    const char *name;
    tg_cmd_fn fn;
    const char *summary; /* one line for `tg --help` */
} tg_command;

#endif
