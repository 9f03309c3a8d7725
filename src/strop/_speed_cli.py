"""`strop bench`, `strop compare` and `strop stones`: argument parsing, the
worker processes of `bench --processes`, and the benchmark JSON files.

Each cmd_* function takes the arguments after the command name and returns
an exit status; bad input raises strop.cli.UsageError (one line, status 2).
A statement that does not compile or raises: its error once, status 1.
"""
import json
import os
import subprocess
import sys
import traceback

from ._cli_common import UsageError, _Parser, unreadable

FORMAT = "strop-bench"
FORMAT_VERSION = 1
EXIT_STMT_FAILED = 1


# ---- benchmark files --------------------------------------------------------

def new_document():
    from . import _stones

    return {"format": FORMAT, "version": FORMAT_VERSION,
            "python": sys.version.split()[0], "implementation": sys.implementation.name,
            "stones_version": _stones.VERSION, "benchmarks": {}}


def benchmark_entry(values, number, unit="seconds", **extra):
    entry = {"values": [float(v) for v in values], "number": number, "unit": unit}
    entry.update(extra)
    return entry


# The largest benchmark file read: json.load builds every object of a file at
# once, at up to ~20 bytes of memory per byte of text, so its size is checked
# first (a file of 10,000 benchmarks of 100 values is about 20 MB).
MAX_FILE_BYTES = 64 << 20


def load(path):
    """The document in `path`, checked; UsageError with one line otherwise."""
    try:
        with open(path, encoding="utf-8") as f:
            size = os.fstat(f.fileno()).st_size
            if size > MAX_FILE_BYTES:
                raise UsageError(f"{path} is not a strop benchmark file: {size:,} bytes, more "
                                 f"than the {MAX_FILE_BYTES:,} strop reads")
            doc = json.load(f)
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not a strop benchmark file: not text") from None
    except ValueError as e:
        raise UsageError(f"{path} is not a strop benchmark file: invalid JSON ({e})") from None
    except RecursionError:
        raise UsageError(f"{path} is not a strop benchmark file: JSON nested too deeply") \
            from None
    except OSError as e:
        raise unreadable(path, e) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise UsageError(f"{path} is not a strop benchmark file (write one with "
                         "'strop bench --json' or pytest --strop-save)")
    if doc.get("version") != FORMAT_VERSION:
        raise UsageError(f"{path} is a strop benchmark file of version {doc.get('version')!r}; "
                         f"this strop reads version {FORMAT_VERSION}")
    benchmarks = doc.get("benchmarks")
    if not isinstance(benchmarks, dict):
        raise UsageError(f"{path} is damaged: 'benchmarks' is not an object")
    for name, entry in benchmarks.items():
        values = entry.get("values") if isinstance(entry, dict) else None
        if (not isinstance(values, list) or not values
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                           and v == v for v in values)):
            raise UsageError(f"{path} is damaged: benchmark {name!r} has no list of numbers "
                             "in 'values'")
    return doc


def save(path, name, entry):
    """Adds benchmark `name` to the strop file at `path` (made if missing or
    not a strop file)."""
    doc = None
    if os.path.exists(path):
        try:
            doc = load(path)
        except UsageError:
            doc = None
    if doc is None:
        doc = new_document()
    doc["benchmarks"][name] = entry
    write(path, doc)


def write(path, doc):
    try:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror or e}") from None


# ---- strop bench ------------------------------------------------------------

def _bench_parser():
    p = _Parser(prog="strop bench",
                description="Time a Python statement as timeit does, with the spread of the "
                "result: its median, the median's 95% confidence interval and the best.")
    p.add_argument("stmt", nargs="*", default=["pass"],
                   help="statement(s) to time; several are lines of one body (default: pass)")
    p.add_argument("-s", "--setup", action="append", default=[], metavar="SETUP",
                   help="run once before the timing (repeat for more lines)")
    p.add_argument("-n", "--number", type=int, metavar="N",
                   help="loops per measurement (default: enough for 0.2 s)")
    p.add_argument("-r", "--repeat", type=int, default=7, metavar="R",
                   help="measurements (default 7)")
    p.add_argument("--processes", type=int, default=0, metavar="P",
                   help="run the measurements in P fresh worker processes, one after another")
    p.add_argument("--json", metavar="FILE", help="add the result to a benchmark file")
    p.add_argument("--name", help="the benchmark's name in the file (default: the statement)")
    return p


