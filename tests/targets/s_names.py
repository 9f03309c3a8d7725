"""Target for thread names: threads named by the program, blocked forever.

Usage: s_names.py READY_FILE [RENAME_FILE]

Starts threads named "worker-1" and "wörker-β", a ThreadPoolExecutor worker
("ThreadPoolExecutor-0_0"), "dict-thread" whose __dict__ was asked for (an
instance dict made, not only values), "big-thread" of a subclass with many
attributes, and a watcher, then blocks the main thread ("MainThread").  Once all are waiting it writes READY_FILE: JSON
{ident: [name, native_id]} from threading.enumerate(), the ground truth.
When RENAME_FILE appears, the watcher renames "worker-1" to "renamed-1" and
writes RENAME_FILE + ".done" with the new truth.
"""
import concurrent.futures
import json
import os
import sys
import threading
import time

forever = threading.Event()


def blocked():
    forever.wait()


class BigThread(threading.Thread):
    """Many attributes: more than a type's shared keys hold on 3.11+."""

    def __init__(self, **kw):
        for i in range(40):
            setattr(self, f"attribute_{i}", i)
        super().__init__(**kw)


def truth():
    return {str(t.ident): [t.name, getattr(t, "native_id", None)]
            for t in threading.enumerate()}


def write(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False)
    os.rename(tmp, path)


def watcher(ready, rename, worker):
    deadline = time.time() + 10
    while time.time() < deadline:
        frames = sys._current_frames()
        waiting = [f for i, f in frames.items() if f.f_code.co_name == "wait"]
        if len(waiting) >= 6:  # the named threads, the pool's worker, main
            break
        time.sleep(0.02)
    time.sleep(0.1)
    write(ready, truth())
    while rename:
        if os.path.exists(rename):
            worker.name = "renamed-1"
            write(rename + ".done", truth())
            break
        time.sleep(0.02)
    forever.wait()


def main():
    ready = sys.argv[1]
    rename = sys.argv[2] if len(sys.argv) > 2 else None
    workers = [threading.Thread(target=blocked, name=name, daemon=True)
               for name in ("worker-1", "w\u00f6rker-\u03b2", "dict-thread")]
    workers[2].__dict__["asked"] = True
    workers.append(BigThread(target=blocked, name="big-thread", daemon=True))
    for t in workers:
        t.start()
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    pool.submit(blocked)
    threading.Thread(target=watcher, args=(ready, rename, workers[0]), name="watcher",
                     daemon=True).start()
    forever.wait()


if __name__ == "__main__":
    main()
