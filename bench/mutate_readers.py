#!/usr/bin/env python3
"""The mutated-file experiment of issue 14, end to end: real profile files with
a few bytes changed, each given to a fresh `strop view` process.

Not a test (tests/test_readers_bounded.py runs a smaller, in-process version):
a script that prints one line per format and lists every case that failed.
It profiles a small program that imports json, re and textwrap (so the files
are about 100 KB, as the issue's was) into strop's pstats, folded and pprof
files and cProfile's pstats, makes --files damaged copies of each
(tests/helpers/mutate.py, seeded), and runs `python -m strop view` (and, with
--convert, `strop convert -o x.folded`) on each under RLIMIT_AS of
--limit-mb, measuring its wall time and peak RSS (os.wait4).

A case passes when it exits 0 or 2, prints no traceback, writes one stderr
line when it exits 2, takes under 1 s of CPU (user + system: wall time on a
shared machine measures the neighbours) and peaks under 256 MB.  Python's own
start-up (about 16 MB and 50 ms) is inside those numbers.

usage: python bench/mutate_readers.py [--files 1000] [--seed 14] [--jobs 1] [--convert]
"""
import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "helpers"))
from mutate import mutate  # noqa: E402

PROGRAM = """
import json, re, textwrap

def parse(text):
    return [m.group(0) for m in re.finditer(r"\\w+", text)]

def encode(n):
    return json.dumps({str(i): list(range(i % 7)) for i in range(n)})

def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

def main():
    for _ in range(20):
        parse(textwrap.dedent(encode(300)))
    fib(15)

main()
"""


def make_files(folder):
    script = os.path.join(folder, "program.py")
    with open(script, "w") as f:
        f.write(PROGRAM)
    files = {}
    for kind, name in (("strop pstats", "s.prof"), ("folded", "s.folded"), ("pprof", "s.pb.gz")):
        out = os.path.join(folder, name)
        subprocess.run([sys.executable, "-m", "strop", "run", "-q", "-o", out, script], check=True)
        files[kind] = out
    out = os.path.join(folder, "c.prof")
    subprocess.run([sys.executable, "-m", "cProfile", "-o", out, script], check=True,
                   stdout=subprocess.DEVNULL)
    files["cProfile pstats"] = out
    return files


def limit(limit_mb):
    def preexec():
        size = limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
    return preexec


def start(argv, limit_mb):
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, preexec_fn=limit(limit_mb))


def finish(proc, started):
    stderr = proc.stderr.read().decode("utf-8", "replace")
    proc.stderr.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") \
        else (status >> 8 if status & 0x7F == 0 else -(status & 0x7F))
    return {"status": proc.returncode, "stderr": stderr, "wall": time.monotonic() - started,
            "seconds": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000, help="damaged copies per format")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--jobs", type=int, default=1, help="cases run at once")
    parser.add_argument("--limit-mb", type=int, default=1024,
                        help="address-space limit of each case (a safety net: RSS is measured)")
    parser.add_argument("--convert", action="store_true", help="also run strop convert")
    opts = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="strop-mutate-")
    try:
        files = make_files(folder)
        rng = random.Random(opts.seed)
        failed = []
        print(f"{'format':<17}{'bytes':>9}{'cases':>7}{'exit 0':>8}{'exit 2':>8}{'failed':>8}"
              f"{'max cpu s':>10}{'median':>8}{'max wall':>9}{'max MB':>8}")
        for kind, path in files.items():
            with open(path, "rb") as f:
                data = f.read()
            suffix = "".join(os.path.basename(path).partition(".")[1:])
            jobs, results = [], []
            commands = []
            for i in range(opts.files):
                case = os.path.join(folder, f"case-{kind.replace(' ', '_')}-{i}{suffix}")
                with open(case, "wb") as f:
                    f.write(mutate(data, rng))
                commands.append([sys.executable, "-m", "strop", "view", case])
                if opts.convert:
                    commands.append([sys.executable, "-m", "strop", "convert", case, "-o",
                                     os.path.join(folder, "out.folded")])
            for argv in commands:
                while len(jobs) >= opts.jobs:
                    proc, started, args = jobs.pop(0)
                    results.append((args, finish(proc, started)))
                jobs.append((start(argv, opts.limit_mb), time.monotonic(), argv))
            for proc, started, args in jobs:
                results.append((args, finish(proc, started)))
            counts = {0: 0, 2: 0}
            bad = 0
            for argv, r in results:
                ok = (r["status"] in (0, 2) and "Traceback" not in r["stderr"]
                      and (r["status"] == 0 or r["stderr"].count("\n") == 1)
                      and r["seconds"] < 1.0 and r["rss_mb"] < 256)
                if r["status"] in counts:
                    counts[r["status"]] += 1
                if not ok:
                    bad += 1
                    failed.append((argv, r))
            times = sorted(r["seconds"] for _, r in results)
            print(f"{kind:<17}{len(data):>9,}{len(results):>7}{counts[0]:>8}{counts[2]:>8}"
                  f"{bad:>8}{times[-1]:>10.2f}{times[len(times) // 2]:>8.3f}"
                  f"{max(r['wall'] for _, r in results):>9.2f}"
                  f"{max(r['rss_mb'] for _, r in results):>8.0f}", flush=True)
        for argv, r in failed[:20]:
            print(f"FAILED {' '.join(argv[2:])}: exit {r['status']}, {r['seconds']:.2f} s cpu, "
                  f"{r['rss_mb']:.0f} MB: {r['stderr'][-300:]!r}")
        return 1 if failed else 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
