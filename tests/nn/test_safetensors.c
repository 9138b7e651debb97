/* safetensors: round trips, a file written by the Python `safetensors`
 * package, and rejection of malformed files (every truncation, byte
 * corruptions, hostile headers) with an error instead of a crash.
 * argv[1]: the folder of golden files; argv[2]: a scratch folder. */
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <tg/nn.h>
#include <tg/runtime.h>
#include <tg/safetensors.h>

#include "tap.h"

static double half_to_double(uint16_t h) {
    int e = (h >> 10) & 31, m = h & 1023;
    double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(m + 1024, e - 25);
    return h & 0x8000 ? -v : v;
}

/* Element i of an entry's data as a double. */
static double elem(const tg_safetensors_entry *e, size_t i) {
    const unsigned char *p = e->data;
    switch (e->dtype) {
    case TG_BOOL: return p[i];
    case TG_INT8: return ((const int8_t *)p)[i];
    case TG_UINT8: return p[i];
    case TG_INT16: return ((const int16_t *)p)[i];
    case TG_UINT16: return ((const uint16_t *)p)[i];
    case TG_INT32: return ((const int32_t *)p)[i];
    case TG_UINT32: return ((const uint32_t *)p)[i];
    case TG_INT64: return (double)((const int64_t *)p)[i];
    case TG_UINT64: return (double)((const uint64_t *)p)[i];
    case TG_FLOAT16: return half_to_double(((const uint16_t *)p)[i]);
    case TG_BFLOAT16: {
        uint32_t bits = (uint32_t)((const uint16_t *)p)[i] << 16;
        float f;
        memcpy(&f, &bits, 4);
        return f;
    }
    case TG_FLOAT32: return ((const float *)p)[i];
    case TG_FLOAT64: return ((const double *)p)[i];
    default: return NAN;
    }
}

static size_t numel(const tg_safetensors_entry *e) {
    size_t n = 1;
    for (int d = 0; d < e->ndim; d++) n *= (size_t)e->shape[d];
    return n;
}

/* Entry with data[i] = i (bool: i % 2) in every dtype; caller frees data. */
static tg_safetensors_entry make_entry(const char *name, tg_dtype dt, int ndim, const int64_t *shape) {
    tg_safetensors_entry e = {.name = (char *)name, .dtype = dt, .ndim = ndim};
    if (ndim) memcpy(e.shape, shape, (size_t)ndim * sizeof *shape);
    size_t n = numel(&e), sz = tg_dtype_size(dt);
    e.nbytes = n * sz;
    e.data = calloc(n ? n : 1, sz);
    unsigned char *p = e.data;
    for (size_t i = 0; i < n; i++) {
        switch (dt) {
        case TG_BOOL: p[i] = (unsigned char)(i % 2); break;
        case TG_INT8: case TG_UINT8: p[i] = (unsigned char)i; break;
        case TG_INT16: case TG_UINT16: ((uint16_t *)p)[i] = (uint16_t)i; break;
        case TG_INT32: case TG_UINT32: ((uint32_t *)p)[i] = (uint32_t)i; break;
        case TG_INT64: case TG_UINT64: ((uint64_t *)p)[i] = i; break;
        case TG_FLOAT16: ((uint16_t *)p)[i] = i ? (uint16_t)(0x3C00 + ((i == 2) << 10)) : 0; break;
        case TG_BFLOAT16: { float f = (float)i; uint32_t b; memcpy(&b, &f, 4); ((uint16_t *)p)[i] = (uint16_t)(b >> 16); break; }
        case TG_FLOAT32: ((float *)p)[i] = (float)i; break;
        case TG_FLOAT64: ((double *)p)[i] = (double)i; break;
        default: break;
        }
    }
    return e;
}

static int entries_equal(const tg_safetensors_entry *a, const tg_safetensors_entry *b) {
    return a->dtype == b->dtype && a->ndim == b->ndim &&
           memcmp(a->shape, b->shape, (size_t)a->ndim * sizeof a->shape[0]) == 0 && a->nbytes == b->nbytes &&
           (a->nbytes == 0 || memcmp(a->data, b->data, a->nbytes) == 0);
}

