/*
 * cert.h -- read the JSON certificates `tg conform --json` writes, enough to
 * tell whether a plugin build passed conformance on this host.
 */
#ifndef TG_BENCH_CERT_H
#define TG_BENCH_CERT_H

#include <stddef.h>

typedef struct bench_cert {
    char plugin[64];
    char sha256[65];
    char date[40];
    long pass, fail, crash, timeout;
    char core[16];   /* the certificate's level "core": "yes", "partial", "no", "not-run" */
    int passed;      /* no FAIL, CRASH or TIMEOUT, at least one PASS, and level core "yes"
                        (every core case of the catalog ran and passed) */
} bench_cert;

/* A whole file as a NUL-terminated string (malloc'd; NULL if unreadable). */
char *bench_read_file(const char *path);

/* 0 if `path` is a tg-conformance certificate (fields filled), else -1. */
int bench_cert_read(const char *path, bench_cert *out);

#endif
