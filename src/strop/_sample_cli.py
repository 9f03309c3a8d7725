"""`strop sample` and `strop dump`: argument parsing and wiring of the
statistical profiler (strop._engine.Sampler does the reading, the counting,
the table and the files)."""
import os
import shutil
import signal
import subprocess
import sys
import time

from . import _health
from ._formats import TREE_FORMATS, format_of, map_format_of, write_map, write_tree
from ._attach import _attach_error, _pid
from ._cli_common import UsageError, _check_output, _Parser, _positive_int, split_target

__all__ = ["cmd_sample", "cmd_dump", "cmd_top"]


def _engine():
    try:
        from . import _engine
    except ImportError as e:
        raise UsageError(f"the C engine is not built ({e}); pip install -e . builds it") from None
    return _engine


def _attach(pid, **kw):
    """A Sampler on `pid`; every failure is one line for the user."""
    try:
        return _engine().Sampler(pid, **kw)
    except (OSError, ValueError) as e:
        raise UsageError(_attach_error(pid, e)) from None


# ---- strop dump -------------------------------------------------------------

def _dump_parser():
    p = _Parser(prog="strop dump",
                description="Print every thread's current Python stack of a running process "
                "(innermost call last, like a traceback), and under it what a blocked "
                "thread waits on.")
    p.add_argument("--pid", required=True, help="the process to read")
    return p


def cmd_dump(argv):
    opts = _dump_parser().parse_args(argv)
    pid = _pid(opts.pid)
    with _SlowStatus(f"reading process {pid}"):
        sampler = _attach(pid)
        try:
            threads = sampler.stacks()
        except ProcessLookupError:
            raise UsageError(f"process {pid} exited") from None
        except RuntimeError as e:
            raise UsageError(str(e)) from None
        names = sampler.thread_names()  # after the stacks: a thread started meanwhile too
    version = sampler.info()["python"]
    lines = [f"Process {pid} (Python {version}), {len(threads)} threads with Python frames"]
    for ident, native_id, frames, torn, wait in threads:
        label = f' "{names[ident]}"' if ident in names else ""
        lines.append("")
        lines.append(f"Thread {ident}{label} (native id {native_id or '?'})"
                     + (" [could not be read consistently]" if torn else "") + ":")
        for filename, line, name in frames:
            lines.append(f'  File "{filename}", line {line if line >= 0 else "?"}, in {name}')
        if wait:
            lines.append(f"    {wait}")
    try:
        print("\n".join(lines))
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    return 0


# ---- the status line --------------------------------------------------------

def _terminal():
    """stderr's width when it is a terminal, else None."""
    try:
        if not sys.stderr.isatty():
            return None
    except (ValueError, AttributeError):
        return None
    try:
        columns = os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError, AttributeError):
        columns = 0
    return columns or 80  # a terminal that does not say its size


def _show(width, text):
    """Replaces the status line with `text` (cut to the terminal's width);
    "" clears it."""
    try:
        sys.stderr.write("\r" + text[:max(width - 1, 0)] + "\x1b[K")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _sample_status(sampler, started):
    info = sampler.info()
    readings = info["samples"] + info["bad"] + info["idle"]
    unreadable = info["bad"] / readings if readings else 0.0
    return (f"strop: {time.monotonic() - started:.0f} s, {info['samples']:,} samples, "
            f"{info['achieved_rate']:.0f} Hz, {unreadable:.1%} unreadable - "
            "Ctrl-C to stop and write")


def _sample_attached(sampler, duration, quiet):
    """Samples an attached process until `duration` passes (None: until it
    exits), it exits, or Ctrl-C.  On a terminal, and without -q, one status
    line on stderr is brought up to date about once a second, and cleared at
    the end.  Ctrl-C reaches only strop (the target is not in its process
    group, and strop never signals it): sampling stops, and the caller writes."""
    width = None if quiet else _terminal()
    started = time.monotonic()
    shown = False
    try:
        while True:
            left = None if duration is None else duration - (time.monotonic() - started)
            if left is not None and left <= 0:
                break
            reason = sampler.run(1.0 if left is None else min(1.0, left))
            if reason != "duration":  # exited, interrupted (Ctrl-C), out of memory
                break
            if width is not None:
                _show(width, _sample_status(sampler, started))
                shown = True
    except KeyboardInterrupt:
        pass
    finally:
        if shown:
            _show(width, "")


