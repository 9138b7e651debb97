/* The safetensors format on host memory: a strict JSON header parser, a
 * reader that checks every offset against the file size, a writer. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <tg/runtime.h>
#include <tg/safetensors.h>

#define MAX_JSON_DEPTH 64

static const char *const st_dtype_names[TG_DTYPE_COUNT] = {
    "BOOL", "I8", "U8", "I16", "U16", "I32", "U32", "I64", "U64", "F16", "BF16", "F32", "F64"};

const char *tg_safetensors_dtype_name(tg_dtype dtype) {
    return (unsigned)dtype < TG_DTYPE_COUNT ? st_dtype_names[dtype] : "?";
}

tg_status tg_safetensors_dtype_parse(const char *name, tg_dtype *out_dtype) {
    for (int d = 0; name && d < TG_DTYPE_COUNT; d++) {
        if (strcmp(name, st_dtype_names[d]) == 0) {
            *out_dtype = (tg_dtype)d;
            return TG_OK;
        }
    }
    return tg_error(TG_ERR_UNSUPPORTED, "safetensors dtype '%s' is not supported by tg",
                    name ? name : "(null)");
}

/* Length of the well-formed UTF-8 sequence at s[0..n), 0 if malformed. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;     /* overlong */
        if (c == 0xED) hi = 0x9F;     /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;     /* overlong */
        if (c == 0xF4) hi = 0x8F;     /* past U+10FFFF */
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    return len;
}

/* Offset of the first malformed byte, or n if all of s is valid UTF-8. */
static size_t utf8_check(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        size_t len = utf8_seq(s + i, n - i);
        if (len == 0) return i;
        i += len;
    }
    return n;
}

/* ------------------------------------------------------------ the header */

typedef struct parsed {
    tg_safetensors_entry e;
    uint64_t begin, end;
} parsed;

typedef struct parser {
    const char *s;
    size_t n, pos;
    const char *src;     /* file name for messages */
    parsed *items;
    size_t count, cap;
} parser;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static tg_status bad(parser *p, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return tg_error(TG_ERR_INVALID, "%s: safetensors header, byte %zu: %s", p->src, p->pos, msg);
}

static void skip_ws(parser *p) {
    while (p->pos < p->n && strchr(" \t\r\n", p->s[p->pos]) && p->s[p->pos] != '\0') p->pos++;
}

/* Skip whitespace; the next character, or 0 at the end. */
static char peek(parser *p) {
    skip_ws(p);
    return p->pos < p->n ? p->s[p->pos] : 0;
}

static tg_status expect(parser *p, char c) {
    if (peek(p) != c) {
        if (p->pos >= p->n) return bad(p, "expected '%c', found the end of the header", c);
        return bad(p, "expected '%c', found '%c'", c, p->s[p->pos]);
    }
    p->pos++;
    return TG_OK;
}

static int hex4(const char *s, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return 0;
    }
    *out = v;
    return 1;
}

static size_t put_utf8(char *o, unsigned cp) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A JSON string, decoded into a malloc'd NUL-terminated buffer (out may be
 * NULL to skip it). The header's UTF-8 was checked before parsing. */
