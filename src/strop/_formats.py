"""Output formats: which format a file name asks for, and writing any engine
profile (a Tracer, a Sampler, a loaded profile) in it.

The writers themselves are C (the engine's dump()); this module adds what
needs a program or a file beside the engine: graphviz's dot for .svg/.png and
the HTML report's call graph, and the report's page template (report.html).
It sits below the command line and the API: cli.py, _profile.py, _stats.py,
_sample_cli.py and the Sampler's helper all write through it.
"""
import contextlib
import os

__all__ = ["FORMATS", "format_of", "map_format_of", "write_map", "write_tree"]

# Output formats by file name; the first match wins.
_FORMATS_BY_NAME = (
    (".speedscope.json", "speedscope"),
    (".pb.gz", "pprof"),
    (".pprof", "pprof"),
    (".folded", "folded"),
    (".collapsed", "folded"),
    (".callgrind", "callgrind"),
    (".dot", "dot"),
    (".svg", "svg"),
    (".png", "png"),
    (".html", "html"),
    (".json", "timeline"),
    (".prof", "pstats"),
    (".pstats", "pstats"),
)
FORMATS = ("pstats", "folded", "callgrind", "pprof", "speedscope", "dot", "svg", "png", "html",
           "timeline")
# What a profile without the order of calls (samples, a loaded file) writes.
TREE_FORMATS = tuple(f for f in FORMATS if f != "timeline")


def format_of(path, format=None):
    """The output format for `path`: `format` if given, else by its name
    (callgrind.out.*, .folded, .pb.gz, ...); pstats for any other name."""
    if format:
        return format
    name = os.path.basename(path)
    if name.startswith("callgrind.out"):
        return "callgrind"
    for ending, fmt in _FORMATS_BY_NAME:
        if name.endswith(ending):
            return fmt
    return "pstats"


def map_format_of(path):
    """The format of a map of interactions by its file name: "dot", "svg" or None."""
    name = os.fspath(path)
    return "dot" if name.endswith(".dot") else "svg" if name.endswith(".svg") else None


def write_map(sampler, path, health=None, name=None):
    """Writes a sampled run's map of interactions (the engine's map_dot():
    what the program waited on, by endpoint, with the TCP figures that the
    Health recorder `health` saw) as .dot, or as .svg drawn by graphviz."""
    with _written_whole(path) as temporary:
        if map_format_of(path) == "svg":
            svg, note = _dot_to_svg(sampler.map_dot(health, name), "map")
            if svg is None:
                raise RuntimeError(note)
            with open(temporary, "w", encoding="utf-8") as f:
                f.write(svg)
        else:
            sampler.dump_map(temporary, health, name)


