"""Named threads with known work (tests/test_promises.py).

"worker-a" runs work_a and "worker-b" runs work_b, each sleeping SECONDS
(argv[2], default 1); the main thread joins them.  Each thread's name,
threading ident and native id go to the JSON file argv[1].
"""
import json
import sys
import threading
import time

SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
seen = {}


def note():
    t = threading.current_thread()
    seen[t.name] = {"ident": t.ident, "native_id": threading.get_native_id()}


def work_a():
    note()
    time.sleep(SECONDS)


def work_b():
    note()
    time.sleep(SECONDS)


def main():
    note()
    threads = [threading.Thread(target=work_a, name="worker-a"),
               threading.Thread(target=work_b, name="worker-b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
    with open(sys.argv[1], "w") as f:
        json.dump(seen, f)
