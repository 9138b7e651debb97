/* plugins/cpu/tune.c -- TG_BEAM: search a kernel's layout options by measurement. */
#include "cpu.h"

tg_status cpu_tune(tg_device *d, const tg_kernel *k, const cpu_info *info, cpu_opts *opts, int beam);
tg_status cpu_tune(tg_device *d, const tg_kernel *k, const cpu_info *info, cpu_opts *opts, int beam) {
    (void)d; (void)k; (void)info; (void)opts; (void)beam;
    return TG_OK;
}
