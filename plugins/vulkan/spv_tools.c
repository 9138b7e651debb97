/* plugins/vulkan/spv_tools.c -- SPIRV-Tools through its C API: assemble the
 * generated text, validate it, disassemble for messages and `tg spirv`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spirv-tools/libspirv.h>
#include "vk_internal.h"

#define VK_SPV_ENV SPV_ENV_VULKAN_1_1

char *vk_spv_disassemble(const uint32_t *words, size_t count) {
    spv_context ctx = spvContextCreate(VK_SPV_ENV);
    spv_text text = NULL;
    spv_diagnostic diag = NULL;
    char *out = NULL;
    if (ctx && spvBinaryToText(ctx, words, count, SPV_BINARY_TO_TEXT_OPTION_FRIENDLY_NAMES, &text, &diag) == SPV_SUCCESS) {
        out = malloc(text->length + 1);
        if (out) {
            memcpy(out, text->str, text->length);
            out[text->length] = 0;
        }
    }
    spvTextDestroy(text);
    spvDiagnosticDestroy(diag);
    spvContextDestroy(ctx);
    return out;
}

static char *message(const char *what, spv_diagnostic diag, const char *listing) {
    const char *d = diag && diag->error ? diag->error : "(no diagnostic)";
    size_t line = diag ? diag->position.line + 1 : 0;
    size_t n = strlen(what) + strlen(d) + (listing ? strlen(listing) : 0) + 128;
    char *m = malloc(n);
    if (m) snprintf(m, n, "vulkan: %s (line %zu): %s\n%s", what, line, d, listing ? listing : "");
    return m;
}

tg_status vk_spv_assemble(const char *text, uint32_t **out_words, size_t *out_count, char **out_msg) {
    spv_context ctx = spvContextCreate(VK_SPV_ENV);
    spv_binary bin = NULL;
    spv_diagnostic diag = NULL;
    tg_status s = TG_OK;
    *out_words = NULL;
    *out_msg = NULL;
    if (!ctx) return TG_ERR_NO_MEMORY;
    if (spvTextToBinary(ctx, text, strlen(text), &bin, &diag) != SPV_SUCCESS) {
        /* the generator wrote text the assembler rejects: a bug, show it */
        *out_msg = message("SPIR-V assembly failed", diag, text);
        s = TG_ERR_INTERNAL;
        goto done;
    }
    spv_const_binary_t cb = {bin->code, bin->wordCount};
    spv_validator_options vo = spvValidatorOptionsCreate();
    spvValidatorOptionsSetScalarBlockLayout(vo, true);
    spvDiagnosticDestroy(diag);
    diag = NULL;
    spv_result_t vr = spvValidateWithOptions(ctx, vo, &cb, &diag);
    spvValidatorOptionsDestroy(vo);
    if (vr != SPV_SUCCESS) {
        char *dis = vk_spv_disassemble(bin->code, bin->wordCount);
        *out_msg = message("generated SPIR-V failed validation (a plugin bug; not sent to the driver)", diag, dis ? dis : text);
        free(dis);
        s = TG_ERR_COMPILE;
        goto done;
    }
    *out_words = malloc(bin->wordCount * 4);
    if (!*out_words) { s = TG_ERR_NO_MEMORY; goto done; }
    memcpy(*out_words, bin->code, bin->wordCount * 4);
    *out_count = bin->wordCount;
done:
    spvBinaryDestroy(bin);
    spvDiagnosticDestroy(diag);
    spvContextDestroy(ctx);
    return s;
}