static tg_status parse_string(parser *p, char **out) {
    tg_status st = expect(p, '"');
    if (st) return st;
    size_t start = p->pos, end = start;
    while (end < p->n && p->s[end] != '"') end += p->s[end] == '\\' ? 2 : 1;
    if (end >= p->n) return bad(p, "unterminated string");
    char *o = out ? malloc(end - start + 1) : NULL; /* decoding never grows */
    if (out && !o) return tg_error(TG_ERR_NO_MEMORY, "%s: out of memory", p->src);
    size_t len = 0;
    while (p->pos < end) {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c < 0x20) { free(o); return bad(p, "control character in a string"); }
        if (c != '\\') {
            if (o) o[len] = (char)c;
            len++;
            p->pos++;
            continue;
        }
        char e = p->s[p->pos + 1];
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            if (o) o[len] = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
            len++;
            p->pos += 2;
            continue;
        }
        unsigned cp, lo;
        if (e != 'u' || end - p->pos < 6 || !hex4(p->s + p->pos + 2, &cp)) {
            free(o);
            return bad(p, "bad escape in a string");
        }
        p->pos += 6;
        if (cp >= 0xDC00 && cp <= 0xDFFF) { free(o); return bad(p, "lone low surrogate"); }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (end - p->pos < 6 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u' ||
                !hex4(p->s + p->pos + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
                free(o);
                return bad(p, "lone high surrogate");
            }
            p->pos += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        if (cp == 0) { free(o); return bad(p, "\\u0000 in a string"); }
        /* an escape takes 6 or 12 bytes and decodes to at most 4 */
        len += o ? put_utf8(o + len, cp) : put_utf8((char[4]){0}, cp);
    }
    p->pos = end + 1;
    if (o) {
        o[len] = '\0';
        *out = o;
    }
    return TG_OK;
}

/* A non-negative integer written as plain digits, at most `max`. */
static tg_status parse_uint(parser *p, uint64_t max, const char *what, uint64_t *out) {
    char c = peek(p);
    if (c == '-') return bad(p, "%s is negative", what);
    if (c < '0' || c > '9') return bad(p, "%s must be a non-negative integer", what);
    uint64_t v = 0;
    size_t start = p->pos;
    while (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
        unsigned d = (unsigned)(p->s[p->pos] - '0');
        if (v > (max - d) / 10) return bad(p, "%s is too large (at most %" PRIu64 ")", what, max);
        v = v * 10 + d;
        p->pos++;
    }
    if (p->s[start] == '0' && p->pos - start > 1) return bad(p, "%s has a leading zero", what);
    if (p->pos < p->n && strchr(".eE", p->s[p->pos]) && p->s[p->pos] != '\0')
        return bad(p, "%s must be an integer", what);
    *out = v;
    return TG_OK;
}

/* Walks the members of an object or the elements of an array whose opening
 * bracket was consumed: true while another one follows (its comma consumed),
 * false at the closing bracket, or on an error (in *st). */
static bool more(parser *p, char close, bool *first, tg_status *st) {
    char c = peek(p);
    if (*first) {
        *first = false;
        if (c != close) return true;
    } else if (c == ',') {
        p->pos++;
        return true;
    }
    *st = expect(p, close);
    return false;
}

static tg_status skip_value(parser *p, int depth) {
    tg_status st = TG_OK;
    bool first = true;
    if (depth > MAX_JSON_DEPTH) return bad(p, "nested deeper than %d", MAX_JSON_DEPTH);
    char c = peek(p);
    if (c == '"') return parse_string(p, NULL);
    if (c == '{' || c == '[') {
        p->pos++;
        while (more(p, c == '{' ? '}' : ']', &first, &st)) {
            if (c == '{' && ((st = parse_string(p, NULL)) || (st = expect(p, ':')))) return st;
            if ((st = skip_value(p, depth + 1))) return st;
        }
        return st;
    }
    static const char *const words[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t len = strlen(words[i]);
        if (p->n - p->pos >= len && memcmp(p->s + p->pos, words[i], len) == 0) {
            p->pos += len;
            return TG_OK;
        }
    }
    size_t start = p->pos;   /* any JSON number, loosely */
    while (p->pos < p->n && p->s[p->pos] && strchr("0123456789.eE+-", p->s[p->pos])) p->pos++;
    if (p->pos > start) return TG_OK;
    return p->pos >= p->n ? bad(p, "unexpected end of the header") : bad(p, "unexpected '%c'", c);
}