def _print_stmt_error(error, filename_prefix="<strop-timeit-"):
    """Prints the statement's exception as timeit does: its traceback from the
    statement down, without strop's frames."""
    if isinstance(error, SyntaxError):
        traceback.print_exception(type(error), error, None)
        return
    tb = error.__traceback__
    while tb is not None and not tb.tb_frame.f_code.co_filename.startswith(filename_prefix):
        tb = tb.tb_next
    traceback.print_exception(type(error), error, tb)


def cmd_bench(argv):
    from . import _speed

    opts = _bench_parser().parse_args(argv)
    if opts.number is not None and opts.number < 1:
        raise UsageError("-n must be at least 1")
    if opts.repeat < 1:
        raise UsageError("-r must be at least 1")
    if opts.processes < 0:
        raise UsageError("--processes must be 0 or more")
    stmt = "\n".join(opts.stmt) or "pass"
    setup = "\n".join(opts.setup) or "pass"
    if os.curdir not in sys.path:
        sys.path.insert(0, os.curdir)  # as timeit does: the statement imports from here
    try:
        # The reference workload just before, between the measurements and
        # just after: the machine's speed in stones/s as the statement saw
        # it, for its cost in kstones.
        reference = _speed.reference_runs()
        if opts.processes:
            # The statement and its setup run in the workers only, unless the
            # number of loops must be found first.
            number = opts.number or _speed._calibrate(_speed.prepare(stmt, setup)[0])
            raw, overheads = _run_workers(stmt, setup, number, opts.repeat, opts.processes)
            if raw is None:
                return EXIT_STMT_FAILED
        else:
            func, empty = _speed.prepare(stmt, setup)
            raw, overheads, number = _speed.measure(func, empty, opts.number, opts.repeat,
                                                    reference=reference)
        reference += _speed.reference_runs()
    except KeyboardInterrupt:
        raise
    except BaseException as e:
        if isinstance(e, SystemExit):
            print(f"strop: the statement called sys.exit({e.code!r})", file=sys.stderr)
        _print_stmt_error(e)
        return EXIT_STMT_FAILED
    result = _speed.result_of(raw, overheads, number)
    rate = _speed._pooled(reference)
    print(str(result).splitlines()[0])
    print(kstones_line(result, rate))
    for warning in result.warnings:
        print(f"strop: warning: {warning}", file=sys.stderr)
    if opts.json:
        save(opts.json, opts.name or stmt,
             benchmark_entry(result.values, number, stmt=stmt, setup=setup,
                             processes=opts.processes, stones_rate=rate))
    return 0


def kstones_line(result, rate):
    """The line under timeit's: the same figures in kstones at `rate` stones/s."""
    def k(seconds):
        return f"{seconds * rate / 1000:.3g}"

    return (f"in kstones: median {k(result.median)} ± {k(result.uncertainty)} (95% CI), "
            f"best {k(result.best)} (this machine now: {rate:,.0f} stones/s)")


def _run_workers(stmt, setup, number, repeat, processes):
    """(raw, overheads) from `processes` fresh interpreters run one after the
    other, sharing the `repeat` measurements; (None, None) after printing a
    worker's error."""
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = ("import sys; sys.path.insert(0, %r); from strop._speed_cli import _worker_main; "
            "sys.exit(_worker_main())" % package_parent)
    raw, overheads = [], []
    shares = [repeat // processes + (i < repeat % processes) for i in range(processes)]
    for share in shares:
        if share == 0:
            continue
        job = json.dumps({"stmt": stmt, "setup": setup, "number": number, "repeat": share})
        proc = subprocess.run([sys.executable, "-c", code], input=job, capture_output=True,
                              text=True)
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr)
            return None, None
        answer = json.loads(proc.stdout)
        raw += answer["raw"]
        overheads += answer["overheads"]
    return raw, overheads


