/*
 * suites.h -- tg's benchmark suites and their registration.
 *
 * Every benchmark is named "<plugin>/<class>/<workload>"; the class is one
 * of elementwise, reduction, matmul (matmul and conv), overhead, model, and
 * the suites group them: "op" (the first three), "overhead", "model" (all
 * on hand-built kernels, straight to the plugin) and "tensor" (through the
 * tensor API, core included).
 */
#ifndef TG_BENCH_SUITES_H
#define TG_BENCH_SUITES_H

#include "plan.h"

/* The plans of a suite; returns how many were stored in out[0..max). */
int suite_ops(int quick, plan **out, int max);
int suite_models(int quick, plan **out, int max);
/* The tensor-API suite (tg.h): registers its cases for plugin `name`,
 * handing each allocation to keep(); returns how many. */
int suite_tensor_register(const char *name, const char *path, int quick, void (*keep)(void *));

/* Steps shared by the suites (see suite_ops.c). */
void ops_matmul_step(plan *p, int A, int B, int C, int64_t batch, int64_t m, int64_t n, int64_t k, int ta, int tb);
void ops_conv_step(plan *p, int in, int wt, int out, int64_t n, int64_t c, int64_t h, int64_t w, int64_t o);
void ops_softmax_steps(plan *p, int x, int y, int64_t r, int64_t c);
/* 3x3 convolutions with zero padding 1 done through masked view stacks
 * (suite_models.c): forward, weight gradient, input gradient. */
void models_conv_fwd(plan *p, int a, int wt, int z, int64_t n, int64_t c, int64_t h, int64_t w, int64_t o);
void models_conv_dw(plan *p, int dz, int a, int dw, int64_t n, int64_t c, int64_t h, int64_t w, int64_t o);
void models_conv_dx(plan *p, int dz, int wt, int da, int64_t n, int64_t c, int64_t h, int64_t w, int64_t o);
void ops_layernorm_steps(plan *p, int x, int g, int b, int y, int64_t r, int64_t c);

/* Register the suites named in `suites` ("op,overhead,model,tensor"; NULL = all)
 * for device d. Returns the number registered. Everything allocated is
 * freed by suites_release, after tgb_run. */
int suites_register(bdev *d, const char *suites, int quick);
void suites_release(void);

/* The class of a benchmark name "<plugin>/<class>/<workload>" ("" if none)
 * written to out; returns out. */
const char *suite_class_of(const char *name, char *out, size_t cap);
extern const char *const tg_bench_classes[5];

#endif