/* A file made of a header string and `data_len` zero bytes of data. */
static unsigned char *make_file(const char *json, size_t data_len, size_t *out_size) {
    size_t n = strlen(json);
    unsigned char *b = calloc(8 + n + data_len + 1, 1);
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)((uint64_t)n >> (8 * i));
    memcpy(b + 8, json, n);
    *out_size = 8 + n + data_len;
    return b;
}

/* Parse must fail with `want` and a message containing `needle`. */
static void expect_reject(const char *what, const unsigned char *bytes, size_t size, tg_status want,
                          const char *needle) {
    tg_safetensors_entry *es = NULL;
    size_t count = 0;
    tg_status st = tg_safetensors_parse(bytes, size, &es, &count);
    const char *msg = tg_last_error();
    tap_ok(st == want && strstr(msg, needle) != NULL, "rejects %s (%s: %s)", what, tg_status_name(st), msg);
    if (st == TG_OK) tg_safetensors_free(es, count);
}

static void reject_json(const char *what, const char *json, size_t data_len, tg_status want, const char *needle) {
    size_t size;
    unsigned char *b = make_file(json, data_len, &size);
    expect_reject(what, b, size, want, needle);
    free(b);
}

static void test_round_trip(const char *scratch) {
    static const int64_t s23[] = {2, 3}, s4[] = {4}, s0[] = {0, 5}, s8[] = {1, 1, 1, 1, 1, 1, 1, 2};
    tg_safetensors_entry in[TG_DTYPE_COUNT + 4];
    size_t n = 0;
    char names[TG_DTYPE_COUNT][16];
    for (int d = 0; d < TG_DTYPE_COUNT; d++) {
        snprintf(names[d], sizeof names[d], "t.%s", tg_safetensors_dtype_name((tg_dtype)d));
        in[n++] = make_entry(names[d], (tg_dtype)d, d % 2 ? 2 : 1, d % 2 ? s23 : s4);
    }
    in[n++] = make_entry("scalar", TG_FLOAT32, 0, NULL);
    in[n++] = make_entry("empty", TG_INT64, 2, s0);
    in[n++] = make_entry("odd \"name\"\\ with\ttab and \xc3\xa9", TG_UINT8, 1, s4);
    in[n++] = make_entry("eight.dims", TG_FLOAT64, 8, s8);

    void *bytes = NULL;
    size_t size = 0;
    tg_status st = tg_safetensors_serialize(in, n, &bytes, &size);
    tap_ok(st == TG_OK, "serialize %zu tensors: %s", n, st ? tg_last_error() : "ok");
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | ((unsigned char *)bytes)[i];
    tap_ok(hlen % 8 == 0, "header padded to 8 bytes (%llu)", (unsigned long long)hlen);

    tg_safetensors_entry *out = NULL;
    size_t count = 0;
    st = tg_safetensors_parse(bytes, size, &out, &count);
    int all = st == TG_OK && count == n;
    for (size_t i = 0; all && i < n; i++) {
        const tg_safetensors_entry *e = tg_safetensors_find(out, count, in[i].name);
        all = e && entries_equal(e, &in[i]);
        if (!all) tap_diag("mismatch on '%s'", in[i].name);
    }
    tap_ok(all, "memory round trip keeps names, dtypes, shapes and bytes");
    /* data comes out aligned to its element size (written largest first) */
    int aligned = st == TG_OK;
    size_t at = 0;
    for (size_t i = 0; aligned && i < count; i++) {
        aligned = at % tg_dtype_size(out[i].dtype) == 0;
        at += out[i].nbytes;
    }
    tap_ok(aligned, "every tensor's data offset is a multiple of its element size");
    tg_safetensors_free(out, count);

    /* every truncation fails cleanly */
    int trunc_ok = 1;
    for (size_t len = 0; len < size; len++) {
        unsigned char *copy = malloc(len ? len : 1);
        memcpy(copy, bytes, len);
        tg_safetensors_entry *es = NULL;
        size_t c = 0;
        st = tg_safetensors_parse(copy, len, &es, &c);
        if (st == TG_OK || tg_last_error()[0] == '\0') {
            trunc_ok = 0;
            tap_diag("truncation to %zu bytes accepted", len);
            tg_safetensors_free(es, c);
        }
        free(copy);
    }
    tap_ok(trunc_ok, "all %zu truncations are rejected with a message", size);

    /* every byte of the header replaced by a few values: no crash, and any
     * accepted file still satisfies the layout rules */
    static const unsigned char subst[] = {0, '"', '\\', '{', ']', ',', '9', 0xff};
    int corrupt_ok = 1;
    unsigned char *copy = malloc(size);
    for (size_t i = 0; i < 8 + hlen; i++) {
        for (size_t k = 0; k < sizeof subst; k++) {
            memcpy(copy, bytes, size);
            copy[i] = subst[k];
            tg_safetensors_entry *es = NULL;
            size_t c = 0;
            if (tg_safetensors_parse(copy, size, &es, &c) == TG_OK) {
                size_t total = 0;
                for (size_t j = 0; j < c; j++) total += es[j].nbytes;
                if (total != size - 8 - hlen) corrupt_ok = 0;
                tg_safetensors_free(es, c);
            } else if (tg_last_error()[0] == '\0')
                corrupt_ok = 0;
        }
    }
    free(copy);
    tap_ok(corrupt_ok, "%llu x %zu single-byte corruptions: rejected or consistent",
           (unsigned long long)(8 + hlen), sizeof subst);

    char path[4096];
    snprintf(path, sizeof path, "%s/nn_round_trip.safetensors", scratch);
    st = tg_safetensors_write(path, in, n);
    tap_ok(st == TG_OK, "write %s: %s", path, st ? tg_last_error() : "ok");
    st = tg_safetensors_read(path, &out, &count);
    all = st == TG_OK && count == n;
    for (size_t i = 0; all && i < n; i++) {
        const tg_safetensors_entry *e = tg_safetensors_find(out, count, in[i].name);
        all = e && entries_equal(e, &in[i]);
    }
    tap_ok(all, "file round trip: %s", st ? tg_last_error() : "ok");
    if (st == TG_OK) tg_safetensors_free(out, count);
    FILE *f = fopen(path, "rb");
    unsigned char *disk = malloc(size);
    int same = f && fread(disk, 1, size, f) == size && fgetc(f) == EOF && memcmp(disk, bytes, size) == 0;
    if (f) fclose(f);
    free(disk);
    tap_ok(same, "the file holds exactly the serialized bytes");
    remove(path);

    /* the writer's own checks */
    tg_safetensors_entry dup[2] = {in[0], in[0]};
    tap_ok(tg_safetensors_serialize(dup, 2, &bytes, &size) == TG_ERR_INVALID &&
               strstr(tg_last_error(), "twice"), "writer refuses duplicate names: %s", tg_last_error());
    tg_safetensors_entry wrong = in[0];
    wrong.nbytes--;
    tap_ok(tg_safetensors_write(path, &wrong, 1) == TG_ERR_INVALID, "writer refuses nbytes != shape: %s",
           tg_last_error());
    wrong = in[0];
    wrong.name = "__metadata__";
    tap_ok(tg_safetensors_write(path, &wrong, 1) == TG_ERR_INVALID, "writer refuses '__metadata__'");
    tap_ok(tg_safetensors_read(path, &out, &count) == TG_ERR_NOT_FOUND, "refused writes leave no file");

    free(bytes);
    for (size_t i = 0; i < n; i++) free(in[i].data);
}

