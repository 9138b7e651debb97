/* tests/cuda/mock/mock_cuda.c -- a stand-in libcuda.so.1 for testing the
 * cuda plugin's driver side on hosts without a GPU (tests/cuda/meson.build
 * puts its folder on LD_LIBRARY_PATH). One device with an H200's
 * attributes; device memory is host memory and copies are synchronous; a
 * module must be an ELF image (a cubin) and is never run: a launch only
 * records its geometry and first argument. mock_cuda_fail() makes later
 * allocations or waits fail, as an out-of-memory or a faulting kernel would.
 * Only the functions the plugin resolves (cuda.h maps their names to _v2
 * ones), and cuGetExportTable, which libnvrtc looks up in libcuda.so.1. */
#include <cuda.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOCK_API __attribute__((visibility("default")))

static struct {
    int launches, modules;
    unsigned grid, block;
    CUdeviceptr arg0;
    CUresult fail_alloc, fail_wait;
} M;

MOCK_API void mock_cuda_state(int *launches, int *modules, unsigned *grid, unsigned *block, CUdeviceptr *arg0);
MOCK_API void mock_cuda_state(int *launches, int *modules, unsigned *grid, unsigned *block, CUdeviceptr *arg0) {
    *launches = M.launches;
    *modules = M.modules;
    *grid = M.grid;
    *block = M.block;
    *arg0 = M.arg0;
}
MOCK_API void mock_cuda_fail(CUresult alloc, CUresult wait);
MOCK_API void mock_cuda_fail(CUresult alloc, CUresult wait) {
    M.fail_alloc = alloc;
    M.fail_wait = wait;
}

MOCK_API CUresult cuGetExportTable(const void **table, const CUuuid *id) {
    *table = NULL;
    return CUDA_ERROR_NOT_SUPPORTED;
}
MOCK_API CUresult cuInit(unsigned int flags) { return flags == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE; }
MOCK_API CUresult cuDriverGetVersion(int *v) { *v = 13000; return CUDA_SUCCESS; }
MOCK_API CUresult cuGetErrorName(CUresult r, const char **s) {
    *s = r == CUDA_ERROR_OUT_OF_MEMORY ? "CUDA_ERROR_OUT_OF_MEMORY"
         : r == CUDA_ERROR_ILLEGAL_ADDRESS ? "CUDA_ERROR_ILLEGAL_ADDRESS" : "CUDA_ERROR_UNKNOWN";
    return CUDA_SUCCESS;
}
MOCK_API CUresult cuGetErrorString(CUresult r, const char **s) { *s = "mock failure"; return CUDA_SUCCESS; }
MOCK_API CUresult cuDeviceGetCount(int *n) { *n = 1; return CUDA_SUCCESS; }
MOCK_API CUresult cuDeviceGet(CUdevice *d, int i) { *d = i; return i == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE; }
MOCK_API CUresult cuDeviceGetName(char *s, int len, CUdevice d) { snprintf(s, (size_t)len, "mock H200"); return CUDA_SUCCESS; }
MOCK_API CUresult cuDeviceGetAttribute(int *v, CUdevice_attribute a, CUdevice d) {
    switch (a) {
    case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK: *v = 49152; break;
    case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK: *v = 1024; break;
    case CU_DEVICE_ATTRIBUTE_WARP_SIZE: *v = 32; break;
    case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X: *v = 2147483647; break;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: *v = 9; break;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: *v = 0; break;
    case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT: *v = 132; break;
    default: return CUDA_ERROR_INVALID_VALUE;
    }
    return CUDA_SUCCESS;
}
MOCK_API CUresult cuDeviceTotalMem(size_t *b, CUdevice d) { *b = (size_t)1 << 30; return CUDA_SUCCESS; }
MOCK_API CUresult cuDevicePrimaryCtxRetain(CUcontext *c, CUdevice d) { *c = (CUcontext)&M; return CUDA_SUCCESS; }
MOCK_API CUresult cuDevicePrimaryCtxRelease(CUdevice d) { return CUDA_SUCCESS; }
MOCK_API CUresult cuCtxSetCurrent(CUcontext c) { return c == (CUcontext)&M ? CUDA_SUCCESS : CUDA_ERROR_INVALID_CONTEXT; }
MOCK_API CUresult cuStreamCreate(CUstream *s, unsigned int f) { *s = (CUstream)&M; return CUDA_SUCCESS; }
MOCK_API CUresult cuStreamDestroy(CUstream s) { return CUDA_SUCCESS; }
MOCK_API CUresult cuStreamSynchronize(CUstream s) { return M.fail_wait; }
MOCK_API CUresult cuEventCreate(CUevent *e, unsigned int f) { *e = (CUevent)&M; return CUDA_SUCCESS; }
MOCK_API CUresult cuEventDestroy(CUevent e) { return CUDA_SUCCESS; }
MOCK_API CUresult cuEventRecord(CUevent e, CUstream s) { return CUDA_SUCCESS; }
MOCK_API CUresult cuEventSynchronize(CUevent e) { return M.fail_wait; }
MOCK_API CUresult cuMemAlloc(CUdeviceptr *p, size_t n) {
    void *m = M.fail_alloc || n == 0 ? NULL : malloc(n);
    *p = (CUdeviceptr)(uintptr_t)m;
    return M.fail_alloc ? M.fail_alloc : n == 0 ? CUDA_ERROR_INVALID_VALUE : m ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}
MOCK_API CUresult cuMemFree(CUdeviceptr p) { free((void *)(uintptr_t)p); return CUDA_SUCCESS; }
MOCK_API CUresult cuMemAllocHost(void **p, size_t n) { *p = malloc(n); return *p ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY; }
MOCK_API CUresult cuMemFreeHost(void *p) { free(p); return CUDA_SUCCESS; }
MOCK_API CUresult cuMemcpyHtoDAsync(CUdeviceptr d, const void *s, size_t n, CUstream st) {
    memcpy((void *)(uintptr_t)d, s, n);
    return CUDA_SUCCESS;
}
MOCK_API CUresult cuMemcpyDtoHAsync(void *d, CUdeviceptr s, size_t n, CUstream st) {
    memcpy(d, (const void *)(uintptr_t)s, n);
    return CUDA_SUCCESS;
}
MOCK_API CUresult cuMemcpyDtoDAsync(CUdeviceptr d, CUdeviceptr s, size_t n, CUstream st) {
    memcpy((void *)(uintptr_t)d, (const void *)(uintptr_t)s, n);
    return CUDA_SUCCESS;
}
MOCK_API CUresult cuModuleLoadData(CUmodule *m, const void *image) {
    if (memcmp(image, "\177ELF", 4) != 0) return CUDA_ERROR_INVALID_IMAGE;
    M.modules++;
    *m = (CUmodule)&M;
    return CUDA_SUCCESS;
}
MOCK_API CUresult cuModuleUnload(CUmodule m) { M.modules--; return CUDA_SUCCESS; }
MOCK_API CUresult cuModuleGetFunction(CUfunction *f, CUmodule m, const char *name) {
    *f = (CUfunction)&M;
    return name && name[0] ? CUDA_SUCCESS : CUDA_ERROR_NOT_FOUND;
}
MOCK_API CUresult cuLaunchKernel(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx,
                                 unsigned int by, unsigned int bz, unsigned int shared, CUstream st, void **params,
                                 void **extra) {
    M.launches++;
    M.grid = gx * gy * gz;
    M.block = bx * by * bz;
    M.arg0 = params ? *(CUdeviceptr *)params[0] : 0;
    return CUDA_SUCCESS;
}
