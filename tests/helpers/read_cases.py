"""Runs strop's command line on many input files in one process, under a
memory limit, and reports each case: python read_cases.py LIMIT_MB OUT.json FOLDER

After the imports, the address space is limited (RLIMIT_AS) to what it is
then plus LIMIT_MB.  Each file in FOLDER (by name) is given to `strop view` (and every fourth to
`strop convert ... -o x.folded` as well) through strop.cli.main, with stdout
and stderr captured.  OUT.json gets one record per run: the file, the
command, its exit status, its stderr, the CPU seconds it took, and the
exception if one escaped main() (which a user would see as a traceback).
"""
import io
import json
import os
import resource
import sys
import time
import traceback
from contextlib import redirect_stderr, redirect_stdout

import strop.cli  # noqa: F401  (imported before the limit)
import strop._stats  # noqa: F401
import strop._profile  # noqa: F401
import pstats  # noqa: F401


def vm_size():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def main():
    limit_mb, out, folder = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    files = [os.path.join(folder, name) for name in sorted(os.listdir(folder))]
    limit = vm_size() + limit_mb * 1024 * 1024
    if not os.environ.get("STROP_UNDER_SANITIZER"):  # ASan reserves terabytes for its shadow
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    records = []
    target = os.path.join(os.path.dirname(out), "case-out.folded")
    for i, path in enumerate(files):
        commands = [["view", path]]
        if i % 4 == 0:
            commands.append(["convert", path, "-o", target])
        for argv in commands:
            stdout, stderr = io.StringIO(), io.StringIO()
            start = time.process_time()
            escaped = None
            try:
                with redirect_stdout(stdout), redirect_stderr(stderr):
                    status = strop.cli.main(argv)
            except SystemExit as e:
                status = e.code
            except BaseException as e:  # noqa: B902 - what a user would see as a traceback
                status = None
                escaped = "".join(traceback.format_exception_only(type(e), e)).strip()
            records.append({"file": path, "command": argv[0], "status": status,
                            "stderr": stderr.getvalue()[-2000:], "cpu": time.process_time() - start,
                            "escaped": escaped})
    with open(out, "w") as f:
        json.dump(records, f)


if __name__ == "__main__":
    main()
