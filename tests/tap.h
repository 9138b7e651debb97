/* tests/tap.h -- a tiny TAP 14 emitter for tg's tests (header only).
 *
 *   tap_ok(cond, "name %d", i);   one test point; returns cond
 *   tap_skip("why");               one skipped point
 *   return tap_done();             prints the plan "1..N", exit status 1 on any failure
 *
 * Use tap_diag() for "# ..." lines. The plan is printed at the end, which
 * TAP 14 allows; meson's TAP parser and prove both accept it. */
#ifndef TG_TESTS_TAP_H
#define TG_TESTS_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_count_, tap_failed_;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3), unused))
#endif
static int tap_ok(int cond, const char *fmt, ...) {
    va_list ap;
    if (tap_count_ == 0) printf("TAP version 14\n");
    tap_count_++;
    if (!cond) tap_failed_++;
    printf("%sok %d - ", cond ? "" : "not ", tap_count_);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    return cond;
}

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2), unused))
#endif
static void tap_diag(const char *fmt, ...) {
    va_list ap;
    printf("# ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

#if defined(__GNUC__)
__attribute__((unused))
#endif
static void tap_skip(const char *why) {
    if (tap_count_ == 0) printf("TAP version 14\n");
    tap_count_++;
    printf("ok %d - # SKIP %s\n", tap_count_, why);
}

#if defined(__GNUC__)
__attribute__((unused))
#endif
static int tap_done(void) {
    if (tap_count_ == 0) printf("TAP version 14\n");
    printf("1..%d\n", tap_count_);
    if (tap_failed_) printf("# %d of %d failed\n", tap_failed_, tap_count_);
    return tap_failed_ ? 1 : 0;
}

#endif