/* "__metadata__": an object of strings. */
static tg_status parse_metadata(parser *p) {
    tg_status st = expect(p, '{');
    bool first = true;
    while (!st && more(p, '}', &first, &st)) {
        if ((st = parse_string(p, NULL)) || (st = expect(p, ':'))) return st;
        if (peek(p) != '"') return bad(p, "__metadata__ values must be strings");
        st = parse_string(p, NULL);
    }
    return st;
}

static tg_status parse_shape(parser *p, parsed *t) {
    tg_status st = expect(p, '[');
    bool first = true;
    while (!st && more(p, ']', &first, &st)) {
        uint64_t d;
        if ((st = parse_uint(p, INT64_MAX, "a shape entry", &d))) return st;
        if (t->e.ndim == TG_MAX_DIMS)
            return tg_error(TG_ERR_UNSUPPORTED, "%s: tensor '%s' has more than %d dims (tg's limit)",
                            p->src, t->e.name, TG_MAX_DIMS);
        t->e.shape[t->e.ndim++] = (int64_t)d;
    }
    return st;
}

static tg_status parse_offsets(parser *p, parsed *t) {
    tg_status st;
    if ((st = expect(p, '[')) || (st = parse_uint(p, UINT64_MAX, "a data offset", &t->begin)) ||
        (st = expect(p, ',')) || (st = parse_uint(p, UINT64_MAX, "a data offset", &t->end)))
        return st;
    if (peek(p) == ',') return bad(p, "data_offsets must have exactly 2 entries");
    return expect(p, ']');
}

static tg_status parse_dtype(parser *p, parsed *t) {
    char *name = NULL;
    if (peek(p) != '"') return bad(p, "tensor '%s': dtype must be a string", t->e.name);
    tg_status st = parse_string(p, &name);
    if (!st && (st = tg_safetensors_dtype_parse(name, &t->e.dtype)))
        tg_error(st, "%s: tensor '%s' has dtype '%s', which tg does not support", p->src, t->e.name, name);
    free(name);
    return st;
}

/* {"dtype": ..., "shape": [...], "data_offsets": [b, e]}; other keys skipped. */
static tg_status parse_tensor(parser *p, parsed *t) {
    static const char *const keys[3] = {"dtype", "shape", "data_offsets"};
    bool seen[3] = {false}, first = true;
    tg_status st = expect(p, '{');
    while (!st && more(p, '}', &first, &st)) {
        char *key = NULL;
        int k = 0;
        if (!(st = parse_string(p, &key)) && !(st = expect(p, ':'))) {
            while (k < 3 && strcmp(key, keys[k]) != 0) k++;
            if (k < 3 && seen[k]) st = bad(p, "tensor '%s': key '%s' appears twice", t->e.name, key);
            else if (k < 3) seen[k] = true;
        }
        free(key);
        if (!st) st = k == 0 ? parse_dtype(p, t) : k == 1 ? parse_shape(p, t) : k == 2 ? parse_offsets(p, t)
                                                                                       : skip_value(p, 1);
    }
    for (int k = 0; !st && k < 3; k++)
        if (!seen[k]) st = bad(p, "tensor '%s' lacks '%s'", t->e.name, keys[k]);
    return st;
}

static tg_status parse_header(parser *p) {
    size_t bad_utf8 = utf8_check((const unsigned char *)p->s, p->n);
    if (bad_utf8 < p->n) {
        p->pos = bad_utf8;
        return bad(p, "not valid UTF-8");
    }
    tg_status st = expect(p, '{');
    bool first = true, seen_metadata = false;
    while (!st && more(p, '}', &first, &st)) {
        char *name = NULL;
        if ((st = parse_string(p, &name)) || (st = expect(p, ':'))) {
            free(name);
            return st;
        }
        if (strcmp(name, "__metadata__") == 0) {
            free(name);
            if (seen_metadata) return bad(p, "__metadata__ appears twice");
            seen_metadata = true;
            st = parse_metadata(p);
            continue;
        }
        if (p->count == p->cap) {
            size_t cap = p->cap ? p->cap * 2 : 16;
            parsed *items = realloc(p->items, cap * sizeof *items);
            if (!items) {
                free(name);
                return tg_error(TG_ERR_NO_MEMORY, "%s: out of memory", p->src);
            }
            p->items = items;
            p->cap = cap;
        }
        parsed *t = &p->items[p->count++];
        memset(t, 0, sizeof *t);
        t->e.name = name;
        st = parse_tensor(p, t);
    }
    if (!st && peek(p) != 0) return bad(p, "unexpected '%c' after the header object", p->s[p->pos]);
    return st;
}

