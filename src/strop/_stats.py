"""strop.Stats: the stdlib's pstats.Stats, reading strop's and cProfile's files.

Reading, sorting and printing are pstats' own, so the tables look exactly as
Python's; what strop adds is a clear error for a file that is not a profile.
"""
import gc
import marshal
import os
import pstats
import sys
import time

__all__ = ["Stats", "FormatError"]


class FormatError(ValueError):
    """A file that is not a profile strop can read."""


def _read_pstats_file(path):
    """The pstats dict in `path`; FormatError (or OSError) when it holds none."""
    with open(path, "rb") as f:
        data = f.read()
    if not data:
        raise FormatError(f"{path}: the file is empty; expected a pstats profile")
    # Building a large profile's million objects would set off the cyclic
    # garbage collector again and again, for nothing: none of them is garbage.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        stats = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        raise FormatError(
            f"{path}: not a pstats profile (expected marshal data as written by "
            "cProfile or strop)"
        ) from None
    finally:
        if gc_was_enabled:
            gc.enable()
    if not isinstance(stats, dict) or not all(
        type(k) is tuple and len(k) == 3 and type(v) is tuple and len(v) == 5
        for k, v in stats.items()
    ):
        raise FormatError(
            f"{path}: marshal data, but not a pstats profile (expected a dict of "
            "(file, line, name) -> (cc, nc, tt, ct, callers))"
        )
    return stats


class Stats(pstats.Stats):
    """pstats.Stats over any mix of pstats files, strop.Profile and
    cProfile.Profile objects.  Output goes to `stream` (default stdout)."""

    def load_stats(self, arg):
        if not isinstance(arg, (str, os.PathLike)):
            return super().load_stats(arg)
        # As pstats does, reading the file once and refusing foreign ones.
        path = os.fspath(arg)
        self.stats = _read_pstats_file(path)
        try:
            path = time.ctime(os.stat(path).st_mtime) + "    " + path
        except OSError:
            pass
        self.files = [path]
        if not self.stats:
            raise TypeError(f"Cannot create or construct a {self.__class__!r} object from {arg!r}")

    def dump(self, path, format=None):
        """Writes the profile to `path` (pstats format)."""
        if format not in (None, "pstats"):
            raise ValueError(f"unknown format {format!r}: strop writes 'pstats'")
        self.dump_stats(path)
        return path

    def print_table(self, sort="cumulative", limit=25, stream=None):
        """Sorts and prints the top `limit` rows, as `strop run` does."""
        if stream is not None:
            self.stream = stream
        self.sort_stats(*(sort if isinstance(sort, (tuple, list)) else (sort,)))
        self.print_stats(limit)
        return self

