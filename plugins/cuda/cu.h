/* plugins/cuda/cu.h -- the cuda plugin's NVRTC side: libnvrtc opened with
 * dlopen, CUDA C compiled to a cubin, cubins cached on disk. Used by
 * cu_plugin.c and by tests/cuda (which needs no GPU). */
#ifndef TG_CUDA_CU_H
#define TG_CUDA_CU_H

#include <stddef.h>
#include <stdint.h>
#include <nvrtc.h>
#include <tg/plugin.h>

/* libnvrtc's functions, resolved by name and typed by nvrtc.h. */
#define CU_NVRTC_FNS(X)                                                                                  \
    X(GetErrorString) X(Version) X(CreateProgram) X(DestroyProgram) X(CompileProgram) X(GetProgramLogSize) \
    X(GetProgramLog) X(GetCUBINSize) X(GetCUBIN)
typedef struct cu_nvrtc {
    void *dl;
    int major, minor; /* nvrtcVersion */
#define CU_NVRTC_DECL(f) __typeof__(nvrtc##f) *f;
    CU_NVRTC_FNS(CU_NVRTC_DECL)
} cu_nvrtc;

/* Open libnvrtc (the soname, then under $CUDA_PATH and /usr/local/cuda).
 * TG_ERR_NOT_FOUND with the reason when it is nowhere. */
tg_status cu_nvrtc_open(cu_nvrtc *nv, char *err, size_t errcap);

/* Compile CUDA C for compute capability cc (major * 10 + minor) into a
 * malloc'd cubin. TG_ERR_COMPILE with NVRTC's log on a rejected source. */
tg_status cu_nvrtc_compile(const cu_nvrtc *nv, const char *src, int cc, char **out_bin, size_t *out_size,
                           char *err, size_t errcap);

/* A compiled kernel's identity in the on-disk cache. */
typedef struct cu_key {
    uint64_t kernel_hash; /* tg_kernel.hash                  */
    int cc;               /* compute capability, e.g. 90     */
    int driver;           /* cuDriverGetVersion, 0 if none   */
} cu_key;

/* The cubin of `src`: from the cache directory (NULL: none) when an entry
 * with the same key is there, else compiled and stored (temp file + rename;
 * a cache that cannot be written is not an error). *out_hit says which. */
tg_status cu_cubin(const cu_nvrtc *nv, const char *dir, const cu_key *key, const char *src, char **out_bin,
                   size_t *out_size, int *out_hit, char *err, size_t errcap);

/* The cache directory: $XDG_CACHE_HOME/tg/cuda (absolute only), else
 * $HOME/.cache/tg/cuda, created if missing. 0 if there is none. */
int cu_cache_dir(char *out, size_t cap);

#endif