static void test_python_file(const char *golden) {
    char path[4096];
    snprintf(path, sizeof path, "%s/dtypes.safetensors", golden);
    tg_safetensors_entry *es = NULL;
    size_t count = 0;
    tg_status st = tg_safetensors_read(path, &es, &count);
    tap_ok(st == TG_OK && count == 14, "read the file written by Python safetensors: %zu tensors %s", count,
           st ? tg_last_error() : "");
    if (st) return;
    static const struct { const char *name; tg_dtype dt; int ndim; int64_t shape[3]; } want[] = {
        {"bool", TG_BOOL, 1, {5}}, {"int8", TG_INT8, 2, {2, 3}}, {"uint8", TG_UINT8, 1, {7}},
        {"int16", TG_INT16, 2, {3, 2}}, {"uint16", TG_UINT16, 1, {4}}, {"int32", TG_INT32, 3, {2, 2, 2}},
        {"uint32", TG_UINT32, 1, {3}}, {"int64", TG_INT64, 2, {2, 3}}, {"uint64", TG_UINT64, 2, {1, 4}},
        {"float16", TG_FLOAT16, 2, {2, 5}}, {"float32", TG_FLOAT32, 2, {3, 4}}, {"float64", TG_FLOAT64, 1, {6}},
    };
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        const tg_safetensors_entry *e = tg_safetensors_find(es, count, want[k].name);
        int ok = e && e->dtype == want[k].dt && e->ndim == want[k].ndim &&
                 memcmp(e->shape, want[k].shape, (size_t)e->ndim * 8) == 0;
        for (size_t i = 0; ok && i < numel(e); i++)
            ok = elem(e, i) == (e->dtype == TG_BOOL ? (double)(i % 2) : (double)i);
        tap_ok(ok, "python tensor '%s': dtype, shape and values", want[k].name);
    }
    const tg_safetensors_entry *s = tg_safetensors_find(es, count, "scalar_f32");
    tap_ok(s && s->ndim == 0 && s->nbytes == 4 && elem(s, 0) == 3.5, "python scalar (shape [])");
    const tg_safetensors_entry *z = tg_safetensors_find(es, count, "empty_f32");
    tap_ok(z && z->ndim == 2 && z->shape[0] == 0 && z->shape[1] == 3 && z->nbytes == 0, "python empty tensor");
    tg_safetensors_free(es, count);
}

