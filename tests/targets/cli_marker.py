import sys


def touch(path):
    with open(path, "w") as f:
        f.write("ran\n")


if __name__ == "__main__":
    touch(sys.argv[1])