def _dot_to_svg(source, what):
    """Graphviz's drawing of dot text `source` as SVG text, and None; or None
    and one line saying why there is none."""
    import shutil
    import subprocess

    dot = shutil.which("dot")
    if dot is None:
        return None, (f"No {what} drawing: graphviz's 'dot' is not installed "
                      "(apt-get install graphviz).")
    try:
        done = subprocess.run([dot, "-Tsvg"], input=source.encode("utf-8"),
                              capture_output=True, timeout=_DOT_TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, f"No {what} drawing: graphviz's dot took over {_DOT_TIMEOUT} s"
    if done.returncode != 0:
        error = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return None, f"No {what} drawing: graphviz's dot failed: " + (error[0] if error else "?")
    return done.stdout.decode("utf-8", "replace"), None


def write_tree(profile, path, format, command=None, node_thres=0.005, edge_thres=0.001,
               python=None, machine=None, interactions=None):
    """Writes an engine profile (a Tracer, a Sampler, a loaded profile: any
    object with the engine's dump()) in `format`; svg and png go through
    graphviz, html gets its template and call graph here.  `python`: the
    Python that ran the program, for the report (default: this one);
    `machine`: the machine during the run (_health.text()), for the report;
    `interactions`: a sampled run's map of interactions for the report, as
    (dot text, waits table text), or None."""
    with _written_whole(path) as path:
        if format in ("svg", "png"):
            _draw_call_graph(profile, path, format, command, node_thres, edge_thres)
        elif format == "html":
            _write_report(profile, path, command, node_thres, edge_thres, python, machine,
                          interactions)
        else:
            profile.dump(path, format, command, node_thres, edge_thres)


@contextlib.contextmanager
def _written_whole(path):
    """Gives the name to write `path` under: a file is written whole or not
    at all, into a temporary file beside it that is renamed over `path` once
    complete, so that a failure (a full disk, no memory) leaves no truncated
    profile and keeps an older one.  What is not a regular file (/dev/stdout,
    a pipe) is written in place."""
    path = os.fspath(path)
    temporary = _temporary_beside(path)
    try:
        yield temporary
        if temporary != path:
            os.replace(temporary, path)
    except BaseException:
        if temporary != path:
            try:
                os.unlink(temporary)
            except OSError:
                pass
        raise


def _temporary_beside(path):
    """A new name in `path`'s directory to write `path` under, or `path`
    itself when it exists and is not a regular file."""
    import stat

    path = os.fspath(path)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return path
    except OSError:
        pass
    head, tail = os.path.split(path)
    return os.path.join(head, f".{tail}.strop-{os.getpid()}.tmp")


def _draw_call_graph(tracer, path, format, command, node_thres, edge_thres):
    """Writes the call graph through graphviz's dot; RuntimeError without it."""
    import shutil
    import subprocess
    import tempfile

    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError("drawing the call graph needs graphviz's 'dot' "
                           "(apt-get install graphviz); or write a .dot file")
    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, "callgraph.dot")
        tracer.dump(source, "dot", command, node_thres, edge_thres)
        done = subprocess.run([dot, "-T" + format, "-o", os.fspath(path), source],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"graphviz's dot failed: {done.stderr.strip()}")


# How long the report waits for graphviz to lay out the call graph.
_DOT_TIMEOUT = 30


def _call_graph_svg(tracer, command, node_thres, edge_thres):
    """The call graph drawn by graphviz as SVG text, and None; or None and one
    line saying why there is none."""
    import shutil
    import subprocess
    import tempfile

    dot = shutil.which("dot")
    if dot is None:
        return None, ("No call graph: graphviz's 'dot' was not installed when this report "
                      "was written (apt-get install graphviz).")
    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, "callgraph.dot")
        tracer.dump(source, "dot", command, node_thres, edge_thres)
        try:
            done = subprocess.run([dot, "-Tsvg", source], capture_output=True,
                                  timeout=_DOT_TIMEOUT)
        except subprocess.TimeoutExpired:
            return None, ("No call graph: graphviz's dot took over %d s to lay it out; raise "
                          "--node-thres, or write a .dot file" % _DOT_TIMEOUT)
    if done.returncode != 0:
        error = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return None, "No call graph: graphviz's dot failed: " + (error[0] if error else "?")
    return done.stdout.decode("utf-8", "replace"), None


def _write_report(tracer, path, command, node_thres, edge_thres, python=None, machine=None,
                  interactions=None):
    """Writes the HTML report: the page's template (report.html, beside this
    file), the call graph from graphviz when it is there, the profile (C)."""
    import platform

    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "report.html"),
              encoding="utf-8") as f:
        template = f.read()
    svg, note = _call_graph_svg(tracer, command, node_thres, edge_thres)
    if python is None:
        python = "%s %s" % (platform.python_implementation(), platform.python_version())
    map_svg = map_text = None
    if interactions is not None:
        map_svg, _ = _dot_to_svg(interactions[0], "map")
        map_text = interactions[1] or None
    tracer.dump(path, "html", command, node_thres, edge_thres,
                template=template, svg=svg, note=note, python=python, machine=machine,
                map_svg=map_svg, map_text=map_text)