static void test_malformed(void) {
    const char *ok1 = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    size_t size;
    unsigned char *b = make_file(ok1, 8, &size);
    tg_safetensors_entry *es;
    size_t count;
    tap_ok(tg_safetensors_parse(b, size, &es, &count) == TG_OK && count == 1, "a minimal file parses");
    tg_safetensors_free(es, count);
    expect_reject("a missing data byte", b, size - 1, TG_ERR_INVALID, "outside the 7 data bytes");
    b[size] = 0;
    expect_reject("a trailing byte", b, size + 1, TG_ERR_INVALID, "cover 8 data bytes but the file has 9");
    for (int i = 0; i < 8; i++) b[i] = 0xff;
    expect_reject("header length 2^64-1", b, size, TG_ERR_INVALID, "exceeds the file");
    free(b);
    expect_reject("an empty file", (const unsigned char *)"", 0, TG_ERR_INVALID, "too short");
    expect_reject("a NULL buffer", NULL, 0, TG_ERR_INVALID, "too short");

    reject_json("a header that is not JSON", "PK\x03\x04 zip!", 0, TG_ERR_INVALID, "must start with '{'");
    reject_json("a top-level array", "[1, 2]", 0, TG_ERR_INVALID, "must start with '{'");
    reject_json("an unterminated object", "{\"a\":{\"dtype\":\"F32\"", 0, TG_ERR_INVALID, "");
    reject_json("an unterminated string", "{\"abc", 0, TG_ERR_INVALID, "unterminated string");
    reject_json("garbage after the object", "{} x", 0, TG_ERR_INVALID, "after the header");
    reject_json("a bad escape", "{\"a\\q\":{}}", 0, TG_ERR_INVALID, "bad escape");
    reject_json("a lone surrogate", "{\"a\\ud800\":{}}", 0, TG_ERR_INVALID, "surrogate");
    reject_json("\\u0000 in a name", "{\"a\\u0000b\":{}}", 0, TG_ERR_INVALID, "\\u0000");
    reject_json("invalid UTF-8", "{\"a\xc0\xaf\":{}}", 0, TG_ERR_INVALID, "UTF-8");
    reject_json("a raw control character", "{\"a\x01\":{}}", 0, TG_ERR_INVALID, "control character");
    reject_json("a missing dtype", "{\"a\":{\"shape\":[],\"data_offsets\":[0,4]}}", 4, TG_ERR_INVALID,
                "lacks 'dtype'");
    reject_json("a missing data_offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[]}}", 4, TG_ERR_INVALID,
                "lacks 'data_offsets'");
    reject_json("an unknown dtype", "{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
                TG_ERR_UNSUPPORTED, "F8_E4M3");
    reject_json("a negative dim", "{\"a\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0,
                TG_ERR_INVALID, "negative");
    reject_json("a fractional dim", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1.5],\"data_offsets\":[0,1]}}", 1,
                TG_ERR_INVALID, "integer");
    reject_json("a dim past int64", "{\"a\":{\"dtype\":\"U8\",\"shape\":[9223372036854775808],\"data_offsets\":[0,1]}}",
                1, TG_ERR_INVALID, "too large");
    reject_json("a shape whose size overflows",
                "{\"a\":{\"dtype\":\"F64\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,8]}}", 8,
                TG_ERR_INVALID, "overflows");
    reject_json("a 0 dim beside dims whose product overflows",
                "{\"a\":{\"dtype\":\"U8\",\"shape\":[0,4294967296,4294967296],\"data_offsets\":[0,0]}}", 0,
                TG_ERR_INVALID, "overflows");
    reject_json("data bytes but no tensors", "{}", 4, TG_ERR_INVALID, "cover 0 data bytes");
    {
        size_t esize;
        unsigned char *e0 = make_file("{}      ", 0, &esize);
        tg_safetensors_entry *none = NULL;
        size_t nc = 5;
        tap_ok(tg_safetensors_parse(e0, esize, &none, &nc) == TG_OK && nc == 0, "a file with no tensors parses");
        tg_safetensors_free(none, nc);
        free(e0);
    }
    reject_json("a huge shape with a small span",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1000000000],\"data_offsets\":[0,4]}}", 4, TG_ERR_INVALID,
                "needs 4000000000 bytes");
    reject_json("9 dims", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 1,
                TG_ERR_UNSUPPORTED, "more than 8 dims");
    reject_json("offsets past the data", "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[2,6]}}", 4,
                TG_ERR_INVALID, "outside");
    reject_json("offset overflow",
                "{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[18446744073709551615,1]}}", 2,
                TG_ERR_INVALID, "outside");
    reject_json("offsets past uint64", "{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,18446744073709551616]}}",
                2, TG_ERR_INVALID, "too large");
    reject_json("three offsets", "{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,1,2]}}", 2,
                TG_ERR_INVALID, "exactly 2");
    reject_json("overlapping tensors",
                "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
                "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[2,6]}}", 6, TG_ERR_INVALID, "gap or overlap");
    reject_json("a gap", "{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[2,4]}}", 4, TG_ERR_INVALID,
                "gap or overlap");
    reject_json("a duplicate name",
                "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2, TG_ERR_INVALID, "twice");
    reject_json("a duplicate key", "{\"a\":{\"dtype\":\"U8\",\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}",
                1, TG_ERR_INVALID, "twice");
    reject_json("a non-string metadata value", "{\"__metadata__\":{\"k\":1}}", 0, TG_ERR_INVALID, "strings");

    /* deep nesting in an unknown key must not exhaust the stack */
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 64);
    strcpy(deep, "{\"a\":{\"x\":");
    size_t len = strlen(deep);
    memset(deep + len, '[', depth);
    memset(deep + len + depth, ']', depth);
    strcpy(deep + len + 2 * depth, ",\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[0,1]}}");
    reject_json("100000 nested arrays", deep, 1, TG_ERR_INVALID, "nested deeper");
    free(deep);

    /* tolerated: unknown keys, metadata, whitespace, padding, escaped names */
    const char *fancy = "{ \"__metadata__\":{\"format\":\"pt\"}, \"w\\u00e9\\ud83d\\ude00\" : { \"extra\" : [1,{\"k\":null}],"
                        " \"data_offsets\":[0,2], \"shape\":[1], \"dtype\":\"BF16\"} }      ";
    b = make_file(fancy, 2, &size);
    tg_status st = tg_safetensors_parse(b, size, &es, &count);
    tap_ok(st == TG_OK && count == 1 && strcmp(es[0].name, "w\xc3\xa9\xf0\x9f\x98\x80") == 0 &&
               es[0].dtype == TG_BFLOAT16, "accepts metadata, unknown keys, whitespace, \\u escapes: %s",
           st ? tg_last_error() : "ok");
    if (st == TG_OK) tg_safetensors_free(es, count);
    free(b);
    tap_ok(tg_safetensors_read("/nonexistent/x.safetensors", &es, &count) == TG_ERR_NOT_FOUND &&
               strstr(tg_last_error(), "/nonexistent/x.safetensors"), "a missing file names the path");
    tap_ok(tg_safetensors_read("/", &es, &count) == TG_ERR_IO, "a directory is refused: %s", tg_last_error());
}

