"""The helper process of strop.Sampler: samples its parent from outside.

Run as ``python -m strop._sampler_child PID RATE MODE THREADS [HIDE...]``
(stacks with a frame of a HIDE file, the parent's strop._sampler_api, are
left out).  Talks with the parent over stdin/stdout, one line each way:

    parent: "go"               (after prctl(PR_SET_PTRACER) let us read it)
    child:  "ready" | "error: ..."
    parent: "stop PATH"        child stops sampling, writes pstats to PATH
    child:  "stopped" | "error: ..."
    parent: "dump PATH FORMAT" (any number)   child: "ok" | "error: ..."
    parent closes stdin        child exits

The sampling and writing are the engine's (strop._engine.Sampler); this file
only wires the commands.  It stops by itself when the parent exits.
"""
import select
import sys


def _say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _run(sampler, stdin):
    """Samples until a line arrives or the parent exits; returns the line."""
    while True:
        if sampler.run(0.01) == "exited":
            return None
        if select.select([stdin], [], [], 0)[0]:
            return stdin.readline()


def main(argv):
    from strop import _engine
    from strop._formats import write_tree

    pid, rate, mode, threads = int(argv[0]), float(argv[1]), argv[2], argv[3] == "1"
    hide = argv[4:]
    stdin = sys.stdin
    if stdin.readline().strip() != "go":
        return 1
    try:
        sampler = _engine.Sampler(pid, rate=rate, mode=mode, threads=threads, hide=hide)
    except (OSError, ValueError) as e:
        _say(f"error: {e}")
        return 2
    _say("ready")
    line = _run(sampler, stdin)
    while line:
        words = line.split()
        try:
            if words[0] == "stop":
                sampler.dump(" ".join(words[1:]), format="pstats")
                _say("stopped")
            elif words[0] == "dump":
                write_tree(sampler, " ".join(words[1:-1]), words[-1],
                           python="CPython " + sampler.info()["python"])
                _say("ok")
            elif words[0] == "report":
                _say(repr(sampler.report(limit=int(words[1]), sort=words[2])))
            else:
                _say(f"error: unknown command {words[0]!r}")
        except (OSError, ValueError, RuntimeError, IndexError) as e:
            _say(f"error: {e}")
        line = stdin.readline()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (KeyboardInterrupt, BrokenPipeError):
        sys.exit(1)
