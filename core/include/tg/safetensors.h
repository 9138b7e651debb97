/*
 * tg/safetensors.h -- read and write the safetensors format on host memory.
 *
 * The format (https://github.com/huggingface/safetensors): an 8-byte
 * little-endian header length N, N bytes of UTF-8 JSON, then the raw data.
 * The JSON maps each tensor's name to {"dtype": "F32", "shape": [2, 3],
 * "data_offsets": [begin, end]} (offsets relative to the first data byte);
 * an optional "__metadata__" object maps strings to strings. Data is
 * row-major, little-endian, tightly packed; the tensors cover the data
 * without gaps or overlap.
 *
 * Dtypes: BOOL U8 I8 U16 I16 U32 I32 U64 I64 F16 BF16 F32 F64. Other
 * safetensors dtypes (F8_*, ...) are refused as TG_ERR_UNSUPPORTED.
 *
 * The reader trusts nothing in the file: every length, offset and count is
 * checked against the file's size before it is used, so a truncated or
 * hostile file gives TG_ERR_INVALID (or TG_ERR_IO) with a message, never a
 * crash or an allocation larger than the file.
 *
 * tg/nn.h moves tensors to and from these host entries.
 */
#ifndef TG_SAFETENSORS_H
#define TG_SAFETENSORS_H

#include <tg/plugin.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One named tensor on the host. */
typedef struct tg_safetensors_entry {
    char *name;                   /* UTF-8, NUL-terminated, unique in a file */
    tg_dtype dtype;
    int ndim;                     /* 0 (a scalar) .. TG_MAX_DIMS             */
    int64_t shape[TG_MAX_DIMS];
    void *data;                   /* nbytes bytes, row-major, packed         */
    size_t nbytes;                /* product(shape) * tg_dtype_size(dtype)   */
} tg_safetensors_entry;

/* Largest JSON header accepted (as the reference implementation). */
#define TG_SAFETENSORS_MAX_HEADER ((uint64_t)100000000)

/* Write `count` entries to `path` (replacing it). Entries are stored in
 * order of decreasing element size, then by name, so that every tensor's
 * data is aligned to its element size; the header is padded with spaces to
 * a multiple of 8 bytes. Refuses duplicate names, "__metadata__", a shape
 * that does not match nbytes, before anything is written.
 * The file is replaced atomically: the data goes to a temporary file in
 * the same directory ("<path>.tmp-..."), is fsync'ed, then renamed over
 * `path`; on any failure (bad entries, disk full) the temporary file is
 * removed and an existing `path` is left as it was. A symbolic link at
 * `path` is replaced, not followed. */
tg_status tg_safetensors_write(const char *path, const tg_safetensors_entry *entries,
                               size_t count);

/* The same, into a malloc'd buffer (the caller frees it). */
tg_status tg_safetensors_serialize(const tg_safetensors_entry *entries, size_t count,
                                   void **out_bytes, size_t *out_size);

/* Read every tensor of a file, or of `size` bytes in memory. On success
 * *out_entries is a malloc'd array of *out_count entries in the order of
 * their data; free it with tg_safetensors_free. On failure nothing is
 * returned and the message names the file and what was wrong. */
tg_status tg_safetensors_read(const char *path, tg_safetensors_entry **out_entries,
                              size_t *out_count);
tg_status tg_safetensors_parse(const void *bytes, size_t size,
                               tg_safetensors_entry **out_entries, size_t *out_count);
void tg_safetensors_free(tg_safetensors_entry *entries, size_t count); /* NULL: no-op */

/* The entry named `name`, or NULL. */
const tg_safetensors_entry *tg_safetensors_find(const tg_safetensors_entry *entries,
                                                size_t count, const char *name);

/* The safetensors name of a dtype ("F32"), and back. */
const char *tg_safetensors_dtype_name(tg_dtype dtype);
tg_status tg_safetensors_dtype_parse(const char *name, tg_dtype *out_dtype);

#ifdef __cplusplus
}
#endif

#endif /* TG_SAFETENSORS_H */
