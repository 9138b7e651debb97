/*
 * tg/dlpack.h -- exchanging tensors with other frameworks through DLPack
 * (numpy, torch, JAX, CuPy: their from_dlpack / __dlpack__). Needs
 * <dlpack/dlpack.h> (Debian: libdlpack-dev). Same ownership and error rules
 * as tg/tg.h.
 *
 * Dtypes: every tg dtype maps to its DLPack one (bool as code 6, bits 8,
 * DLPack >= 0.8's kDLBool); lanes must be 1.
 *
 * Zero-copy and copies (exactly when tg copies):
 *  - Export is zero-copy when the device's buffers are host memory (caps
 *    flag TG_CAP_HOST_VISIBLE and the plugin maps buffers: ref, cpu, vulkan
 *    on host-visible memory): the DLTensor points at tg's buffer (device
 *    kDLCPU). Other devices (opencl, cuda, ...) give no pointer to their
 *    memory, so their tensor is copied once to host memory, still kDLCPU.
 *    Writes through a zero-copy export change the tg tensor too.
 *  - Import of a tensor tg exported, onto the same device, is zero-copy:
 *    the new tensor shares the buffer.
 *  - Import of other host memory (another framework's; kDLCPU, kDLCUDAHost
 *    or kDLROCMHost) is zero-copy when all of these hold: the tensor is
 *    compact in C order (strides NULL or row-major; size-1 dims may have
 *    any stride), its address (data + byte_offset) is aligned to its
 *    element size, it has at least one element, and dev's plugin wraps host
 *    memory (ABI 1.2's buffer_wrap: ref and cpu) and accepts this memory.
 *    The tensor's buffer then *is* the producer's memory: tg keeps managed
 *    and calls its deleter once the last tg reference to that buffer goes
 *    (the tensor, tensors sharing its buffer, a DLPack export of it).
 *    Otherwise it is copied once into a new buffer of dev (strides and
 *    byte_offset honoured) and the deleter runs before the import returns.
 *    Other memory (kDLCUDA, ...) is refused.
 *
 * Shared memory (a zero-copy import or export) follows one rule: tg reads
 * or writes it when a kernel that uses the tensor runs, that is during a
 * realize (tg_realize, tg_to_host, tg_item, an export), and never keeps a
 * copy. So a write the other side makes before a realize is what that
 * realize sees (results realized earlier are not recomputed), and the other
 * side must not write while a realize may be reading: on a synchronous
 * device (ref, cpu: no TG_CAP_ASYNC) the work is done when the call
 * returns. tg never writes into an imported tensor's memory itself (its
 * kernels write new buffers; tg_assign replaces the buffer); writes
 * through a zero-copy export of it go to the producer's memory.
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
 * and calls its deleter (NULL deleter: none) exactly once, when it no
 * longer needs the memory: at once after a copy or after sharing tg's own
 * buffer; after the last release of the buffer that wraps it (zero-copy,
 * above). Until then the producer keeps the memory as it was handed over
 * (alive, same size). On failure (NULL returned) managed is still the
 * caller's. DLPack here is the legacy DLManagedTensor (DLPack < 1.0, as
 * <dlpack/dlpack.h> 0.6-0.8 has it); there is no DLManagedTensorVersioned. */
tg_tensor *tg_tensor_from_dlpack(tg_dev *dev, DLManagedTensor *managed);

#ifdef __cplusplus
}
#endif

#endif /* TG_DLPACK_H */
