/* plugins/cuda/cu_compile.c -- CUDA C to cubin with NVRTC (opened with
 * dlopen), and the on-disk cubin cache. A cache entry is one file named by
 * the hash of its key; it starts with the key line itself, so an entry of
 * another key, version or options is never taken for this one. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cu.h"
#include <tg/dtype_util.h>

/* Exact IEEE arithmetic: no fast math, no contraction of a*b+c into a fma. */
static const char *const cu_opts[] = {"-std=c++17", "-fmad=false", "--ftz=false", "--prec-div=true",
                                      "--prec-sqrt=true", "-default-device"};
#define CU_NOPTS (int)(sizeof cu_opts / sizeof cu_opts[0])

static void cu_nvrtc_close(cu_nvrtc *nv) {
    if (nv->dl) dlclose(nv->dl);
    memset(nv, 0, sizeof *nv);
}

tg_status cu_nvrtc_open(cu_nvrtc *nv, char *err, size_t errcap) {
    static const char *const names[] = {"libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2"};
    memset(nv, 0, sizeof *nv);
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !nv->dl; i++) {
        if (!(nv->dl = dlopen(names[i], RTLD_NOW | RTLD_LOCAL)) && i == 0) snprintf(err, errcap, "%s", dlerror());
    }
    const char *roots[] = {getenv("CUDA_PATH"), getenv("CUDA_HOME"), "/usr/local/cuda"};
    for (size_t i = 0; i < 3 && !nv->dl; i++) {
        char path[PATH_MAX];
        if (!roots[i] || roots[i][0] != '/') continue;
        snprintf(path, sizeof path, "%s/lib64/libnvrtc.so", roots[i]);
        nv->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    }
    if (!nv->dl) return TG_ERR_NOT_FOUND;
#define CU_NVRTC_SYM(f) {(void **)&nv->f, "nvrtc" #f},
    struct { void **fn; const char *name; } syms[] = {CU_NVRTC_FNS(CU_NVRTC_SYM)};
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        *syms[i].fn = dlsym(nv->dl, syms[i].name);
        if (!*syms[i].fn) {
            snprintf(err, errcap, "libnvrtc lacks %s", syms[i].name);
            cu_nvrtc_close(nv);
            return TG_ERR_NOT_FOUND;
        }
    }
    if (nv->Version(&nv->major, &nv->minor) != NVRTC_SUCCESS) nv->major = nv->minor = 0;
    return TG_OK;
}

tg_status cu_nvrtc_compile(const cu_nvrtc *nv, const char *src, int cc, char **out_bin, size_t *out_size,
                           char *err, size_t errcap) {
    char arch[32];
    const char *opts[CU_NOPTS + 1];
    snprintf(arch, sizeof arch, "--gpu-architecture=sm_%d", cc);
    opts[0] = arch;
    for (int i = 0; i < CU_NOPTS; i++) opts[i + 1] = cu_opts[i];
    nvrtcProgram prog;
    nvrtcResult r = nv->CreateProgram(&prog, src, "tg_kernel.cu", 0, NULL, NULL);
    if (r != NVRTC_SUCCESS) {
        snprintf(err, errcap, "nvrtcCreateProgram: %s", nv->GetErrorString(r));
        return r == NVRTC_ERROR_OUT_OF_MEMORY ? TG_ERR_NO_MEMORY : TG_ERR_COMPILE;
    }
    tg_status st = TG_OK;
    r = nv->CompileProgram(prog, CU_NOPTS + 1, opts);
    if (r != NVRTC_SUCCESS) {
        size_t n = 0;
        nv->GetProgramLogSize(prog, &n);
        char *log = malloc(n + 1);
        if (log && nv->GetProgramLog(prog, log) == NVRTC_SUCCESS) log[n] = 0;
        snprintf(err, errcap, "NVRTC (sm_%d): %s", cc, log ? log : nv->GetErrorString(r));
        free(log);
        st = r == NVRTC_ERROR_OUT_OF_MEMORY ? TG_ERR_NO_MEMORY : TG_ERR_COMPILE;
    }
    size_t size = 0;
    char *bin = NULL;
    if (st == TG_OK && (nv->GetCUBINSize(prog, &size) != NVRTC_SUCCESS || size == 0)) {
        snprintf(err, errcap, "NVRTC made no cubin for sm_%d", cc);
        st = TG_ERR_COMPILE;
    }
    if (st == TG_OK && !(bin = malloc(size))) st = TG_ERR_NO_MEMORY;
    if (st == TG_OK && nv->GetCUBIN(prog, bin) != NVRTC_SUCCESS) {
        snprintf(err, errcap, "nvrtcGetCUBIN failed");
        st = TG_ERR_COMPILE;
    }
    nv->DestroyProgram(&prog);
    if (st != TG_OK) {
        free(bin);
        return st;
    }
    *out_bin = bin;
    *out_size = size;
    return TG_OK;
}

static uint64_t cu_fnv(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h;
}

int cu_cache_dir(char *out, size_t cap) { return tgp_cache_dir("cuda", out, cap) == 1; }

/* The whole file, or NULL. */
static char *cu_read_file(const char *path, size_t *out_size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (n > 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n)) && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *out_size = (size_t)n;
    return buf;
}

static void cu_write_entry(const char *dir, const char *path, const char *head, const char *bin, size_t size) {
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/.tmp-XXXXXX", dir);
    int fd = mkstemp(tmp);
    if (fd < 0) return;
    FILE *f = fdopen(fd, "wb");
    int ok = f && fwrite(head, 1, strlen(head), f) == strlen(head) && fwrite(bin, 1, size, f) == size;
    ok = (f ? fclose(f) == 0 : (close(fd), 0)) && ok;
    if (!ok || rename(tmp, path) != 0) unlink(tmp);
}

tg_status cu_cubin(const cu_nvrtc *nv, const char *dir, const cu_key *key, const char *src, char **out_bin,
                   size_t *out_size, int *out_hit, char *err, size_t errcap) {
    char head[512], path[PATH_MAX];
    int n = snprintf(head, sizeof head, "tg-cuda-cubin 1 kernel=%016llx source=%016llx sm_%d driver=%d nvrtc=%d.%d",
                     (unsigned long long)key->kernel_hash, (unsigned long long)cu_fnv(src, strlen(src)), key->cc,
                     key->driver, nv->major, nv->minor);
    for (int i = 0; i < CU_NOPTS && n > 0 && (size_t)n < sizeof head; i++)
        n += snprintf(head + n, sizeof head - (size_t)n, " %s", cu_opts[i]);
    if (n > 0 && (size_t)n < sizeof head - 1) strcat(head, "\n");
    size_t hlen = strlen(head), size = 0;
    *out_hit = 0;
    if (dir) {
        snprintf(path, sizeof path, "%s/%016llx.cubin", dir, (unsigned long long)cu_fnv(head, hlen));
        char *buf = cu_read_file(path, &size);
        if (buf && size > hlen && memcmp(buf, head, hlen) == 0) {
            memmove(buf, buf + hlen, size - hlen);
            *out_bin = buf;
            *out_size = size - hlen;
            *out_hit = 1;
            return TG_OK;
        }
        free(buf);
    }
    tg_status st = cu_nvrtc_compile(nv, src, key->cc, out_bin, out_size, err, errcap);
    if (st == TG_OK && dir) cu_write_entry(dir, path, head, *out_bin, *out_size);
    return st;
}
