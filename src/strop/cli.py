"""The `strop` command line: argument parsing and wiring only.

Every failure of the user's input ends in one line `strop: ...` on stderr and
exit status 2; the program under study keeps its own output, exceptions and
exit status.
"""
import os
import sys

from . import _health
from ._cli_common import (
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    MAX_INPUT,
    TIMELINE_CALLS,
    UsageError,
    _check_output,
    _fail,
    _Parser,
    _positive_int,
    _share,
    _size,
    _TargetCompileError,
    _exit_status,
    _fresh_main,
    die_like,
    on_ending_signals,
    _prepare_script,
    _sort_key,
    split_target,
    unreadable,
)
from ._formats import FORMATS, TREE_FORMATS, format_of

__all__ = ["main"]


# ---- strop run --------------------------------------------------------------

_RUN_VALUE_OPTS = {"-o", "--output", "--sort", "-s", "--limit", "-l", "--timer", "--format",
                   "--node-thres", "--edge-thres"}


def _run_parser():
    p = _Parser(
        prog="strop run",
        description="Run a Python program under strop's deterministic profiler, then print "
        "the function table (to stderr) and, with -o, write the profile.",
        usage="strop run [options] (script.py | -m module | -c code) [args ...]",
    )
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write the profile; the name chooses the format: .prof/.pstats "
                   "(pstats), .folded/.collapsed, .pb.gz/.pprof, callgrind.out.*/.callgrind, "
                   ".speedscope.json, .dot, .svg/.png (call graph drawn by graphviz), "
                   ".html (a report to open in a browser), .json (with --timeline)")
    p.add_argument("--format", choices=FORMATS, help="the output format, whatever the name")
    p.add_argument("--timeline", nargs="?", type=_positive_int, const=TIMELINE_CALLS,
                   default=0, metavar="N",
                   help="also record every call as a span, for -o trace.json (a Chrome trace "
                   "for Perfetto); keeps the first N calls (--timeline=N, default 1000000)")
    p.add_argument("--node-thres", type=_share, default=0.5, metavar="PCT",
                   help="call graph: leave out functions below PCT%% of the total (0.5)")
    p.add_argument("--edge-thres", type=_share, default=0.1, metavar="PCT",
                   help="call graph: leave out calls below PCT%% of the total (0.1)")
    p.add_argument("-s", "--sort", type=_sort_key, default="cumulative", metavar="KEY",
                   help="sort key of the table, as pstats takes them (default: cumulative)")
    p.add_argument("-l", "--limit", type=_positive_int, default=25, metavar="N",
                   help="rows of the table (default 25; 0 for all)")
    p.add_argument("--timer", choices=("wall", "cpu"), default="wall",
                   help="wall-clock time (default) or the threads' CPU time")
    p.add_argument("--no-builtins", action="store_true",
                   help="Python functions only, on a cheaper hook")
    p.add_argument("--threads", action="store_true",
                   help="each thread's calls under its own root: thread_name labels in "
                        "pprof, one profile per thread in speedscope")
    p.add_argument("--waits", action="store_true",
                   help="add up the calls that block (socket recv/send/connect/accept, "
                   "time.sleep, select/poll, lock acquire, file objects' reads and writes) "
                   "by endpoint, the socket's peer or the file read from the kernel, and "
                   "print that table too")
    p.add_argument("-q", "--quiet", action="store_true", help="print no table")
    return p


