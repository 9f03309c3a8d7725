"""The chapter's example program: functions that wait in loops.

    strop run examples/myapp.py
"""
import time


def lighter():
    time.sleep(0.01)


def light():
    lighter()


def medium():
    light()
    light()


def heavy():
    for i in range(10):
        medium()


def main():
    for i in range(2):
        heavy()


if __name__ == "__main__":
    main()
    print("myapp: done")