static int cmp_name(const void *a, const void *b) {
    return strcmp(((const parsed *)a)->e.name, ((const parsed *)b)->e.name);
}

static int cmp_offset(const void *a, const void *b) {
    const parsed *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

/* The bytes of a tensor of this dtype and shape; false when its element
 * count (its non-zero dims' product, so that a 0 dim hides no overflow)
 * exceeds INT64_MAX, which no tg tensor can hold. */
static bool st_shape_bytes(tg_dtype dtype, int ndim, const int64_t *shape, uint64_t *out_bytes) {
    uint64_t elems = 1;
    bool empty = false;
    for (int d = 0; d < ndim; d++) {
        uint64_t dim = (uint64_t)shape[d];
        if (shape[d] < 0) return false;
        if (dim == 0) empty = true;
        else if (elems > (uint64_t)INT64_MAX / dim) return false;
        else elems *= dim;
    }
    uint64_t size = tg_dtype_size(dtype);
    if (elems > UINT64_MAX / size) return false;
    *out_bytes = empty ? 0 : elems * size;
    return true;
}

static tg_status check_tiling(parser *p, uint64_t data_size);

/* Every tensor's size matches its shape and dtype; names are unique; the
 * tensors tile [0, data_size) exactly. Sorts p->items by offset. */
static tg_status check_layout(parser *p, uint64_t data_size) {
    for (size_t i = 0; i < p->count; i++) {
        parsed *t = &p->items[i];
        uint64_t bytes;
        if (!st_shape_bytes(t->e.dtype, t->e.ndim, t->e.shape, &bytes))
            return tg_error(TG_ERR_INVALID, "%s: tensor '%s': shape overflows (more than 2^63 elements)",
                            p->src, t->e.name);
        if (t->begin > t->end || t->end > data_size)
            return tg_error(TG_ERR_INVALID,
                            "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64
                            "] lie outside the %" PRIu64 " data bytes (truncated file?)",
                            p->src, t->e.name, t->begin, t->end, data_size);
        if (t->end - t->begin != bytes)
            return tg_error(TG_ERR_INVALID,
                            "%s: tensor '%s': %s shape needs %" PRIu64 " bytes but data_offsets span %" PRIu64,
                            p->src, t->e.name, st_dtype_names[t->e.dtype], bytes, t->end - t->begin);
        t->e.nbytes = (size_t)bytes;
    }
    if (p->count < 2) return check_tiling(p, data_size); /* nothing to sort (qsort wants non-NULL) */
    qsort(p->items, p->count, sizeof *p->items, cmp_name);
    for (size_t i = 1; i < p->count; i++)
        if (strcmp(p->items[i - 1].e.name, p->items[i].e.name) == 0)
            return tg_error(TG_ERR_INVALID, "%s: tensor '%s' appears twice", p->src, p->items[i].e.name);
    qsort(p->items, p->count, sizeof *p->items, cmp_offset);
    return check_tiling(p, data_size);
}

/* The tensors, sorted by offset, tile [0, data_size) exactly. */
static tg_status check_tiling(parser *p, uint64_t data_size) {
    uint64_t at = 0;
    for (size_t i = 0; i < p->count; i++) {
        if (p->items[i].begin != at)
            return tg_error(TG_ERR_INVALID, "%s: tensor '%s' starts at data byte %" PRIu64
                            " but the previous tensor ends at %" PRIu64 " (gap or overlap)",
                            p->src, p->items[i].e.name, p->items[i].begin, at);
        at = p->items[i].end;
    }
    if (at != data_size)
        return tg_error(TG_ERR_INVALID, "%s: the tensors cover %" PRIu64 " data bytes but the file has %" PRIu64,
                        p->src, at, data_size);
    return TG_OK;
}

/* ---------------------------------------------------------------- reading */

/* A file or a memory buffer. */
typedef struct source {
    const char *name;
    FILE *f;
    const unsigned char *mem;
    uint64_t size;
} source;

static tg_status read_at(const source *s, uint64_t off, void *buf, size_t n) {
    if (n == 0) return TG_OK;
    if (s->mem) {
        memcpy(buf, s->mem + off, n);
        return TG_OK;
    }
    if (fseeko(s->f, (off_t)off, SEEK_SET) != 0 || fread(buf, 1, n, s->f) != n)
        return tg_error(TG_ERR_IO, "%s: read failed at byte %" PRIu64 ": %s", s->name, off,
                        ferror(s->f) ? strerror(errno) : "unexpected end of file");
    return TG_OK;
}

static void free_parsed(parsed *items, size_t count) {
    for (size_t i = 0; i < count; i++) {
        free(items[i].e.name);
        free(items[i].e.data);
    }
    free(items);
}

static tg_status load(const source *s, tg_safetensors_entry **out_entries, size_t *out_count) {
    unsigned char len8[8];
    tg_status st;
    if (s->size < 8)
        return tg_error(TG_ERR_INVALID, "%s: %" PRIu64 " bytes is too short for a safetensors file",
                        s->name, s->size);
    if ((st = read_at(s, 0, len8, 8))) return st;
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | len8[i];
    if (n > s->size - 8)
        return tg_error(TG_ERR_INVALID, "%s: header length %" PRIu64 " exceeds the file's %" PRIu64
                        " remaining bytes (truncated or not safetensors)", s->name, n, s->size - 8);
    if (n > TG_SAFETENSORS_MAX_HEADER)
        return tg_error(TG_ERR_INVALID, "%s: header length %" PRIu64 " exceeds the limit of %" PRIu64,
                        s->name, n, TG_SAFETENSORS_MAX_HEADER);
    if (n < 2) return tg_error(TG_ERR_INVALID, "%s: header of %" PRIu64 " bytes is too short", s->name, n);
    char *json = malloc((size_t)n);
    if (!json) return tg_error(TG_ERR_NO_MEMORY, "%s: out of memory for the header", s->name);
    if ((st = read_at(s, 8, json, (size_t)n))) {
        free(json);
        return st;
    }
    parser p = {.s = json, .n = (size_t)n, .src = s->name};
    if (json[0] != '{') st = bad(&p, "the header must start with '{' (not a safetensors file?)");
    if (!st) st = parse_header(&p);
    free(json);
    uint64_t data_start = 8 + n;
    if (!st) st = check_layout(&p, s->size - data_start);
    for (size_t i = 0; !st && i < p.count; i++) {
        parsed *t = &p.items[i];
        t->e.data = malloc(t->e.nbytes ? t->e.nbytes : 1);
        if (!t->e.data)
            st = tg_error(TG_ERR_NO_MEMORY, "%s: out of memory for tensor '%s' (%zu bytes)", s->name,
                          t->e.name, t->e.nbytes);
        else
            st = read_at(s, data_start + t->begin, t->e.data, t->e.nbytes);
    }
    if (st) {
        free_parsed(p.items, p.count);
        return st;
    }
    tg_safetensors_entry *entries = calloc(p.count ? p.count : 1, sizeof *entries);
    if (!entries) {
        free_parsed(p.items, p.count);
        return tg_error(TG_ERR_NO_MEMORY, "%s: out of memory", s->name);
    }
    for (size_t i = 0; i < p.count; i++) entries[i] = p.items[i].e;
    free(p.items);
    *out_entries = entries;
    *out_count = p.count;
    return TG_OK;
}

tg_status tg_safetensors_parse(const void *bytes, size_t size, tg_safetensors_entry **out_entries,
                               size_t *out_count) {
    if (!bytes && size) return tg_error(TG_ERR_INVALID, "tg_safetensors_parse: bytes is NULL");
    if (!out_entries || !out_count) return tg_error(TG_ERR_INVALID, "tg_safetensors_parse: NULL output");
    source s = {.name = "<memory>", .mem = bytes, .size = size};
    return load(&s, out_entries, out_count);
}

tg_status tg_safetensors_read(const char *path, tg_safetensors_entry **out_entries, size_t *out_count) {
    if (!path || !out_entries || !out_count)
        return tg_error(TG_ERR_INVALID, "tg_safetensors_read: NULL argument");
    FILE *f = fopen(path, "rb");
    if (!f)
        return tg_error(errno == ENOENT ? TG_ERR_NOT_FOUND : TG_ERR_IO, "%s: cannot open: %s", path,
                        strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return tg_error(TG_ERR_IO, "%s: not a regular file", path);
    }
    source s = {.name = path, .f = f, .size = (uint64_t)sb.st_size};
    tg_status st = load(&s, out_entries, out_count);
    fclose(f);
    return st;
}

void tg_safetensors_free(tg_safetensors_entry *entries, size_t count) {
    if (!entries) return;
    for (size_t i = 0; i < count; i++) {
        free(entries[i].name);
        free(entries[i].data);
    }
    free(entries);
}

const tg_safetensors_entry *tg_safetensors_find(const tg_safetensors_entry *entries, size_t count,
                                                const char *name) {
    for (size_t i = 0; entries && name && i < count; i++)
        if (strcmp(entries[i].name, name) == 0) return &entries[i];
    return NULL;
}

/* ---------------------------------------------------------------- writing */

static int cmp_write_order(const void *a, const void *b) {
    const tg_safetensors_entry *x = *(const tg_safetensors_entry *const *)a;
    const tg_safetensors_entry *y = *(const tg_safetensors_entry *const *)b;
    size_t sx = tg_dtype_size(x->dtype), sy = tg_dtype_size(y->dtype);
    if (sx != sy) return sx > sy ? -1 : 1;
    return strcmp(x->name, y->name);
}

static tg_status check_entry(const tg_safetensors_entry *e) {
    if (!e->name) return tg_error(TG_ERR_INVALID, "safetensors: an entry has no name");
    size_t n = strlen(e->name);
    if (utf8_check((const unsigned char *)e->name, n) != n)
        return tg_error(TG_ERR_INVALID, "safetensors: name '%s' is not valid UTF-8", e->name);
    if (strcmp(e->name, "__metadata__") == 0)
        return tg_error(TG_ERR_INVALID, "safetensors: '__metadata__' is reserved, not a tensor name");
    if ((unsigned)e->dtype >= TG_DTYPE_COUNT || e->ndim < 0 || e->ndim > TG_MAX_DIMS)
        return tg_error(TG_ERR_INVALID, "safetensors: tensor '%s' has dtype %d and %d dims", e->name,
                        (int)e->dtype, e->ndim);
    uint64_t bytes;
    if (!st_shape_bytes(e->dtype, e->ndim, e->shape, &bytes))
        return tg_error(TG_ERR_INVALID, "safetensors: tensor '%s' has a negative dim or more than 2^63 elements",
                        e->name);
    if (bytes != e->nbytes)
        return tg_error(TG_ERR_INVALID, "safetensors: tensor '%s': shape and dtype need %" PRIu64
                        " bytes, nbytes is %zu", e->name, bytes, e->nbytes);
    if (bytes && !e->data) return tg_error(TG_ERR_INVALID, "safetensors: tensor '%s' has no data", e->name);
    return TG_OK;
}

/* The header: {"name":{"dtype":..,"shape":[..],"data_offsets":[b,e]},...}
 * padded with spaces to a multiple of 8 bytes, into a malloc'd string. */
static tg_status make_header(const tg_safetensors_entry **order, size_t count, char **out, size_t *out_len) {
    FILE *h = open_memstream(out, out_len);
    if (!h) return tg_error(TG_ERR_NO_MEMORY, "safetensors: out of memory for the header");
    uint64_t at = 0;
    fputc('{', h);
    for (size_t i = 0; i < count; i++) {
        const tg_safetensors_entry *e = order[i];
        fputs(i ? ",\"" : "\"", h);
        for (const unsigned char *c = (const unsigned char *)e->name; *c; c++) {
            if (*c == '"' || *c == '\\') fprintf(h, "\\%c", *c);
            else if (*c < 0x20) fprintf(h, "\\u%04x", *c);
            else fputc(*c, h);
        }
        fprintf(h, "\":{\"dtype\":\"%s\",\"shape\":[", st_dtype_names[e->dtype]);
        for (int d = 0; d < e->ndim; d++) fprintf(h, d ? ",%" PRId64 : "%" PRId64, e->shape[d]);
        fprintf(h, "],\"data_offsets\":[%" PRIu64 ",%" PRIu64 "]}", at, at + e->nbytes);
        at += e->nbytes;
    }
    fputc('}', h);
    for (long n = ftell(h); n % 8; n++) fputc(' ', h);
    if (fclose(h) != 0) {
        free(*out);
        return tg_error(TG_ERR_NO_MEMORY, "safetensors: out of memory for the header");
    }
    return TG_OK;
}

/* A checked, ordered file: the entries in write order and the header. */
typedef struct st_plan {
    const tg_safetensors_entry **order;
    char *hdr;
    size_t len;
    size_t count;
} st_plan;

static void plan_free(st_plan *pl) {
    free(pl->order);
    free(pl->hdr);
}

/* Checks the entries (names, shapes, duplicates) and builds the header;
 * nothing is written anywhere. */
static tg_status plan_file(const tg_safetensors_entry *entries, size_t count, st_plan *out) {
    tg_status st = TG_OK;
    memset(out, 0, sizeof *out);
    if (count && !entries) return tg_error(TG_ERR_INVALID, "safetensors: entries is NULL");
    for (size_t i = 0; i < count; i++)
        if ((st = check_entry(&entries[i]))) return st;
    const tg_safetensors_entry **order = malloc((count ? count : 1) * sizeof *order);
    if (!order) return tg_error(TG_ERR_NO_MEMORY, "safetensors: out of memory");
    for (size_t i = 0; i < count; i++) order[i] = &entries[i];
    if (count > 1) qsort(order, count, sizeof *order, cmp_write_order);
    for (size_t i = 1; st == TG_OK && i < count; i++)
        if (strcmp(order[i - 1]->name, order[i]->name) == 0)
            st = tg_error(TG_ERR_INVALID, "safetensors: tensor '%s' appears twice", order[i]->name);
    if (st == TG_OK) st = make_header(order, count, &out->hdr, &out->len);
    if (st) {
        free(order);
        return st;
    }
    out->order = order;
    out->count = count;
    return TG_OK;
}

/* Writes a planned file to f. */
static tg_status emit(FILE *f, const char *name, const st_plan *pl) {
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)pl->len >> (8 * i));
    int ok = fwrite(len8, 1, 8, f) == 8 && fwrite(pl->hdr, 1, pl->len, f) == pl->len;
    for (size_t i = 0; ok && i < pl->count; i++)
        ok = pl->order[i]->nbytes == 0 ||
             fwrite(pl->order[i]->data, 1, pl->order[i]->nbytes, f) == pl->order[i]->nbytes;
    if (ok) ok = fflush(f) == 0;
    if (!ok) return tg_error(TG_ERR_IO, "%s: write failed: %s", name, strerror(errno));
    return TG_OK;
}

