/* Internal: the fused-kernel cases (fusion.c). */
#ifndef TGC_FUSION_H
#define TGC_FUSION_H

#include <tg/conform.h>

tg_status tgc_fusion_cases(tgc_catalog *cat);

#endif
