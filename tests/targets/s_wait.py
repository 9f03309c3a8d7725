"""Target for wall mode's waiting frames: one thread blocks in socket.recv on
a loopback TCP connection (whose server never answers), one in time.sleep, and
the main thread in a read of a pipe.  Usage: s_wait.py READY_FILE; READY_FILE
gets "PORT" once every thread is blocked."""
import os
import socket
import sys
import threading
import time


def wait_for_reply(sock):
    sock.recv(100)


def doze():
    time.sleep(3600)


def read_pipe(fd):
    os.read(fd, 1)


def main(ready):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.create_connection(server.getsockname())
    peer, _ = server.accept()
    threading.Thread(target=wait_for_reply, args=(client,), daemon=True, name="recv").start()
    threading.Thread(target=doze, daemon=True, name="doze").start()
    r, w = os.pipe()
    time.sleep(0.2)
    with open(ready + ".tmp", "w") as f:
        f.write(str(server.getsockname()[1]))
    os.rename(ready + ".tmp", ready)
    read_pipe(r)


if __name__ == "__main__":
    main(sys.argv[1])