tg_status tg_safetensors_serialize(const tg_safetensors_entry *entries, size_t count, void **out_bytes,
                                   size_t *out_size) {
    char *buf = NULL;
    size_t size = 0;
    st_plan pl;
    if (!out_bytes || !out_size) return tg_error(TG_ERR_INVALID, "tg_safetensors_serialize: NULL output");
    tg_status st = plan_file(entries, count, &pl);
    if (st) return st;
    FILE *f = open_memstream(&buf, &size);
    if (!f) {
        plan_free(&pl);
        return tg_error(TG_ERR_NO_MEMORY, "safetensors: out of memory");
    }
    st = emit(f, "<memory>", &pl);
    if (fclose(f) != 0 && st == TG_OK) st = tg_error(TG_ERR_NO_MEMORY, "safetensors: out of memory");
    plan_free(&pl);
    if (st) {
        free(buf);
        return st;
    }
    *out_bytes = buf;
    *out_size = size;
    return TG_OK;
}

/* Creates a new file beside `path` (same directory, so that rename is
 * atomic): "<path>.tmp-<pid>-<n>", opened exclusively with the mode an
 * ordinary create would give, or the mode of the file it replaces. */
static tg_status create_temp(const char *path, char **out_name, FILE **out_f) {
    static unsigned counter;
    size_t n = strlen(path) + 64;
    char *name = malloc(n);
    if (!name) return tg_error(TG_ERR_NO_MEMORY, "safetensors: out of memory");
    for (int attempt = 0; attempt < 100; attempt++) {
        snprintf(name, n, "%s.tmp-%ld-%u", path, (long)getpid(),
                 __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
        int fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno == EEXIST) continue;
        if (fd < 0) break;
        struct stat old;
        if (stat(path, &old) == 0 && S_ISREG(old.st_mode)) fchmod(fd, old.st_mode & 07777); /* keep its mode */
        FILE *f = fdopen(fd, "wb");
        if (!f) {
            close(fd);
            unlink(name);
            break;
        }
        *out_name = name;
        *out_f = f;
        return TG_OK;
    }
    tg_status st = tg_error(TG_ERR_IO, "%s: cannot create a temporary file beside it: %s", path, strerror(errno));
    free(name);
    return st;
}