class _SlowStatus:
    """Around a task that is usually quick: on a terminal, after a second, one
    status line says what strop is doing, brought up to date each second from
    a helper thread, and cleared at the end."""

    def __init__(self, doing):
        self.doing = doing
        self.width = _terminal()
        self.thread = None
        self.shown = False

    def _tick(self, done, started):
        while not done.wait(1.0):
            _show(self.width, f"strop: {self.doing}, {time.monotonic() - started:.0f} s - "
                              "Ctrl-C to stop")
            self.shown = True

    def __enter__(self):
        import threading

        if self.width is not None:
            self.done = threading.Event()
            self.thread = threading.Thread(target=self._tick, daemon=True,
                                           args=(self.done, time.monotonic()))
            self.thread.start()
        return self

    def __exit__(self, *exc):
        if self.thread is not None:
            self.done.set()
            self.thread.join()
            if self.shown:
                _show(self.width, "")
        return False


# ---- strop sample -----------------------------------------------------------

_VALUE_OPTS = {"--rate", "--duration", "-o", "--output", "--mode", "--pid", "--limit", "-l",
               "--sort", "-s", "--format", "--map"}


def _rate(value):
    try:
        rate = float(value)
    except ValueError:
        rate = -1
    if not 0 < rate <= 100000:
        raise UsageError(f"--rate expects a rate in Hz from 1 to 100000, not {value!r}")
    return rate


def _duration(value):
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1
    if seconds <= 0:
        raise UsageError(f"--duration expects seconds above 0, not {value!r}")
    return seconds


