/* tg tune: run a program with TG_BEAM set, so that the cpu plugin searches
 * each kernel's layouts by measurement and caches the winners for this host;
 * later runs of the same kernels use them without searching. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int tg_cmd_tune(int argc, char **argv);

static void usage(FILE *f) {
    fprintf(f, "usage: tg tune [--beam N] COMMAND [ARGS...]\n\n"
               "Runs COMMAND with TG_BEAM=N (default 8): the cpu plugin tries up to N\n"
               "layouts of every kernel the command compiles (tile sizes, accumulator lanes,\n"
               "output blocks, loop order, thread split), keeps only those whose outputs\n"
               "match its plain rendering, and caches the fastest per host in its kernel\n"
               "cache ($XDG_CACHE_HOME/tg). Later runs use the winners without searching.\n"
               "Exit status: the command's.\n");
}

int tg_cmd_tune(int argc, char **argv) {
    int i = 1;
    long beam = 8;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--beam") && i + 1 < argc) {
            char *end;
            beam = strtol(argv[++i], &end, 10);
            if (*end || beam < 1 || beam > 1000) {
                fprintf(stderr, "tg tune: --beam wants a number in 1..1000, not '%s'\n", argv[i]);
                return 2;
            }
            continue;
        }
        if (!strcmp(argv[i], "--")) {
            i++;
            break;
        }
        fprintf(stderr, "tg tune: unknown option '%s'\n", argv[i]);
        usage(stderr);
        return 2;
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    char value[32];
    snprintf(value, sizeof value, "%ld", beam);
    setenv("TG_BEAM", value, 1);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "tg tune: fork: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        execvp(argv[i], argv + i);
        fprintf(stderr, "tg tune: cannot run '%s': %s\n", argv[i], strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return 1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
