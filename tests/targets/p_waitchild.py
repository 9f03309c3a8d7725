"""A thread that waits on its child process (tests/test_promises.py).

The thread "child-waiter" starts `sleep 60` and waits for it in
Popen.wait() (os.waitpid, the wait4 system call); the main thread joins it.
The thread prints the child's pid before it waits; the test dumps the program.
"""
import subprocess
import sys
import threading


def wait_for_child():
    child = subprocess.Popen(["sleep", "60"])
    print(child.pid, flush=True)
    child.wait()


def main():
    waiter = threading.Thread(target=wait_for_child, name="child-waiter")
    waiter.start()
    waiter.join()


if __name__ == "__main__":
    main()