/* The whole file at path, malloc'd, or NULL. */
static unsigned char *slurp(const char *path, size_t *out_size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *buf = NULL;
    size_t size = 0, cap = 0, got;
    do {
        if (size == cap) {
            cap = cap ? cap * 2 : 4096;
            unsigned char *b = realloc(buf, cap);
            if (!b) break;
            buf = b;
        }
        got = fread(buf + size, 1, cap - size, f);
        size += got;
    } while (got > 0);
    fclose(f);
    *out_size = size;
    return buf;
}

/* Files in dir whose name starts with prefix. */
static int count_prefixed(const char *dir, const char *prefix) {
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    if (d) closedir(d);
    return n;
}

/* A failed save leaves the previous file as it was and no temporary file. */
static void test_failed_write_keeps_file(const char *scratch) {
    char path[4096];
    snprintf(path, sizeof path, "%s/nn_keep.safetensors", scratch);
    remove(path);
    int64_t shape[1] = {4};
    tg_safetensors_entry good = make_entry("w", TG_FLOAT32, 1, shape);
    tap_ok(tg_safetensors_write(path, &good, 1) == TG_OK, "write the first checkpoint");
    size_t size0 = 0;
    unsigned char *before = slurp(path, &size0);

    tg_safetensors_entry dup[2] = {good, good};
    tap_ok(tg_safetensors_write(path, dup, 2) == TG_ERR_INVALID, "a duplicate name is refused");
    size_t size1 = 0;
    unsigned char *after = slurp(path, &size1);
    tap_ok(after && size1 == size0 && memcmp(after, before, size0) == 0,
           "a refused duplicate name leaves the previous file intact");
    free(after);
    tg_safetensors_entry reserved = good;
    reserved.name = "__metadata__";
    tg_safetensors_write(path, &reserved, 1);
    after = slurp(path, &size1);
    tap_ok(after && size1 == size0 && memcmp(after, before, size0) == 0,
           "a refused reserved name leaves the previous file intact");
    free(after);

    /* a full disk: the file size limit makes the write fail with EFBIG */
    int64_t big_shape[1] = {1 << 16};
    tg_safetensors_entry big = make_entry("w", TG_FLOAT32, 1, big_shape);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 4096;
    signal(SIGXFSZ, SIG_IGN);
    int limited = setrlimit(RLIMIT_FSIZE, &lim) == 0;
    tg_status st = tg_safetensors_write(path, &big, 1);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, SIG_DFL);
    after = slurp(path, &size1);
    tap_ok(!limited || (st == TG_ERR_IO && after && size1 == size0 && memcmp(after, before, size0) == 0),
           "a write that fails midway (file size limit) keeps the previous file: %s",
           st ? tg_last_error() : "ok?");
    free(after);
    tap_ok(count_prefixed(scratch, "nn_keep.safetensors.tmp") == 0, "no temporary file is left behind");
    chmod(path, 0600);
    tap_ok(tg_safetensors_write(path, &big, 1) == TG_OK, "the same write succeeds without the limit");
    struct stat sb;
    tap_ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600, "the replaced file keeps its mode (0600)");
    tg_safetensors_entry *es = NULL;
    size_t count = 0;
    tap_ok(tg_safetensors_read(path, &es, &count) == TG_OK && count == 1 && es[0].nbytes == big.nbytes,
           "and replaced the file");
    tg_safetensors_free(es, count);
    free(before);
    free(big.data);
    free(good.data);

    /* an empty list: a valid file with no tensors, read back as none */
    tap_ok(tg_safetensors_write(path, NULL, 0) == TG_OK, "writing no tensors: %s", tg_last_error());
    es = NULL;
    count = 7;
    tap_ok(tg_safetensors_read(path, &es, &count) == TG_OK && count == 0, "reads back no tensors: %s",
           tg_last_error());
    tg_safetensors_free(es, count);
    tg_params *params = NULL;
    tap_ok(tg_params_create(&params) == TG_OK && tg_params_save(params, path) == TG_OK,
           "saving an empty parameter list works: %s", tg_last_error());
    tg_params_destroy(params);
    remove(path);
}

int main(int argc, char **argv) {
    const char *golden = argc > 1 ? argv[1] : "tests/nn/golden";
    const char *scratch = argc > 2 ? argv[2] : ".";
    test_round_trip(scratch);
    test_python_file(golden);
    test_malformed();
    test_failed_write_keeps_file(scratch);
    return tap_done();
}
