"""A worker's memory stays flat under large uploads (glibc's malloc; elsewhere nothing).

A chunk PUT or a piece of a no-JS body passes through buffers of up to a few MiB. glibc maps
a buffer that large on its own and unmaps it when freed, until the first such free: then it
raises that threshold, and later buffers come from the arena of whichever of the worker's 32
threads served them, and stay there. After one large upload a worker held some 20 MiB more
that no request used (issue 18: peak RSS per worker must stay under 100 MiB). A fixed
threshold maps a large buffer on its own (unless a free piece of the heap already fits it),
given back the moment it is freed, and keeps the heap's own trimming at its default.

glibc also gives each new thread an arena of its own, up to eight per core: 16 heaps on a
2-core machine, each keeping what its thread freed. Two arenas hold the same work in about
9 MiB less per worker (measured on PostgreSQL, issue 18), and cost nothing in contention:
the threads take turns on Python's GIL for nearly every allocation anyway.
"""

from __future__ import annotations

import ctypes

M_MMAP_THRESHOLD = -3  # glibc's malloc.h
M_ARENA_MAX = -8
MMAP_THRESHOLD_BYTES = 256 * 1024
ARENAS = 2


def give_back_large_buffers() -> None:
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc, or no C library to ask
        return
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    mallopt(M_ARENA_MAX, ARENAS)
