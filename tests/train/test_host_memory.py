"""Host memory kept through training: fewer page faults inside, handed back after, the
user's own allocator settings left alone, nesting, and the trainer's switch."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys

import pytest

import pinnkit as pk
from pinnkit.train import host_memory
from tests.helpers import heat_problem

GLIBC = host_memory.why_not("cpu", environ={}) is None

#: Run in a fresh process, so glibc starts from its own defaults: minor page faults per
#: allocation of a 48 MiB tensor (above glibc's largest mmap threshold) before, inside and
#: after `retained`, and the resident set inside (tensors freed) and after leaving.
CHILD = """
import json, resource, torch
from pinnkit.train import host_memory

BIG = (48 << 20) // 4

def faults():
    for _ in range(16):  # glibc's heap takes about 8 to settle: an aligned request is a
        torch.empty(BIG).fill_(1.0)  # little larger than the chunk a freed tensor leaves
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(8):
        torch.empty(BIG).fill_(1.0)
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 8

def rss():
    with open("/proc/self/status") as handle:
        return next(int(l.split()[1]) for l in handle if l.startswith("VmRSS")) / 1024

out = {"before": faults()}
with host_memory.retained("cpu") as changed:
    out["changed"] = changed
    out["inside"] = faults()
    out["rss_inside"] = rss()
out["rss_after"] = rss()
print(json.dumps(out))
"""


@pytest.mark.skipif(not GLIBC, reason="glibc's malloc on Linux only")
def test_a_large_tensor_is_faulted_in_once_inside_and_the_memory_handed_back_after():
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in (*host_memory.USER_SETTINGS, "GLIBC_TUNABLES", "LD_PRELOAD")
    }
    done = subprocess.run(
        [sys.executable, "-c", CHILD], env=environ, capture_output=True, text=True, check=True
    )
    out = json.loads(done.stdout.splitlines()[-1])
    pages = (48 << 20) / resource.getpagesize()
    assert out["changed"]
    assert out["before"] > 0.9 * pages  # glibc's default: a fresh mapping every time
    assert out["inside"] < 0.02 * pages  # the heap is reused
    assert out["rss_inside"] - out["rss_after"] > 40  # MiB: the retained heap handed back


class _Libc:
    """Records mallopt / malloc_trim calls instead of making them."""

    def __init__(self, accept=True):
        self.calls, self.accept = [], accept

    def mallopt(self, param, value):
        self.calls.append(("mallopt", param, value))
        return int(self.accept or value <= host_memory.GLIBC_MMAP)

    def malloc_trim(self, pad):
        self.calls.append(("malloc_trim", pad))
        return 1


@pytest.fixture
def libc(monkeypatch):
    fake = _Libc()
    monkeypatch.setattr(host_memory, "_libc", lambda: fake)
    monkeypatch.setattr(host_memory, "why_not", lambda device: None)
    return fake


RETAIN = [
    ("mallopt", host_memory.M_MMAP_THRESHOLD, host_memory.RETAIN_MMAP),
    ("mallopt", host_memory.M_TRIM_THRESHOLD, host_memory.RETAIN_TRIM),
]
RESTORE = [
    ("mallopt", host_memory.M_MMAP_THRESHOLD, host_memory.GLIBC_MMAP),
    ("mallopt", host_memory.M_TRIM_THRESHOLD, host_memory.GLIBC_TRIM),
    ("malloc_trim", 0),
]


def test_nested_blocks_set_once_and_the_last_to_leave_restores(libc):
    with host_memory.retained("cpu"):
        with host_memory.retained("cpu"):
            assert libc.calls == RETAIN
        assert libc.calls == RETAIN  # the outer block still holds the setting
    assert libc.calls == RETAIN + RESTORE


def test_the_setting_is_restored_when_training_raises(libc):
    with pytest.raises(RuntimeError), host_memory.retained("cpu"):
        raise RuntimeError("a failed step")
    assert libc.calls == RETAIN + RESTORE


def test_a_glibc_that_caps_the_threshold_gets_the_cap(monkeypatch, libc):
    libc.accept = False
    with host_memory.retained("cpu"):
        pass
    assert libc.calls[:2] == [
        ("mallopt", host_memory.M_MMAP_THRESHOLD, host_memory.RETAIN_MMAP),
        ("mallopt", host_memory.M_MMAP_THRESHOLD, host_memory.GLIBC_MMAP),
    ]


@pytest.mark.parametrize(
    ("environ", "reason"),
    [
        ({"MALLOC_TRIM_THRESHOLD_": "0"}, "MALLOC_TRIM_THRESHOLD_ is set"),
        ({"GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=4096"}, "GLIBC_TUNABLES"),
        ({"LD_PRELOAD": "/usr/lib/libjemalloc.so.2"}, "jemalloc"),
    ],
)
@pytest.mark.skipif(not GLIBC, reason="glibc's malloc on Linux only")
def test_the_users_own_allocator_settings_are_left_alone(environ, reason):
    assert reason in host_memory.why_not("cpu", environ=environ)


def test_nothing_changes_for_cuda_or_when_switched_off(monkeypatch):
    fake = _Libc()
    monkeypatch.setattr(host_memory, "_libc", lambda: fake)
    assert host_memory.why_not("cuda:0", environ={}) == "not a CPU device"
    with host_memory.retained("cuda:0") as changed:
        assert not changed
    with host_memory.retained("cpu", enabled=False) as changed:
        assert not changed
    assert fake.calls == []


@pytest.mark.parametrize("retain", [True, False])
def test_training_runs_inside_the_block_when_the_config_asks(libc, retain):
    seen = []
    config = pk.Config(
        steps=3,
        model=pk.MLP(width=8, depth=1),
        sampling=pk.Sampling(interior=16, boundary=4, initial=4),
        progress=False,
        retain_memory=retain,
    )
    record = lambda step, row: seen.append(len(libc.calls))  # noqa: E731
    pk.fit(heat_problem(), config, out=None, callback=record)
    assert libc.calls == (RETAIN + RESTORE if retain else [])
    if retain:
        assert seen and all(n == len(RETAIN) for n in seen)  # set during every step


def test_retain_memory_must_be_a_bool():
    with pytest.raises(pk.ConfigError, match=r"retain_memory='no': expected true or false"):
        pk.Config(retain_memory="no")
