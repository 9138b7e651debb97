/*
 * select.h -- libtg-internal helpers of device "auto" (select.c, sha256.c),
 * shared with the benchmark harness (`tg rank` writes what select.c reads)
 * and the tests. Not an installed header; candidates for runtime.h.
 *
 * The ranking file, one per host: <cache>/ranking-<fingerprint>.txt, where
 * <cache> is $XDG_CACHE_HOME/tg or $HOME/.cache/tg. Plain text, one record
 * per line, fields separated by spaces, '#' starts a comment line:
 *
 *   tg-ranking 1
 *   host <fingerprint> <free text describing the host>
 *   date <ISO 8601 UTC>
 *   baseline <plugin>
 *   rank <plugin> <sha256> <overall> [<class>=<score> ...]   best first
 *   failed <plugin> <sha256> <free text: why it is not ranked>
 *   unranked <plugin> <sha256 or -> <free text>    (no certificate; ignored here)
 *
 * A ranking is fresh when every rank and failed line's sha256 equals the
 * SHA-256 of the file that tg_plugin_open(<plugin>) loads today.
 */
#ifndef TG_CORE_SELECT_H
#define TG_CORE_SELECT_H

#include <stddef.h>
#include <tg/runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TG_RANKING_MAX 32 /* entries read from one file */

typedef struct tg_ranking_entry {
    char name[64];
    char sha256[65];
    double overall;     /* rank lines: the overall score; failed lines: 0 */
    int failed;         /* 1: a failed line (not ranked)                  */
} tg_ranking_entry;

typedef struct tg_ranking {
    char host[17];      /* fingerprint the file was written for */
    char date[40];
    char baseline[64];
    size_t count;
    tg_ranking_entry entries[TG_RANKING_MAX]; /* in file order: rank lines best first */
} tg_ranking;

/* This host's fingerprint (16 hex digits over machine, host name, CPU model
 * and CPU count) and a readable description of the same facts. */
void tg_host_fingerprint(char out_hex[17], char *out_desc, size_t desc_cap);

/* The cache directory ($XDG_CACHE_HOME/tg or $HOME/.cache/tg; not created)
 * and this host's ranking file in it. */
tg_status tg_cache_dir(char *out_path, size_t cap);
tg_status tg_ranking_path(char *out_path, size_t cap);

/* Parse a ranking file. TG_ERR_NOT_FOUND if it does not exist,
 * TG_ERR_INVALID (naming the line) if it is malformed. */
tg_status tg_ranking_read(const char *path, tg_ranking *out_ranking);

/* SHA-256 of the file tg_plugin_open(name) loads; TG_ERR_* if it does not. */
tg_status tg_plugin_sha256(const char *name, char out_hex[65]);

#ifdef __cplusplus
}
#endif

#endif