def _sample_parser():
    p = _Parser(prog="strop sample",
                description="Sample the Python stacks of a program from outside, without "
                "stopping it, then print the function table by share of samples.",
                usage="strop sample [options] (--pid PID | script.py args | -m module args)")
    p.add_argument("--pid", help="attach to this running process")
    p.add_argument("--rate", default="100", help="samples a second (default 100)")
    p.add_argument("--duration", help="attach mode: stop after this many seconds")
    p.add_argument("--mode", choices=("wall", "cpu"), default="wall",
                   help="wall: every thread (default); cpu: only threads running on a CPU")
    p.add_argument("--threads", action="store_true",
                   help="a root frame per thread (<thread TID \"name\">): a per-thread breakdown")
    p.add_argument("--subprocesses", action="store_true",
                   help="follow child Python processes too, a root frame per process")
    p.add_argument("--no-waits", dest="waits", action="store_false",
                   help="wall mode: no leaf frame naming the system call a thread waits in")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write the profile; the name chooses the format as for 'strop run': "
                   ".prof/.pstats, .folded/.collapsed, .pb.gz/.pprof, callgrind.out.*/"
                   ".callgrind, .speedscope.json, .dot, .svg/.png (call graph drawn by "
                   "graphviz), .html (a report to open in a browser)")
    p.add_argument("--format", choices=TREE_FORMATS, help="the output format, whatever the name")
    p.add_argument("--map", metavar="FILE",
                   help="wall mode: write the map of interactions, what the program waited "
                   "on by endpoint, as .dot or .svg (drawn by graphviz)")
    p.add_argument("-s", "--sort", choices=("own", "total"), default="own",
                   help="sort the table by own (default) or total share")
    p.add_argument("-l", "--limit", type=_positive_int, default=25, metavar="N",
                   help="rows of the table (default 25; 0 for all)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="print no table, and no status line while attached")
    return p


def _spawn(kind, target, args):
    if kind == "script" and not os.path.exists(target):
        raise UsageError(f"can't open file {target!r}: no such file")
    cmd = [sys.executable] + (["-m", target] if kind == "module" else [target]) + args
    try:
        return subprocess.Popen(cmd)
    except OSError as e:
        raise UsageError(f"cannot start {target}: {e.strerror}") from None


def _attach_child(child, mode, rate, **kw):
    """Attaches to a child that is still starting: retries until its runtime
    is mapped, for up to 5 seconds."""
    deadline = time.monotonic() + 5
    while True:
        try:
            return _engine().Sampler(child.pid, rate=rate, mode=mode, **kw)
        except (OSError, ValueError) as e:
            if child.poll() is not None:
                return None
            if time.monotonic() > deadline or isinstance(e, PermissionError):
                raise UsageError(_attach_error(child.pid, e)) from None
            time.sleep(0.002)


def cmd_sample(argv):
    options, kind, target, args = split_target(argv, _VALUE_OPTS, kinds=("-m",))
    opts = _sample_parser().parse_args(options)
    opts.target = target
    rate = _rate(opts.rate)
    duration = _duration(opts.duration) if opts.duration is not None else None
    if opts.pid is not None and kind is not None:
        raise UsageError("give either --pid or a program to run, not both")
    if opts.pid is None and kind is None:
        raise UsageError("nothing to sample: give --pid PID, a script or -m module "
                         "(see 'strop sample --help')")
    if opts.output:
        _check_sample_output(opts.output, opts.format)
    if opts.map:
        _check_map_output(opts.map, opts)
    status = 0
    if opts.pid is not None:
        sampler = _attach(_pid(opts.pid), rate=rate, mode=opts.mode, threads=opts.threads,
                          waits=opts.waits and opts.mode == "wall",
                          subprocesses=opts.subprocesses)
        health = _health.start(_pid(opts.pid))
        _sample_attached(sampler, duration, opts.quiet)
    else:
        child = _spawn(kind, target, args)
        health = _health.start(child.pid)
        # Ctrl-C goes to the child too (same process group); we keep sampling
        # until it exits, as the program decides what Ctrl-C means.
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            sampler = _attach_child(child, opts.mode, rate, threads=opts.threads,
                                    waits=opts.waits and opts.mode == "wall",
                                    subprocesses=opts.subprocesses)
            if sampler is not None:
                sampler.run(duration)
            if health is not None:
                health.stop()  # its last reading before the child is reaped and its /proc gone
            status = child.wait()
        finally:
            signal.signal(signal.SIGINT, old)
        if sampler is None:
            print("strop: the program exited before it could be sampled", file=sys.stderr)
            return status
    _report(sampler, opts, health)
    return status


def _check_sample_output(path, format):
    """Refuses, before sampling, an output that samples cannot be written to."""
    if format_of(path, format) == "timeline":
        raise UsageError(f"cannot write {path}: a .json file is the Chrome trace timeline, "
                         "which needs the order of calls that only 'strop run --timeline' "
                         "records (name a .speedscope.json file for speedscope)")
    _check_output(path, format)


def _check_map_output(path, opts):
    """Refuses, before sampling, a --map that cannot be drawn or written."""
    if opts.mode == "cpu":
        raise UsageError("--map draws what the program waited on, which only wall mode sees: "
                         "drop --mode cpu")
    if not opts.waits:
        raise UsageError("--map draws what the program waited on: drop --no-waits")
    if map_format_of(path) is None:
        raise UsageError(f"cannot write the map to {path}: name a .dot or .svg file")
    if map_format_of(path) == "svg" and shutil.which("dot") is None:
        raise UsageError(f"cannot write {path}: drawing the map needs graphviz's 'dot' "
                         "(apt-get install graphviz), or write a .dot file")
    _check_output(path, "dot")


def _map_name(opts):
    return os.path.basename(opts.target) if getattr(opts, "target", None) else None


def _write(sampler, path, format, machine=None, interactions=None):
    """Writes the profile in any format 'strop run' writes; one line on failure."""
    try:
        python = "CPython " + sampler.info()["python"]
        write_tree(sampler, path, format_of(path, format), " ".join(sys.argv), python=python,
                   machine=machine, interactions=interactions)
    except (OSError, ValueError, RuntimeError) as e:
        print(f"strop: cannot write {path}: {getattr(e, 'strerror', None) or e}",
              file=sys.stderr)
        return False
    return True


def _interactions(sampler, opts, health):
    """The map of interactions for the HTML report: (dot text, waits table),
    or None when no waits were recorded (cpu mode, --no-waits)."""
    if opts.mode != "wall" or not opts.waits:
        return None
    try:
        return sampler.map_dot(health, _map_name(opts)), sampler.waits_table()
    except (ValueError, MemoryError):
        return None


def _report(sampler, opts, health=None):
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    if opts.output:
        machine = _health.text(health)
        interactions = None
        if format_of(opts.output, opts.format) == "html":
            interactions = _interactions(sampler, opts, health)
        _write(sampler, opts.output, opts.format, machine, interactions)
    if opts.map:
        try:
            write_map(sampler, opts.map, health, _map_name(opts))
        except (OSError, ValueError, RuntimeError) as e:
            print(f"strop: cannot write {opts.map}: {getattr(e, 'strerror', None) or e}",
                  file=sys.stderr)
    if not opts.quiet:
        try:
            sys.stderr.write(sampler.report(limit=opts.limit, sort=opts.sort))
        except BrokenPipeError:
            pass
    _health.report(health, quiet=opts.quiet)
    if opts.output and not opts.quiet:
        print(f"strop: profile written to {opts.output}", file=sys.stderr)
    if opts.map and not opts.quiet and os.path.exists(opts.map):
        print(f"strop: map of interactions written to {opts.map}", file=sys.stderr)



# ---- strop top --------------------------------------------------------------

def _top_parser():
    p = _Parser(prog="strop top",
                description="A live view of a running process's functions by share of "
                "the samples of the last second, refreshed every second.  Keys: a toggles "
                "between the last second and all samples since start, o sort by own, "
                "t by total, q quit.")
    p.add_argument("--pid", required=True, help="the process to watch")
    p.add_argument("--rate", default="100", help="samples a second (default 100)")
    p.add_argument("--mode", choices=("wall", "cpu"), default="wall",
                   help="wall: every thread (default); cpu: only threads running on a CPU")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="on quitting, write every sample since the start; the name chooses "
                   "the format as for 'strop sample'")
    p.add_argument("--format", choices=TREE_FORMATS, help="the output format, whatever the name")
    p.add_argument("--map", metavar="FILE",
                   help="wall mode: write the map of interactions, what the program waited "
                   "on by endpoint, as .dot or .svg (drawn by graphviz)")
    return p


