"""Memory the simulations may use: what is available, the default budget, and checks before allocating."""

from __future__ import annotations

import os

#: The default budget (MB) of one execution, when a quarter of the available memory is larger.
DEFAULT_BUDGET_MB = 1024


def available_memory_bytes() -> int:
    """Physical memory that a simulation may use (bytes)."""
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 8 * 2**30


def default_memory_budget_mb() -> int:
    """min(DEFAULT_BUDGET_MB, a quarter of the available memory), in MB."""
    return max(16, min(DEFAULT_BUDGET_MB, available_memory_bytes() // 4 // 2**20))


def check_memory(needed: int, budget: int, what: str, hint: str) -> None:
    """Raise MemoryError before allocating ``needed`` bytes over ``budget``."""
    if needed > budget:
        raise MemoryError(f"{what} needs about {needed / 2**20:.4g} MB, over the {budget / 2**20:.4g} MB budget "
                          f"(option max_memory_mb); {hint}")


def peak_rss_bytes() -> int:
    """The peak resident memory of this process so far (bytes; Linux reports kB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def release_memory() -> None:
    """Give freed memory back to the operating system between simulation runs.

    Circuits refer to themselves in cycles, so they are freed only when the garbage
    collector runs; and glibc keeps freed blocks in per-thread arenas (Aer's worker
    threads allocate too) unless asked to trim them. Without both, the resident memory
    of a chunked evolution grows by the size of every chunk (measured: 0.4 to 1.6 GB
    over 30 chunks at 12 qubits) instead of staying at the size of one.
    """
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):   # not glibc: nothing to trim
        pass
