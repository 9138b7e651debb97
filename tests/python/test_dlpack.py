"""DLPack between tg, numpy and torch: zero-copy both ways on devices whose
memory is host memory (ref, cpu: export maps tg's buffer, import wraps the
producer's memory through ABI 1.2's buffer_wrap), proven by address checks;
one copy for strided tensors; capsule and producer lifetimes (tg/dlpack.h)."""
import gc
import weakref

import numpy as np
import pytest

import tg


NUMPY = tuple(int(v) for v in np.__version__.split(".")[:2])


def addr(a):
    return a.__array_interface__["data"][0]


def test_to_numpy_is_zero_copy(dev):
    t = (tg.arange(12, dtype="float32", device=dev) * 2).reshape(3, 4)
    assert t.__dlpack_device__() == (1, 0)
    a, b = np.from_dlpack(t), t.numpy()
    assert a.shape == (3, 4) and a.dtype == np.float32 and a.tolist() == (np.arange(12.0) * 2).reshape(3, 4).tolist()
    assert dev.host_visible and addr(a) == addr(b)  # both views of tg's one buffer
    assert not b.flags.writeable
    if NUMPY >= (2, 1):  # numpy's from_dlpack has copy= since 2.1
        c = np.from_dlpack(t, copy=True)  # the consumer asks for a copy: a different buffer
        assert addr(c) != addr(a) and c.tolist() == a.tolist()


def test_numpy_outlives_the_tensor(dev):
    t = tg.arange(1000, dtype="float32", device=dev) + 1
    a = np.from_dlpack(t)
    gc.collect()  # earlier tests' garbage goes first: the counts below are relative
    live = tg.stats()["live_buffers"]
    del t
    gc.collect()
    assert tg.stats()["live_buffers"] == live  # the array holds the buffer
    assert a[0] == 1 and a[-1] == 1000
    del a
    gc.collect()
    assert tg.stats()["live_buffers"] == live - 1


def test_unconsumed_capsule_frees_its_buffer(dev):
    t = tg.arange(10, dtype="float32", device=dev) + 0
    cap = t.__dlpack__()
    gc.collect()
    live = tg.stats()["live_buffers"]
    del t
    assert tg.stats()["live_buffers"] == live
    del cap
    gc.collect()
    assert tg.stats()["live_buffers"] == live - 1


def test_tg_to_tg_shares_the_buffer(dev):
    t = (tg.arange(6, dtype="float32", device=dev) * 3).realize()
    gc.collect()
    live = tg.stats()["live_buffers"]
    u = tg.from_dlpack(t, device=dev)
    assert tg.stats()["live_buffers"] == live and u.numpy().tolist() == t.numpy().tolist()
    assert addr(u.numpy()) == addr(t.numpy())
    other = tg.Device("ref" if dev.name != "ref" else "cpu") if dev.name != "ref" or \
        any(p["name"] == "cpu" and p["ok"] for p in tg.devices()) else None
    if other is not None:  # another device with host memory: it wraps tg's export
        v = tg.from_dlpack(t, device=other)
        assert v.device == other and v.numpy().tolist() == t.numpy().tolist()
        assert addr(v.numpy()) == addr(t.numpy())


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint16", "int32", "int64", "float16", "float32", "float64"])
def test_from_numpy(dev, dtype):
    a = np.arange(24).reshape(2, 3, 4).astype(dtype)
    if dtype == "bool" and NUMPY < (1, 25):
        pytest.skip("numpy < 1.25 exports no bool through DLPack")
    t = tg.from_dlpack(a, device=dev)
    assert t.dtype.name == dtype and np.array_equal(t.numpy(), a)
    s = a.transpose(2, 0, 1)[::2]  # strides and an offset: copied in order
    u = tg.from_dlpack(s, device=dev).numpy()
    assert np.array_equal(u, s) and addr(u) != addr(s)


