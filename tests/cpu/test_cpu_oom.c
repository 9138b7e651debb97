/* A matmul kernel whose scratch memory cannot be allocated must make
 * program_launch fail with TG_ERR_NO_MEMORY, not return wrong results.
 * The address-space limit is set in a child process, after the program is
 * compiled and its buffers exist, so only the launch's allocations fail. */
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../tap.h"
#include "kit.h"

enum { M = 8, N = 1024, K = 1024 };

static long vm_bytes(void) {
    long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%ld", &pages) != 1) pages = 0;
    if (f) fclose(f);
    return pages * sysconf(_SC_PAGESIZE);
}

/* Child: 0 = NO_MEMORY as it should be, 1 = launch said OK, 2 = setup failed. */
static int child(const char *path) {
    kit_plugin p;
    if (kit_open(&p, path)) return 2;
    int64_t shape[3] = {M, N, K}, oshape[3] = {M, N, 1};
    kit_kernel kk;
    kit_init(&kk, 3, shape, 4, "oom_matmul");
    int64_t as[3] = {K, 0, 1}, bs[3] = {0, 1, N}, cs[3] = {N, 1, 0};
    uint32_t va = kit_view(&kk, 3, shape, as, 0), vb = kit_view(&kk, 3, shape, bs, 0);
    uint32_t vc = kit_view(&kk, 3, oshape, cs, 0);
    int32_t la = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, M * K), va, 1);
    int32_t lb = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, K * N), vb, 1);
    int32_t r = kit_node(&kk, TG_OP_REDUCE_SUM, TG_FLOAT32, kit_node(&kk, TG_OP_MUL, TG_FLOAT32, la, lb, -1), -1, -1);
    kit_store(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_WRITE, M * N), vc, r);
    tg_program *prog = NULL;
    tg_buffer *bufs[3] = {0};
    const int64_t counts[3] = {M * K, K * N, M * N};
    if (p.api->program_create(p.dev, &kk.k, &prog) != TG_OK) return 2;
    for (int i = 0; i < 3; i++)
        if (p.api->buffer_create(p.dev, (uint64_t)counts[i] * 4, &bufs[i]) != TG_OK) return 2;
    struct rlimit lim = {.rlim_cur = (rlim_t)vm_bytes() + 4096, .rlim_max = RLIM_INFINITY};
    if (setrlimit(RLIMIT_AS, &lim) != 0) return 2;
    tg_status st = p.api->program_launch(p.dev, prog, bufs, 3);
    if (st == TG_ERR_NO_MEMORY && strstr(p.api->device_error(p.dev), "scratch")) return 0;
    return st == TG_OK ? 1 : 3;
}

int main(int argc, char **argv) {
#if defined(__SANITIZE_ADDRESS__)
    tap_skip("address-space limits and AddressSanitizer do not mix");
    (void)argc, (void)argv;
#else
    if (argc < 2) return 2;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) _exit(child(argv[1]));
    int status = 0;
    waitpid(pid, &status, 0);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
    tap_ok(code == 0, "launch without scratch memory fails with TG_ERR_NO_MEMORY (child exit %d; 1 = it said OK)",
           code);
#endif
    return tap_done();
}
