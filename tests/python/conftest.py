"""Shared fixtures: the devices to test on (ref and cpu where built; the
default device is $TG_DEVICE, which the meson test sets)."""
import pytest

import tg


def _available():
    found = {p["name"] for p in tg.devices() if p["ok"]}
    return [d for d in ("ref", "cpu") if d in found]


@pytest.fixture(params=_available())
def dev(request):
    return tg.Device(request.param)


@pytest.fixture
def torch():
    return pytest.importorskip("torch")