def _run_target(profile, kind, target, args, finish=None):
    """Runs the target under `profile`; returns the exit status it asks for
    (negative: it ended by that signal).  finish(status), when given, writes
    the profile of a program ended by SIGTERM or SIGHUP."""
    import runpy
    import signal
    import traceback

    if kind == "module":
        import importlib.util

        sys.argv[:] = [target] + args
        sys.path[0] = os.getcwd()
        try:
            spec = importlib.util.find_spec(target)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            raise UsageError(f"no module named {target!r}")
        runner, run_args = runpy._run_module_as_main, (target, True)
    elif kind == "code":
        sys.argv[:] = ["-c"] + args
        sys.path[0] = ""
        try:
            code = compile(target, "<string>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as e:
            raise _TargetCompileError(e) from None
        runner, run_args = exec, (code, _fresh_main(None))
    else:
        code, main_globals = _prepare_script(target, args)
        runner, run_args = exec, (code, main_globals)

    status = 0
    tracer = profile._tracer
    restore = None
    if finish is not None:
        restore = on_ending_signals(lambda status: (tracer.disable(), finish(status)))
    try:
        tracer.enable()
        try:
            runner(*run_args)
            # The program's other threads are still recorded while the
            # interpreter would wait for them; this one's work is done.
            tracer.disable(this_thread_only=True)
            _join_threads()
        finally:
            tracer.disable()
            if restore is not None:
                restore()
    except SystemExit as e:
        status = _exit_status(e)
    except KeyboardInterrupt:
        # Python prints it, then ends by SIGINT (exit status -2, not 130).
        traceback.print_exc()
        status = -signal.SIGINT
    except BaseException as e:  # the program's own error: print it as Python would
        tb = e.__traceback__
        # Drop strop's own frames from the top of the traceback.
        while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
            tb = tb.tb_next
        traceback.print_exception(type(e), e, tb)
        status = 1
    return status


def _run_flushed(profile, kind, target, args, finish=None):
    """Runs the target under `profile` and flushes its stdout: its exit
    status, or None when it did not compile (its error printed as Python
    prints it)."""
    try:
        status = _run_target(profile, kind, target, args, finish)
    except _TargetCompileError as e:
        import traceback

        traceback.print_exception(type(e.error), e.error, None)
        return None
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    return status


def _join_threads():
    """Waits for the program's threads as the interpreter would at exit, so
    that their calls are in the profile."""
    import threading

    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is not None and threading.current_thread() is threading.main_thread():
        shutdown()


def cmd_run(argv):
    from ._profile import Profile
    from ._stats import Stats

    command = " ".join(["strop", "run"] + list(argv))
    options, kind, target, args = split_target(argv, _RUN_VALUE_OPTS)
    parser = _run_parser()
    opts = parser.parse_args(options)
    if kind is None:
        raise UsageError("nothing to run: give a script, -m module or -c code "
                         "(see 'strop run --help')")
    if opts.output:
        _check_output(opts.output, opts.format, opts.timeline)
    if opts.waits and (opts.no_builtins or opts.timer != "wall"):
        raise UsageError("--waits times the C calls that block: drop " +
                         ("--no-builtins" if opts.no_builtins else "--timer cpu"))
    profile = Profile(builtins=not opts.no_builtins, timer=opts.timer, timeline=opts.timeline,
                      threads=opts.threads, waits=opts.waits)
    health = _health.start()
    opts.command = command
    status = _run_flushed(profile, kind, target, args,
                          lambda status: _report(profile, opts, Stats, health))
    if status is None:
        return 1
    _report(profile, opts, Stats, health)
    return status


def _report(profile, opts, Stats, health=None):
    """Writes the file and prints the table; never raises past here."""
    written = False
    try:
        profile.create_stats()
        if opts.output:
            try:
                profile.dump(opts.output, format=format_of(opts.output, opts.format),
                             command=opts.command, node_thres=opts.node_thres / 100,
                             edge_thres=opts.edge_thres / 100, machine=_health.text(health))
                written = True
            except (OSError, RuntimeError) as e:
                print(f"strop: cannot write {opts.output}: {getattr(e, 'strerror', None) or e}",
                      file=sys.stderr)
        if not opts.quiet:
            stats = Stats(profile, stream=sys.stderr)
            stats.sort_stats(opts.sort)
            stats.print_stats(*([opts.limit] if opts.limit else []))
            if getattr(opts, "waits", False):
                sys.stderr.write(profile.waits_table())
        for warning in profile.warnings:
            print(f"strop: warning: {warning}", file=sys.stderr)
        _health.report(health, quiet=opts.quiet)
        if opts.output and not opts.quiet:
            print(f"strop: profile written to {opts.output}", file=sys.stderr)
    except BrokenPipeError:
        pass
    except MemoryError:  # the program ran: its exit status stands
        print("strop: out of memory while making the report" +
              (f"; {opts.output} was not written" if opts.output and not written else ""),
              file=sys.stderr)


# ---- strop mem --------------------------------------------------------------

_MEM_VALUE_OPTS = {"-o", "--output", "--format", "--view", "--limit", "-l", "--sample-bytes",
                   "--max-memory"}


def _mem_parser():
    from ._memtrace import MEMORY_FORMATS, VIEWS

    p = _Parser(
        prog="strop mem",
        description="Run a Python program with every Python allocation charged to the call "
        "path that made it, then print (to stderr) the functions that held the most at the "
        "peak of the traced heap and, with -o, write the profile.",
        usage="strop mem [options] (script.py | -m module | -c code) [args ...]",
    )
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write the profile of the chosen view; the name chooses the format: "
                   ".pb.gz/.pprof (a pprof heap profile), .folded/.collapsed (bytes), "
                   ".speedscope.json, .html")
    p.add_argument("--format", choices=MEMORY_FORMATS, help="the output format, whatever the "
                   "name")
    p.add_argument("--view", choices=VIEWS, default="peak",
                   help="peak: held at the peak of the traced heap (default); leaks: still "
                   "live at the end; allocated: in total; temporary: freed soon after made")
    p.add_argument("-l", "--limit", type=_positive_int, default=25, metavar="N",
                   help="rows of the table (default 25; 0 for all)")
    p.add_argument("--sample-bytes", type=_positive_int, default=0, metavar="N",
                   help="track one allocation per N bytes on average (Poisson spacing), "
                   "weighted to unbiased estimates, at a fraction of the cost (512 KiB is "
                   "tcmalloc's and Go's choice: 524288); 0 (default) tracks every one")
    p.add_argument("--max-memory", type=_size, default=0, metavar="SIZE",
                   help="stop the program with MemoryError the first time its traced memory "
                   "passes SIZE (500M, 2G, ...), as running out of memory would, and keep "
                   "the profile of what filled it")
    p.add_argument("--threads", action="store_true",
                   help="each thread's allocations under its own root: thread_name labels in "
                        "pprof, one profile per thread in speedscope")
    p.add_argument("-q", "--quiet", action="store_true", help="print no table")
    return p


