/* The tg command's subcommands. Each lives in cli/cmd_NAME.c and has the
 * signature of tg_cmd_fn: argv[0] is the subcommand's name. Exit status:
 * 0 success, 1 a failure of the work, 2 a usage error.
 *
 * Option parsing, the same in every subcommand: -h/--help prints the
 * command's usage on stdout and exits 0; an unknown option or a missing or
 * bad value is one line on stderr through tg_cli_usage_error, exit 2. */
#ifndef TG_CLI_COMMANDS_H
#define TG_CLI_COMMANDS_H

typedef int (*tg_cmd_fn)(int argc, char **argv);

typedef struct tg_command {
    const char *name;
    tg_cmd_fn fn;
    const char *summary; /* one line for `tg --help` */
} tg_command;

/* Is arg -h or --help? */
int tg_cli_is_help(const char *arg);

/* Print "tg COMMAND: <message> (see 'tg COMMAND --help')" on stderr and
 * return 2, the usage-error exit status. */
int tg_cli_usage_error(const char *command, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
