"""Target for `strop dump`: threads blocked forever in known nested functions.

Usage: s_block.py READY_FILE.  Once every thread is blocked, a helper thread
writes READY_FILE: JSON {ident: [[file, line, name], ...]} from
sys._current_frames(), outermost first, the ground truth strop must match.
"""
import json
import os
import sys
import threading
import time
import traceback

forever = threading.Event()


class Worker:
    def method(self, depth):
        if depth:
            return self.method(depth - 1)
        forever.wait()


def gen_blocker():
    yield forever.wait()


def in_generator():
    for _ in gen_blocker():
        pass


def level3():
    forever.wait()


def level2():
    level3()


def level1():
    level2()


def recursive(n):
    if n == 0:
        forever.wait()
    recursive(n - 1)


def report(path, others):
    me = threading.get_ident()
    deadline = time.time() + 10
    while time.time() < deadline:
        frames = sys._current_frames()
        waiting = [f for ident, f in frames.items() if ident != me and f.f_code.co_name == "wait"]
        if len(waiting) >= others:
            break
        time.sleep(0.02)
    time.sleep(0.1)
    truth = {}
    for ident, frame in sys._current_frames().items():
        if ident == me:
            continue
        truth[str(ident)] = [[f.filename, f.lineno, f.name]
                             for f in traceback.extract_stack(frame)]
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(truth, f)
    os.rename(tmp, path)


def main():
    threads = [
        threading.Thread(target=Worker().method, args=(3,), daemon=True),
        threading.Thread(target=in_generator, daemon=True),
        threading.Thread(target=recursive, args=(40,), daemon=True),
    ]
    for t in threads:
        t.start()
    threading.Thread(target=report, args=(sys.argv[1], len(threads) + 1), daemon=True).start()
    level1()


if __name__ == "__main__":
    main()
