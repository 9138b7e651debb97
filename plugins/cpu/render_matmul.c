/* plugins/cpu/render_matmul.c -- register- and cache-blocked matrix products. */
#include "cpu.h"

void cpu_render_matmul(const tg_kernel *k, const cpu_info *info, const cpu_opts *o, cpu_sb *sb);
void cpu_render_matmul(const tg_kernel *k, const cpu_info *info, const cpu_opts *o, cpu_sb *sb) {
    (void)k; (void)info; (void)o;
    cpu_sb_printf(sb, "#error matmul layout not written yet\n");
}
