"""Wall-clock timing for the few cells that show one (their output is not checked)."""

import time

__all__ = ["best_time"]


def best_time(fn, *args, repeat=5):
    """The best of ``repeat`` runs of ``fn(*args)``, in seconds.

    The minimum, not the mean: other work on the machine only ever adds time, so the
    fastest run is the one least disturbed by it.
    """
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - start)
    return best
