"""strop.Stats: the stdlib's pstats.Stats, reading strop's and cProfile's files.

Reading, sorting and printing are pstats' own, so the tables look exactly as
Python's; what strop adds is a clear error for a file that is not a profile.
"""
import gc
import os
import pstats
import time

__all__ = ["Stats", "FormatError"]


class FormatError(ValueError):
    """A file that is not a profile strop can read."""


def _read_pstats_file(path):
    """The pstats dict in `path`; FormatError (or OSError) when it holds none.

    The engine's reader checks every length and count in the file against the
    bytes that remain before it builds anything (marshal.loads trusts them: a
    few changed bytes made it ask for gigabytes), and accepts only the shapes
    a pstats file has; its error names the byte where the file went wrong."""
    from . import _engine

    # Building a large profile's million objects would set off the cyclic
    # garbage collector again and again, for nothing: none of them is garbage.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _engine.read_pstats(path)
    except _engine.FormatError as e:
        raise FormatError(str(e)) from None
    finally:
        if gc_was_enabled:
            gc.enable()


class Stats(pstats.Stats):
    """pstats.Stats over any mix of pstats files, strop.Profile and
    cProfile.Profile objects.  Output goes to `stream` (default stdout)."""

    _tree_source = None  # the engine object behind a Stats of one strop.Profile

    def load_stats(self, arg):
        if not isinstance(arg, (str, os.PathLike)):
            super().load_stats(arg)
            self._tree_source = getattr(arg, "_tracer", None)
            return None
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

    def dump(self, path, format=None, *, command=None, node_thres=0.005, edge_thres=0.001):
        """Writes the profile in any of strop's formats (None: by the file
        name, as Profile.dump).  A Stats made from one strop.Profile writes
        its call tree; otherwise the stacks are rebuilt from the callers in
        the pstats data, an approximation."""
        from . import _engine
        from ._profile import write_tree
        from ._formats import format_of

        format = format_of(os.fspath(path), format)
        if format == "pstats":
            self.dump_stats(path)
        elif format == "timeline":
            raise ValueError("a timeline needs the order of calls: dump it from a "
                             "strop.Profile(timeline=True)")
        elif self._tree_source is not None:
            write_tree(self._tree_source, path, format, command, node_thres, edge_thres)
        else:
            write_tree(_engine.load_stats(self.stats), path, format, command, node_thres,
                       edge_thres)
        return path

    def add(self, *arg_list):
        if arg_list:
            self._tree_source = None  # the tree of one profile is not the sum's
        return super().add(*arg_list)

    def print_table(self, sort="cumulative", limit=25, stream=None):
        """Sorts and prints the top `limit` rows, as `strop run` does."""
        if stream is not None:
            self.stream = stream
        self.sort_stats(*(sort if isinstance(sort, (tuple, list)) else (sort,)))
        self.print_stats(limit)
        return self

