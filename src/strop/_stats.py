"""strop.Stats: the stdlib's pstats.Stats, reading strop's and cProfile's files.

Reading, sorting and printing are pstats' own, so the tables look exactly as
Python's; what strop adds is a clear error for a file that is not a profile.
"""
import marshal
import os
import pstats
import sys

__all__ = ["Stats", "FormatError", "SORT_KEYS"]

# Every sort key pstats accepts, with its unique prefixes.
SORT_KEYS = sorted(pstats.Stats().get_sort_arg_defs())


class FormatError(ValueError):
    """A file that is not a profile strop can read."""


def _check_pstats_file(path):
    """Raises FormatError (or OSError) unless `path` holds a pstats dict."""
    with open(path, "rb") as f:
        data = f.read()
    if not data:
        raise FormatError(f"{path}: the file is empty; expected a pstats profile")
    try:
        stats = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        raise FormatError(
            f"{path}: not a pstats profile (expected marshal data as written by "
            "cProfile or strop)"
        ) from None
    if not isinstance(stats, dict) or not all(
        isinstance(k, tuple) and len(k) == 3 and isinstance(v, tuple) and len(v) == 5
        for k, v in stats.items()
    ):
        raise FormatError(
            f"{path}: marshal data, but not a pstats profile (expected a dict of "
            "(file, line, name) -> (cc, nc, tt, ct, callers))"
        )


class Stats(pstats.Stats):
    """pstats.Stats over any mix of pstats files, strop.Profile and
    cProfile.Profile objects.  Output goes to `stream` (default stdout)."""

    def load_stats(self, arg):
        if isinstance(arg, (str, os.PathLike)):
            _check_pstats_file(arg)
        super().load_stats(arg)

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