def test_numpy_round_trip_is_zero_copy(dev):
    """numpy -> tg -> numpy: tg's buffer is numpy's memory, and the array
    that comes back is a view of it."""
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    t = tg.from_dlpack(a, device=dev)
    b, c = t.numpy(), np.from_dlpack(t)
    assert addr(b) == addr(a) and addr(c) == addr(a)
    assert b.tolist() == a.tolist()
    a[0, 0] = 100  # a write before the realize that reads it is seen (tg/dlpack.h)
    assert (t + 0).sum().item() == 100 + 66
    r = (t * 2).numpy()  # a result is a new buffer, not numpy's
    assert addr(r) != addr(a) and r[0, 0] == 200
    o = a[1:]  # an offset into numpy's memory, still compact
    assert addr(tg.from_dlpack(o, device=dev).numpy()) == addr(o)


def test_import_keeps_numpy_alive(dev):
    """tg holds the producer's tensor until the last tg reference goes, then
    lets it go (the deleter runs once)."""
    a = np.arange(1000, dtype=np.float32)
    gone = weakref.ref(a)
    t = tg.from_dlpack(a, device=dev)
    gc.collect()
    live = tg.stats()["live_buffers"]
    del a
    gc.collect()
    assert gone() is not None  # tg's buffer still holds numpy's array
    assert t.numpy()[-1] == 999 and tg.stats()["live_buffers"] == live
    del t
    gc.collect()
    assert gone() is None and tg.stats()["live_buffers"] == live - 1


def test_capsule_consumed_once(dev):
    cap = np.arange(3.0).__dlpack__()
    tg.from_dlpack(cap, device=dev)
    with pytest.raises(ValueError):
        tg.from_dlpack(cap, device=dev)


def test_torch_round_trip_is_zero_copy(dev, torch):
    """torch -> tg -> torch: one memory throughout."""
    x = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    t = tg.from_dlpack(x, device=dev)
    y = torch.from_dlpack(t)
    assert x.data_ptr() == addr(t.numpy()) == y.data_ptr()
    x[0, 0] = 50  # seen by the next realize
    assert (t + 1).tolist() == [[51, 2, 3], [4, 5, 6]] and y[0, 0].item() == 50
    del x, y
    gc.collect()
    assert t.tolist() == [[50, 1, 2], [3, 4, 5]]  # tg keeps torch's storage alive


def test_tg_torch_tg(dev, torch):
    """tg -> torch -> tg: the second import wraps the memory of tg's own
    export; both buffers go once the last reference does, in any order."""
    gc.collect()
    live = tg.stats()["live_buffers"]
    t = (tg.arange(6, dtype="float32", device=dev) + 1).realize()
    x = torch.from_dlpack(t)
    u = tg.from_dlpack(x, device=dev)
    assert addr(u.numpy()) == x.data_ptr() == addr(t.numpy())
    del t, x
    gc.collect()
    assert u.tolist() == [1, 2, 3, 4, 5, 6] and tg.stats()["live_buffers"] == live + 2
    del u
    gc.collect()
    assert tg.stats()["live_buffers"] == live


def test_torch_round_trip(dev, torch):
    t = tg.arange(6, dtype="float32", device=dev).reshape(2, 3) + 1
    x = torch.from_dlpack(t)
    assert x.tolist() == [[1, 2, 3], [4, 5, 6]]
    assert x.data_ptr() == addr(t.numpy())  # torch sees tg's buffer
    y = torch.arange(6, dtype=torch.float32).reshape(3, 2).T  # strided
    u = tg.from_dlpack(y, device=dev)
    assert u.numpy().tolist() == y.tolist()
    g = torch.tensor([True, False])
    assert tg.from_dlpack(g, device=dev).numpy().tolist() == [True, False]


def test_device_memory_export_copies():
    """A device whose memory is not host memory (opencl) exports a host copy."""
    try:
        dev = tg.Device("opencl")
    except tg.Error as e:
        pytest.skip("no opencl device: %s" % e)
    t = tg.arange(6, dtype="float32", device=dev)  # made on the host: no kernel to compile
    assert not dev.host_visible and t.__dlpack_device__() == (1, 0)
    a, b = np.from_dlpack(t), np.from_dlpack(t)
    assert a.tolist() == [0, 1, 2, 3, 4, 5] and addr(a) != addr(b)
    with pytest.raises(BufferError):
        t.__dlpack__(copy=False)