def _top_screen(screen, sampler, pid):
    import curses

    screen.nodelay(True)
    try:
        curses.curs_set(0)
    except curses.error:
        pass
    sort, shown_at, reason, since_start = "own", 0.0, None, False
    while True:
        key = screen.getch()
        if key in (ord("q"), ord("Q")):
            return "quit"
        if key in (ord("o"), ord("t")):
            sort, shown_at = ("own" if key == ord("o") else "total"), 0.0
        if key in (ord("a"), ord("A")):
            since_start, shown_at = not since_start, 0.0
        if reason is None:
            reason = sampler.run(0.05)
            if reason != "exited":
                reason = None
        else:
            time.sleep(0.05)
        if time.monotonic() - shown_at < 1.0:
            continue
        shown_at = time.monotonic()
        height, width = screen.getmaxyx()
        samples, rows = sampler.table(limit=max(height - 4, 1), sort=sort,
                                      window=None if since_start else 1.0)
        info = sampler.info()
        screen.erase()
        view = "since start" if since_start else "last second"
        head = (f"strop top: process {pid} (Python {info['python']}, {info['mode']} time), "
                f"{view}: {samples} samples, {info['achieved_rate']:.0f} Hz"
                + ("  [process exited]" if reason == "exited" else ""))
        lines = [head, "keys: a last second/since start  o own  t total  q quit   "
                 f"(showing {view}, sorted by {sort})",
                 f"{'own %':>7}  {'total %':>7}  function (file:line)"]
        total = samples or 1
        for own, inclusive, filename, line, name in rows:
            where = f" ({filename}:{line})" if filename != "~" else ""
            lines.append(f"{100 * own / total:6.1f}%  {100 * inclusive / total:6.1f}%  "
                         f"{name}{where}")
        for y, text in enumerate(lines[:height]):
            try:
                screen.addstr(y, 0, text[:max(width - 1, 0)])
            except curses.error:
                pass
        screen.refresh()


def cmd_top(argv):
    opts = _top_parser().parse_args(argv)
    pid = _pid(opts.pid)
    rate = _rate(opts.rate)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("strop top needs a terminal; 'strop sample --pid PID' prints a table")
    if opts.output:
        _check_sample_output(opts.output, opts.format)
    sampler = _attach(pid, rate=rate, mode=opts.mode)
    import curses

    try:
        curses.wrapper(_top_screen, sampler, pid)
    except KeyboardInterrupt:
        pass
    if opts.output and _write(sampler, opts.output, opts.format):
        print(f"strop: profile written to {opts.output}", file=sys.stderr)
    return 0