def _worker_main():
    """A worker of `strop bench --processes`: a job in JSON on stdin, the raw
    measurements in JSON on stdout, the statement's error on stderr (status 1)."""
    from . import _speed

    job = json.load(sys.stdin)
    if os.curdir not in sys.path:
        sys.path.insert(0, os.curdir)
    try:
        func, empty = _speed.prepare(job["stmt"], job["setup"])
        raw, overheads, _ = _speed.measure(func, empty, job["number"], job["repeat"])
    except BaseException as e:
        _print_stmt_error(e)
        return EXIT_STMT_FAILED
    json.dump({"raw": raw, "overheads": overheads}, sys.stdout)
    return 0


# ---- strop compare ----------------------------------------------------------

SIGNIFICANCE = 0.05
# Two runs of the same code on one machine differ by a few percent (the
# machine's state moves between them) even when each run's values are tight:
# a change smaller than this is not called one, as asv's --factor does.
THRESHOLD = 0.03


def _compare_parser():
    p = _Parser(prog="strop compare",
                description="Compare two benchmark files: per benchmark the ratio new/old of "
                "the medians with its 95% confidence interval, a Mann-Whitney U test, and a "
                "verdict; the geometric mean of the ratios over all.")
    p.add_argument("old", help="baseline file (strop bench --json, pytest --strop-save)")
    p.add_argument("new", help="file to compare with the baseline")
    p.add_argument("--threshold", type=float, default=THRESHOLD * 100, metavar="PCT",
                   help="smallest change called faster or slower, in percent (default "
                   f"{THRESHOLD * 100:g})")
    return p


def compare_benchmarks(old, new, level=0.95, threshold=THRESHOLD):
    """Rows (name, old_median, new_median, ratio, low, high, p, verdict) for the
    benchmarks both entries dicts hold, in the order of `old`."""
    from . import _engine

    rows = []
    for name, entry in old.items():
        if name not in new:
            continue
        a, b = entry["values"], new[name]["values"]
        old_median = _engine.summarize(a, resamples=1)["median"]
        new_median = _engine.summarize(b, resamples=1)["median"]
        try:
            ratio, low, high = _engine.ratio_ci(a, b, level=level)
        except ValueError:
            ratio = low = high = float("nan")
        _, p = _engine.mann_whitney(a, b)
        rows.append((name, old_median, new_median, ratio, low, high, p,
                     verdict(ratio, low, high, p, threshold=threshold)))
    return rows


def speed_factor(old_entry, new_entry):
    """How many times more stones a second the new entry's machine ran than
    the old's (the factor from a ratio of seconds to one of kstones), or None
    when either entry lacks its machine's speed (files of pytest --strop-save,
    or of strop before it recorded one)."""
    rates = [e.get("stones_rate") for e in (old_entry, new_entry)]
    if not all(isinstance(r, (int, float)) and not isinstance(r, bool) and r > 0
               for r in rates):
        return None
    return rates[1] / rates[0]


def verdict(ratio, low, high, p, significance=SIGNIFICANCE, threshold=THRESHOLD):
    """'slower', 'faster' or 'no significant change': a change needs both the
    test's p below `significance` and an interval of the ratio that lies
    wholly beyond 1 +- `threshold`."""
    if p < significance and low > 1.0 + threshold:
        return "slower"
    if p < significance and high < 1.0 / (1.0 + threshold):
        return "faster"
    return "no significant change"


