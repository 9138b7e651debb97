/* tests/ref/test_ref_int.c -- integer and bool ops of ref against C's own
 * integer arithmetic (OPS.md section 5): wraparound, truncating DIV, C
 * remainder, INT_MIN / -1, x / 0 not trapping. */
#include <stdint.h>

#include "ref_harness.h"

#define NV 16
#define NP (NV * NV)

/* Each integer type: every pair of NV interesting values through every op.
 * Expected values use C's operators on the native type; wrapping goes
 * through uint64_t so that C itself never overflows. */
#define INT_TEST(T, DT, NAME, MIN, MAX, SIGNED)                                                        \
    static void test_##NAME(refh *r) {                                                                 \
        const T v[NV] = {(T)0, (T)1, (T)2, (T)3, (T)7, (T)-1, (T)-2, (T)-7, (T)100, (T)-100, MIN,      \
                         (T)(MIN + 1), MAX, (T)(MAX - 1), (T)0x5a5a5a5a5a5a5a5aull, (T)-3};           \
        static T a[NP], b[NP], c[NP], out[NP];                                                         \
        static uint8_t cond[NP], flag[NP];                                                             \
        for (int i = 0; i < NP; i++) a[i] = v[i / NV], b[i] = v[i % NV], c[i] = v[(i * 7) % NV],       \
                                       cond[i] = (uint8_t)(i % 3 == 0);                                \
        int ok;                                                                                        \
        ok = refh_elementwise(r, TG_OP_ADD, DT, DT, NP, a, b, NULL, out) == TG_OK;                     \
        for (int i = 0; ok && i < NP; i++) ok = out[i] == (T)((uint64_t)a[i] + (uint64_t)b[i]);        \
        tap_ok(ok, #NAME " ADD wraps");                                                                \
        ok = refh_elementwise(r, TG_OP_SUB, DT, DT, NP, a, b, NULL, out) == TG_OK;                     \
        for (int i = 0; ok && i < NP; i++) ok = out[i] == (T)((uint64_t)a[i] - (uint64_t)b[i]);        \
        tap_ok(ok, #NAME " SUB wraps");                                                                \
        ok = refh_elementwise(r, TG_OP_MUL, DT, DT, NP, a, b, NULL, out) == TG_OK;                     \
        for (int i = 0; ok && i < NP; i++) ok = out[i] == (T)((uint64_t)a[i] * (uint64_t)b[i]);        \
        tap_ok(ok, #NAME " MUL wraps");                                                                \
        ok = refh_elementwise(r, TG_OP_NEG, DT, DT, NP, a, NULL, NULL, out) == TG_OK;                  \
        for (int i = 0; ok && i < NP; i++) ok = out[i] == (T)(0 - (uint64_t)a[i]);                     \
        tap_ok(ok, #NAME " NEG wraps");                                                                \
        ok = refh_elementwise(r, TG_OP_MULACC, DT, DT, NP, a, b, c, out) == TG_OK;                     \
        for (int i = 0; ok && i < NP; i++)                                                             \
            ok = out[i] == (T)((uint64_t)a[i] * (uint64_t)b[i] + (uint64_t)c[i]);                      \
        tap_ok(ok, #NAME " MULACC wraps");                                                             \
        ok = refh_elementwise(r, TG_OP_DIV, DT, DT, NP, a, b, NULL, out) == TG_OK;                     \
        for (int i = 0; ok && i < NP; i++) {                                                           \
            if (b[i] == 0) continue; /* unspecified; must only not trap */                             \
            if (SIGNED && b[i] == (T)-1) ok = out[i] == (T)(0 - (uint64_t)a[i]);                       \
            else ok = out[i] == (T)(a[i] / b[i]);                                                      \
            if (!ok) tap_diag("%lld / %lld gave %lld", (long long)a[i], (long long)b[i], (long long)out[i]); \
        }                                                                                              \
        tap_ok(ok, #NAME " DIV truncates, MIN / -1 = MIN, x / 0 does not trap");                        \
        ok = refh_elementwise(r, TG_OP_MOD, DT, DT, NP, a, b, NULL, out) == TG_OK;                     \
        for (int i = 0; ok && i < NP; i++) {                                                           \
            if (b[i] == 0) continue;                                                                   \
            if (SIGNED && b[i] == (T)-1) ok = out[i] == 0;                                             \
            else ok = out[i] == (T)(a[i] % b[i]);                                                      \
        }                                                                                              \
        tap_ok(ok, #NAME " MOD has the dividend's sign, MIN %% -1 = 0");                                \
        ok = refh_elementwise(r, TG_OP_MAX, DT, DT, NP, a, b, NULL, out) == TG_OK;                     \
        for (int i = 0; ok && i < NP; i++) ok = out[i] == (a[i] > b[i] ? a[i] : b[i]);                 \
        tap_ok(ok, #NAME " MAX");                                                                      \
        ok = refh_elementwise(r, TG_OP_CMPLT, DT, TG_BOOL, NP, a, b, NULL, flag) == TG_OK;             \
        for (int i = 0; ok && i < NP; i++) ok = flag[i] == (a[i] < b[i]);                              \
        tap_ok(ok, #NAME " CMPLT");                                                                    \
        ok = refh_elementwise(r, TG_OP_WHERE, DT, DT, NP, cond, a, b, out) == TG_OK;                   \
        for (int i = 0; ok && i < NP; i++) ok = out[i] == (cond[i] ? a[i] : b[i]);                     \
        tap_ok(ok, #NAME " WHERE");                                                                    \
    }

INT_TEST(int8_t, TG_INT8, int8, INT8_MIN, INT8_MAX, 1)
INT_TEST(uint8_t, TG_UINT8, uint8, 0, UINT8_MAX, 0)
INT_TEST(int16_t, TG_INT16, int16, INT16_MIN, INT16_MAX, 1)
INT_TEST(uint16_t, TG_UINT16, uint16, 0, UINT16_MAX, 0)
INT_TEST(int32_t, TG_INT32, int32, INT32_MIN, INT32_MAX, 1)
INT_TEST(uint32_t, TG_UINT32, uint32, 0, UINT32_MAX, 0)
INT_TEST(int64_t, TG_INT64, int64, INT64_MIN, INT64_MAX, 1)
INT_TEST(uint64_t, TG_UINT64, uint64, 0, UINT64_MAX, 0)

/* A few results written out by hand, as OPS.md states them. */
static void test_int_by_hand(refh *r) {
    int8_t a[6] = {-128, 127, -7, 7, -128, -7}, b[6] = {-1, 1, 2, -2, -1, 2}, o[6];
    refh_elementwise(r, TG_OP_DIV, TG_INT8, TG_INT8, 6, a, b, NULL, o);
    tap_ok(o[0] == -128 && o[1] == 127 && o[2] == -3 && o[3] == -3, "int8 DIV: -128/-1=-128, -7/2=-3, 7/-2=-3");
    refh_elementwise(r, TG_OP_MOD, TG_INT8, TG_INT8, 6, a, b, NULL, o);
    tap_ok(o[0] == 0 && o[1] == 0 && o[2] == -1 && o[3] == 1, "int8 MOD: -128%%-1=0, -7%%2=-1, 7%%-2=1");
    refh_elementwise(r, TG_OP_ADD, TG_INT8, TG_INT8, 6, a, b, NULL, o);
    tap_ok(o[1] == -128 && o[4] == 127, "int8 ADD: 127+1=-128, -128+-1=127");
    int64_t x[2] = {INT64_MIN, INT64_MIN}, y[2] = {-1, -1}, z[2];
    refh_elementwise(r, TG_OP_DIV, TG_INT64, TG_INT64, 2, x, y, NULL, z);
    tap_ok(z[0] == INT64_MIN, "int64 MIN / -1 = MIN (no trap)");
    refh_elementwise(r, TG_OP_MOD, TG_INT64, TG_INT64, 2, x, y, NULL, z);
    tap_ok(z[0] == 0, "int64 MIN %% -1 = 0 (no trap)");
    uint8_t u[3] = {0, 1, 200}, un[3];
    refh_elementwise(r, TG_OP_NEG, TG_UINT8, TG_UINT8, 3, u, NULL, NULL, un);
    tap_ok(un[0] == 0 && un[1] == 255 && un[2] == 56, "uint8 NEG: 0, 255, 56");
    uint32_t p[2] = {0xffffffffu, 3u}, q[2] = {1u, 0xffffffffu}, pq[2];
    refh_elementwise(r, TG_OP_CMPLT, TG_UINT32, TG_BOOL, 2, p, q, NULL, pq);
    tap_ok(((uint8_t *)pq)[0] == 0 && ((uint8_t *)pq)[1] == 1, "uint32 CMPLT compares unsigned");
}

static void test_bool(refh *r) {
    uint8_t a[4] = {0, 0, 1, 1}, b[4] = {0, 1, 0, 1}, c[4] = {1, 0, 1, 0}, o[4];
    tap_ok(refh_elementwise(r, TG_OP_MAX, TG_BOOL, TG_BOOL, 4, a, b, NULL, o) == TG_OK &&
           o[0] == 0 && o[1] == 1 && o[2] == 1 && o[3] == 1, "bool MAX is or");
    tap_ok(refh_elementwise(r, TG_OP_CMPLT, TG_BOOL, TG_BOOL, 4, a, b, NULL, o) == TG_OK &&
           o[0] == 0 && o[1] == 1 && o[2] == 0 && o[3] == 0, "bool CMPLT: only false < true");
    tap_ok(refh_elementwise(r, TG_OP_WHERE, TG_BOOL, TG_BOOL, 4, a, b, c, o) == TG_OK &&
           o[0] == 1 && o[1] == 0 && o[2] == 0 && o[3] == 1, "bool WHERE");
    uint8_t odd[4] = {0, 2, 255, 1};
    tap_ok(refh_elementwise(r, TG_OP_MUL, TG_BOOL, TG_BOOL, 4, odd, odd, NULL, o) == TG_OK &&
           o[0] == 0 && o[1] == 1 && o[2] == 1 && o[3] == 1, "bool bytes other than 0/1 read as true, written as 1");
}

int main(void) {
    refh r;
    if (refh_open(&r)) {
        test_int8(&r);
        test_uint8(&r);
        test_int16(&r);
        test_uint16(&r);
        test_int32(&r);
        test_uint32(&r);
        test_int64(&r);
        test_uint64(&r);
        test_int_by_hand(&r);
        test_bool(&r);
    }
    refh_close(&r);
    return tap_done();
}