def cmd_mem(argv):
    from ._memtrace import MEMORY_FORMATS, MemoryProfile

    command = " ".join(["strop", "mem"] + list(argv))
    options, kind, target, args = split_target(argv, _MEM_VALUE_OPTS)
    opts = _mem_parser().parse_args(options)
    if kind is None:
        raise UsageError("nothing to run: give a script, -m module or -c code "
                         "(see 'strop mem --help')")
    if opts.output:
        fmt = format_of(opts.output, opts.format)
        if fmt not in MEMORY_FORMATS:
            raise UsageError(f"cannot write {opts.output}: a memory profile is written as "
                             ".pb.gz (pprof), .folded, .speedscope.json or .html")
        _check_output(opts.output, fmt)
    profile = MemoryProfile(sample_bytes=opts.sample_bytes, threads=opts.threads,
                            max_memory=opts.max_memory)
    profile.command = command
    status = _run_flushed(profile, kind, target, args,
                          lambda status: _mem_report(profile, opts, command))
    if status is None:
        return 1
    _mem_report(profile, opts, command)
    return status


def _mem_report(profile, opts, command):
    """Writes the memory profile and prints its table; never raises past here."""
    try:
        if opts.output:
            try:
                profile.dump(opts.output, opts.format, view=opts.view, command=command)
            except (OSError, RuntimeError, ValueError) as e:
                print(f"strop: cannot write {opts.output}: "
                      f"{getattr(e, 'strerror', None) or e}", file=sys.stderr)
        if not opts.quiet:
            profile.print_table(opts.view, opts.limit, sys.stderr)
        for warning in profile.warnings:
            print(f"strop: warning: {warning}", file=sys.stderr)
        if opts.output and not opts.quiet:
            print(f"strop: profile written to {opts.output}", file=sys.stderr)
    except BrokenPipeError:
        pass


# ---- strop view -------------------------------------------------------------

def _view_parser():
    p = _Parser(prog="strop view",
                description="Print a profile (pstats, folded stacks or pprof) as pstats does.")
    p.add_argument("file", help="a .prof/.pstats, .folded or .pb.gz file")
    p.add_argument("-s", "--sort", type=_sort_key, action="append", metavar="KEY",
                   help="sort key (repeat for ties; default: cumulative)")
    p.add_argument("-l", "--limit", type=_positive_int, default=25, metavar="N",
                   help="rows (default 25; 0 for all)")
    p.add_argument("--callers", metavar="PATTERN",
                   help="who called the functions matching PATTERN (a regular expression)")
    p.add_argument("--callees", metavar="PATTERN",
                   help="what the functions matching PATTERN called")
    p.add_argument("--strip-dirs", action="store_true", help="drop directories from file names")
    _max_input_option(p)
    return p


def _max_input_option(p):
    p.add_argument("--max-input", type=_size, default=MAX_INPUT, metavar="SIZE",
                   help="the most to read: a larger file, or gzip data inflating to more, is "
                        "refused (default 1G; 500M, 4G, ...)")