/* Makes a rename in path's directory durable (best effort: some file
 * systems refuse fsync on a directory). */
static void sync_dir(const char *path) {
    char *dir = strdup(path);
    if (!dir) return;
    char *slash = strrchr(dir, '/');
    if (slash == dir) slash[1] = '\0';
    else if (slash) *slash = '\0';
    int fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

tg_status tg_safetensors_write(const char *path, const tg_safetensors_entry *entries, size_t count) {
    if (!path) return tg_error(TG_ERR_INVALID, "tg_safetensors_write: path is NULL");
    st_plan pl;
    tg_status st = plan_file(entries, count, &pl);
    if (st) return st;
    char *tmp = NULL;
    FILE *f = NULL;
    st = create_temp(path, &tmp, &f);
    if (st == TG_OK) {
        st = emit(f, path, &pl);
        if (st == TG_OK && fsync(fileno(f)) != 0)
            st = tg_error(TG_ERR_IO, "%s: write failed (fsync): %s", path, strerror(errno));
        if (fclose(f) != 0 && st == TG_OK) st = tg_error(TG_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        if (st == TG_OK && rename(tmp, path) != 0)
            st = tg_error(TG_ERR_IO, "%s: cannot replace it with the new file: %s", path, strerror(errno));
        if (st) unlink(tmp);
        else sync_dir(path);
        free(tmp);
    }
    plan_free(&pl);
    return st;
}