def cmd_compare(argv):
    from . import _engine

    opts = _compare_parser().parse_args(argv)
    if not 0 <= opts.threshold < 100:
        raise UsageError("--threshold must be a percentage from 0 to 100")
    old, new = load(opts.old), load(opts.new)
    rows = compare_benchmarks(old["benchmarks"], new["benchmarks"],
                              threshold=opts.threshold / 100)
    if not rows:
        raise UsageError(f"{opts.old} and {opts.new} have no benchmark in common")
    fmt = _engine.format_seconds
    width = min(max(len(r[0]) for r in rows + [("benchmark",)]), 40)
    factors = [speed_factor(old["benchmarks"][r[0]], new["benchmarks"][r[0]]) for r in rows]
    print(f"{'benchmark':<{width}}  {'old':>9}  {'new':>9}  {'ratio (95% CI)':>20}  "
          f"{'in kstones':>20}  {'p':>6}  verdict")
    for (name, a, b, ratio, low, high, p, says), factor in zip(rows, factors):
        shown = name if len(name) <= width else name[:width - 1] + "…"
        in_kstones = "-" if factor is None else \
            f"{ratio * factor:.3f} ({low * factor:.3f}-{high * factor:.3f})"
        print(f"{shown:<{width}}  {fmt(a):>9}  {fmt(b):>9}  "
              f"{f'{ratio:.3f} ({low:.3f}-{high:.3f})':>20}  {in_kstones:>20}  {p:>6.3g}  "
              f"{says}")
    print(f"(a change needs p < {SIGNIFICANCE:g} and a 95% CI beyond "
          f"±{opts.threshold:g}%, in seconds; in kstones, each file's seconds count at the "
          "speed of the machine that ran them, in stones/s, as 'strop bench --json' records "
          "it: '-' where a file has none)")
    ratios = [r[3] for r in rows if r[3] > 0]
    if ratios:
        line = f"geometric mean of the ratios: {_engine.geometric_mean(ratios):.3f}"
        kstones = [r[3] * f for r, f in zip(rows, factors) if r[3] > 0 and f is not None]
        if kstones and len(kstones) == len(ratios):
            line += f" in seconds, {_engine.geometric_mean(kstones):.3f} in kstones"
        print(line)
    for label, doc, other in (("old", old, new), ("new", new, old)):
        alone = [n for n in doc["benchmarks"] if n not in other["benchmarks"]]
        if alone:
            print(f"only in {label}: {', '.join(alone)}")
    return 0


# ---- strop stones -----------------------------------------------------------

def _stones_parser():
    p = _Parser(prog="strop stones",
                description="Measure this machine in stones per second with strop's "
                "reference workload, and how sure that figure is.")
    p.add_argument("-n", "--loops", type=int, metavar="N",
                   help="stones per run (default: about 0.05 s worth)")
    p.add_argument("-r", "--runs", type=int, default=10, metavar="R",
                   help="runs (default 10)")
    p.add_argument("--json", metavar="FILE", help="add the runs to a benchmark file")
    return p


def cmd_stones(argv):
    from . import _engine, _speed, _stones

    opts = _stones_parser().parse_args(argv)
    if opts.runs < 1 or (opts.loops is not None and opts.loops < 1):
        raise UsageError("-n and -r must be at least 1")
    rate = _speed.stones_rate()
    loops = opts.loops or max(1000, int(rate * 0.05))
    rates = _speed._stone_runs(opts.runs, loops)
    s = _engine.summarize(rates)
    half = max(s["median"] - s["ci_low"], s["ci_high"] - s["median"])
    print(f"strop stones v{_stones.VERSION} on {sys.implementation.name} "
          f"{sys.version.split()[0]}")
    print(f"{s['median']:,.0f} stones/s ± {half / s['median']:.1%} (95% CI of the median of "
          f"{opts.runs} runs of {loops:,} stones; spread {s['iqr'] / s['median']:.1%} IQR)")
    print(f"1 kstone = {_engine.format_seconds(1000 / s['median'])} here; "
          f"1 s = {s['median'] / 1000:,.1f} kstones")
    if opts.json:
        save(opts.json, "strop stones",
             benchmark_entry([1.0 / r for r in rates], loops, unit="seconds"))
    return 0
