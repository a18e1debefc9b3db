"""Keep freed host memory inside the process while training on the CPU (Linux with glibc).

glibc's malloc serves a request above its mmap threshold (128 KiB at start, raised as large
blocks are freed, to 32 MiB at most on 64-bit) with a fresh `mmap` and unmaps it on `free`.
A training step allocates and frees the same large tensors every step, so each one is
faulted in again, one 4 KiB page at a time, zeroed by the kernel: a 35 MiB tensor costs 8751
minor page faults, and on this project's 2-core machine an elementwise product of one
(70000 x 128) float32 tensor took 14 ms that way against 2 ms from memory the process kept.
The tangents of KdV on a 4 x 128 network with 16k points are such tensors, and the
compiled step spends a quarter of its time in those faults
(`benchmarks/speed/host_memory.py`).

`retained(device)` raises glibc's mmap threshold and its trim threshold for as long as it is
entered, so the heap grows to the step's high-water mark once and is reused. On leaving it
sets the two to the values glibc's own rules settle at (mmap threshold 32 MiB, trim
threshold twice that) and hands the free heap back (`malloc_trim(0)`): after training the
process holds what is live, not the step's peak.

The setting is process-wide, so nested or concurrent `retained` blocks count: the last one
to leave restores. Nothing is changed on CUDA, off glibc, or when the user chose the
allocator: a `MALLOC_*_` environment variable glibc reads, `glibc.malloc` tunables in
`GLIBC_TUNABLES`, or jemalloc / tcmalloc / mimalloc in `LD_PRELOAD`.
"""

from __future__ import annotations

import ctypes
import os
import platform
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import torch

__all__ = ["retained", "why_not"]

#: mallopt parameter numbers (glibc's malloc.h).
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
#: While retained: requests up to 1 GiB come from the heap; the heap is never trimmed.
RETAIN_MMAP, RETAIN_TRIM = 1 << 30, (1 << 31) - 1
#: glibc's largest dynamic mmap threshold on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX), the
#: fallback where a glibc refuses a higher one, and the values restored on leaving.
GLIBC_MMAP, GLIBC_TRIM = 32 << 20, 64 << 20
#: Environment variables through which glibc's malloc is tuned by the user.
USER_SETTINGS = (
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_TRIM_THRESHOLD_",
    "MALLOC_TOP_PAD_",
    "MALLOC_MMAP_MAX_",
)
OTHER_ALLOCATORS = ("jemalloc", "tcmalloc", "mimalloc")

_lock = threading.Lock()
_depth = 0  # retained blocks entered and not yet left (the setting is process-wide)


def why_not(device: torch.device | str, environ=os.environ) -> str | None:
    """None when `retained` would change the allocator for `device`, else the reason."""
    if torch.device(device).type != "cpu":
        return "not a CPU device"
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return "the C library is not glibc"
    chosen = [name for name in USER_SETTINGS if name in environ]
    if chosen:
        return f"{chosen[0]} is set"
    if "glibc.malloc" in environ.get("GLIBC_TUNABLES", ""):
        return "GLIBC_TUNABLES sets glibc.malloc"
    preload = environ.get("LD_PRELOAD", "")
    for name in OTHER_ALLOCATORS:
        if name in preload:
            return f"LD_PRELOAD loads {name}"
    return None


def _libc():
    return ctypes.CDLL("libc.so.6")


@contextmanager
def retained(device: torch.device | str, *, enabled: bool = True) -> Iterator[bool]:
    """Keep freed memory in the process while entered (see the module docstring); yields
    whether the allocator was changed."""
    global _depth
    if not enabled or why_not(device) is not None:
        yield False
        return
    libc = _libc()
    with _lock:
        if _depth == 0 and not libc.mallopt(M_MMAP_THRESHOLD, RETAIN_MMAP):
            libc.mallopt(M_MMAP_THRESHOLD, GLIBC_MMAP)  # an older glibc caps it there
        if _depth == 0:
            libc.mallopt(M_TRIM_THRESHOLD, RETAIN_TRIM)
        _depth += 1
    try:
        yield True
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                libc.mallopt(M_MMAP_THRESHOLD, GLIBC_MMAP)
                libc.mallopt(M_TRIM_THRESHOLD, GLIBC_TRIM)
                libc.malloc_trim(0)
