/*
 * tg/dlpack.h -- exchanging tensors with other frameworks through DLPack
 * (numpy, torch, JAX, CuPy: their from_dlpack / __dlpack__). Needs
 * <dlpack/dlpack.h> (Debian: libdlpack-dev). Same ownership and error rules
 * as tg/tg.h.
 *
 * Dtypes: every tg dtype maps to its DLPack one (bool as code 6, bits 8,
 * DLPack >= 0.8's kDLBool); lanes must be 1.
 *
 * Zero-copy and copies:
 *  - Export is zero-copy when the device's buffers are host memory (caps
 *    flag TG_CAP_HOST_VISIBLE and the plugin maps buffers: ref, cpu, vulkan
 *    on host-visible memory): the DLTensor points at tg's buffer (device
 *    kDLCPU). Other devices (opencl, cuda, ...) give no pointer to their
 *    memory, so their tensor is copied once to host memory, still kDLCPU.
 *    Writes through a zero-copy export change the tg tensor too.
 *  - Import of a tensor tg exported, onto the same device, is zero-copy:
 *    the new tensor shares the buffer.
 *  - Import of other memory (another framework's) is copied once into a new
 *    buffer of dev, because the plugin ABI has no way to adopt memory a
 *    plugin did not allocate. It must be host memory (kDLCPU, kDLCUDAHost,
 *    kDLROCMHost); strides and byte_offset are honoured.
 */
#ifndef TG_DLPACK_H
#define TG_DLPACK_H

#include <dlpack/dlpack.h>
#include <tg/tg.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Realize t and export it. *out_managed is the caller's: call
 * (*out_managed)->deleter(*out_managed) exactly once when done (or hand it
 * to a consumer that will). It holds t's buffer (not t) until then, and
 * stays valid after t's release and tg_device_close. */
tg_status tg_tensor_to_dlpack(tg_tensor *t, DLManagedTensor **out_managed);
/* A new tensor on dev with managed's contents. On success tg owns managed
 * and calls its deleter (NULL deleter: none) once it no longer needs the
 * memory -- at once, after the copy or after sharing tg's own buffer. On
 * failure (NULL returned) managed is still the caller's. */
tg_tensor *tg_tensor_from_dlpack(tg_dev *dev, DLManagedTensor *managed);

#ifdef __cplusplus
}
#endif

#endif /* TG_DLPACK_H */