def _load_input(path, period=0.01, max_input=MAX_INPUT):
    """Reads a profile file of any kind strop reads, told apart by its content:
    ("pstats", strop.Stats) or ("folded" or "pprof", _engine.LoadedProfile).
    UsageError (one line) for a missing, unreadable or foreign file, or one
    larger than `max_input` bytes (gzip data: once inflated)."""
    from . import _engine
    from ._stats import FormatError, Stats

    try:
        with open(path, "rb") as f:
            head = f.read(2)
            size = os.fstat(f.fileno()).st_size
        if size > max_input:
            raise UsageError(f"{path}: {size:,} bytes, more than the {max_input:,} that strop "
                             "reads; raise --max-input to read it")
        if head[:2] == b"\x1f\x8b":
            return "pprof", _engine.load_profile(path, "pprof", max_inflated=max_input)
        if head[:1] in (b"{", b"\xfb"):
            try:
                return "pstats", Stats(path)
            except FormatError as e:
                raise UsageError(str(e)) from None
            except TypeError:
                raise UsageError(f"{path}: not a pstats file (found an empty pstats dict)") \
                    from None
        if not head:
            raise UsageError(f"{path}: not a profile file (found an empty file)")
        return "folded", _engine.load_profile(path, "folded", period)
    except OSError as e:
        raise unreadable(path, e) from None
    except _engine.FormatError as e:
        raise UsageError(str(e)) from None
    except MemoryError:
        raise UsageError(f"{path}: out of memory while reading it") from None


class _Loaded:
    """What pstats.Stats reads: an object whose create_stats() fills .stats."""

    def __init__(self, loaded):
        self.loaded = loaded

    def create_stats(self):
        self.stats = self.loaded.stats()


def cmd_view(argv):
    from ._stats import Stats

    opts = _view_parser().parse_args(argv)
    kind, stats = _load_input(opts.file, max_input=opts.max_input)
    if kind != "pstats":
        stats = Stats(_Loaded(stats))
    if opts.strip_dirs:
        stats.strip_dirs()
    stats.sort_stats(*(opts.sort or ["cumulative"]))
    restrict = [opts.limit] if opts.limit else []
    if opts.callers is None and opts.callees is None:
        stats.print_stats(*restrict)
    if opts.callers is not None:
        stats.print_callers(opts.callers, *restrict)
    if opts.callees is not None:
        stats.print_callees(opts.callees, *restrict)
    return 0


# ---- strop convert ----------------------------------------------------------

def _convert_parser():
    p = _Parser(prog="strop convert",
                description="Convert a profile (pstats, folded stacks of strop, py-spy or "
                            "Austin, or pprof) to another format.")
    p.add_argument("input", help="the profile to read; its kind is told from its content")
    p.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="the file to write; its name chooses the format")
    p.add_argument("--format", choices=TREE_FORMATS,
                   help="the output format, whatever the name")
    p.add_argument("--period", type=float, default=0.01, metavar="SECONDS",
                   help="folded input: the time one count stands for (default 0.01)")
    p.add_argument("--node-thres", type=_share, default=0.5, metavar="PCT",
                   help="call graph: leave out functions below PCT%% of the total (0.5)")
    p.add_argument("--edge-thres", type=_share, default=0.1, metavar="PCT",
                   help="call graph: leave out calls below PCT%% of the total (0.1)")
    _max_input_option(p)
    return p


def cmd_convert(argv):
    from . import _engine
    from ._formats import write_tree

    opts = _convert_parser().parse_args(argv)
    out = opts.output
    fmt = format_of(out, opts.format)
    if fmt == "timeline":
        raise UsageError(f"cannot write {out}: a timeline needs the order of calls, which no "
                         "profile file holds (name a .speedscope.json file for speedscope)")
    _check_output(out, fmt)
    kind, profile = _load_input(opts.input, opts.period if opts.period > 0 else 0.01,
                                opts.max_input)
    command = " ".join(["strop", "convert"] + list(argv))
    try:
        if kind == "pstats" and fmt == "pstats":
            profile.dump_stats(out)
        else:
            if kind == "pstats":
                print(f"strop: note: {opts.input} holds no call stacks; the stacks in {out} are "
                      "approximate, rebuilt from each function's callers", file=sys.stderr)
                profile = _engine.load_stats(profile.stats)
            write_tree(profile, out, fmt, command, opts.node_thres / 100, opts.edge_thres / 100)
    except (OSError, RuntimeError) as e:
        raise UsageError(f"cannot write {out}: {getattr(e, 'strerror', None) or e}") from None
    return 0


# ---- entry point ------------------------------------------------------------

def _speed_command(name):
    def command(argv):
        from . import _speed_cli

        return getattr(_speed_cli, name)(argv)

    return command


# ---- strop health -------------------------------------------------------------

def cmd_health(argv):
    import time

    p = _Parser(prog="strop health",
                description="The machine and one running process over a while, read from "
                "/proc without touching the process: CPU used and time waiting for a CPU, "
                "memory, swap, disk, pressure, and a warning for each likely culprit. Stops "
                "at --duration, when the process ends, or at Ctrl-C.")
    p.add_argument("--pid", required=True, help="the process to watch")
    p.add_argument("--duration", type=float, default=None, metavar="S",
                   help="seconds to watch (default: until the process ends or Ctrl-C)")
    p.add_argument("--interval", type=float, default=1.0, metavar="S",
                   help="seconds between readings (default 1)")
    opts = p.parse_args(argv)
    try:
        pid = int(opts.pid)
    except ValueError:
        pid = -1
    if pid <= 0:
        raise UsageError(f"--pid needs a process id, not {opts.pid!r}")
    if opts.duration is not None and opts.duration <= 0:
        raise UsageError("--duration must be more than 0 seconds")
    if not opts.interval > 0:
        raise UsageError("--interval must be more than 0 seconds")
    health = _health.start(pid, opts.interval)
    if health is None:
        raise UsageError(f"no process {pid}")
    def running():
        """Whether the process is still there and not a zombie waiting to be reaped."""
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
        except (OSError, IndexError):
            return False

    start = time.monotonic()
    try:
        while running() and (opts.duration is None or time.monotonic() - start < opts.duration):
            time.sleep(min(0.1, opts.interval))
    except KeyboardInterrupt:
        pass
    _health.report(health)
    return 0


COMMANDS = {
    "run": (cmd_run, "run a program under the deterministic profiler"),
    "mem": (cmd_mem, "run a program with every Python allocation charged to its call path: "
            "peak, leaks, allocated, temporary"),
    "view": (cmd_view, "print a profile file (pstats, folded or pprof)"),
    "convert": (cmd_convert, "convert a profile file (pstats, folded, pprof) to another format"),
    "bench": (_speed_command("cmd_bench"), "time a statement, with the spread of the result"),
    "compare": (_speed_command("cmd_compare"), "compare two benchmark files"),
    "stones": (_speed_command("cmd_stones"), "measure this machine in stones per second"),
    "sample": (lambda argv: _sample_command("cmd_sample")(argv),
               "sample a program's stacks from outside (a child, or --pid)"),
    "dump": (lambda argv: _sample_command("cmd_dump")(argv),
             "print every thread's Python stack of a running process, and what it waits on"),
    "heap": (lambda argv: _heap_command()(argv),
             "run a script, then print the census of the objects alive at its end"),
    "grow": (lambda argv: _grow_command()(argv),
             "call module:function again and again: does memory grow, and what holds it?"),
    "health": (cmd_health, "the machine and a running process over a while: was it the "
               "machine?"),
    "top": (lambda argv: _sample_command("cmd_top")(argv),
            "a live view of a running process's functions by share of the last second's "
            "samples"),
}


def _heap_command():
    from . import _heap_cli

    return _heap_cli.cmd_heap


def _grow_command():
    from . import _grow_cli

    return _grow_cli.cmd_grow


def _sample_command(name):
    from . import _sample_cli

    return getattr(_sample_cli, name)


def _usage():
    lines = ["usage: strop COMMAND [options] ...", "", "commands:"]
    lines += [f"  {name:<8}{help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "'strop COMMAND --help' tells more."]
    return "\n".join(lines)


def main(argv=None):
    """The command line: its exit status.  A program under study that ended
    by a signal ends strop by the same signal (see die_like)."""
    return die_like(_main(argv))


def _main(argv):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0 if argv else EXIT_USAGE
    if argv[0] in ("-V", "--version"):
        from . import __version__

        print(f"strop {__version__}")
        return 0
    command = COMMANDS.get(argv[0])
    if command is None:
        return _fail(f"unknown command {argv[0]!r}; commands: {', '.join(COMMANDS)}")
    try:
        return command[0](argv[1:])
    except UsageError as e:
        return _fail(str(e))
    except MemoryError:  # strop's own: the program's errors are handled in _run_target
        return _fail("out of memory")
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
