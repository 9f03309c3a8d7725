"""Blocking calls of known number and length, against a real PostgreSQL and
a real Redis: the ground truth of `strop run --waits`.

usage: c_blocking.py PG_PORT REDIS_PORT OUT.json

Every call that may block is counted and timed here, by endpoint.
"""
import json
import select
import socket
import struct
import sys
import threading
import time

SPENT = {}


def timed(endpoint, call, *args):
    t = time.perf_counter()
    try:
        return call(*args)
    finally:
        calls, seconds = SPENT.get(endpoint, (0, 0.0))
        SPENT[endpoint] = (calls + 1, seconds + time.perf_counter() - t)


def pg_session(port):
    name = "tcp 127.0.0.1:%d" % port
    sock = socket.socket()
    timed(name, sock.connect, ("127.0.0.1", port))
    params = b"user\0postgres\0database\0postgres\0\0"
    timed(name, sock.sendall, struct.pack("!II", 8 + len(params), 196608) + params)
    pg_until_ready(sock, name)
    for _ in range(3):
        payload = b"SELECT pg_sleep(0.1)\0"
        timed(name, sock.sendall, b"Q" + struct.pack("!I", 4 + len(payload)) + payload)
        pg_until_ready(sock, name)
    sock.close()


def pg_until_ready(sock, name):
    buffer = b""
    while True:
        while len(buffer) < 5 or len(buffer) < 1 + struct.unpack("!I", buffer[1:5])[0]:
            chunk = timed(name, sock.recv, 65536)
            if not chunk:
                raise RuntimeError("postgresql closed the connection")
            buffer += chunk
        kind, length = buffer[:1], struct.unpack("!I", buffer[1:5])[0]
        buffer = buffer[1 + length:]
        if kind == b"E":
            raise RuntimeError("postgresql refused")
        if kind == b"Z" and not buffer:
            return


def redis_session(port):
    name = "tcp 127.0.0.1:%d" % port
    sock = socket.socket()
    timed(name, sock.connect, ("127.0.0.1", port))
    for _ in range(4):
        timed(name, sock.sendall, b"*3\r\n$5\r\nBLPOP\r\n$4\r\njobs\r\n$4\r\n0.15\r\n")
        reply = b""
        while not reply.endswith(b"\r\n"):
            reply += timed(name, sock.recv, 4096)
    sock.close()


def main():
    pg_port, redis_port, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    start = time.perf_counter()
    pg_session(pg_port)
    redis_session(redis_port)
    for _ in range(3):
        timed("sleep", time.sleep, 0.05)
    lock = threading.Lock()
    timed("lock", lock.acquire)
    for _ in range(2):
        timed("lock", lock.acquire, True, 0.08)
    for _ in range(2):
        timed("select/poll/epoll over several fds", select.select, [], [], [], 0.04)
    SPENT["total"] = time.perf_counter() - start
    with open(out, "w") as f:
        json.dump(SPENT, f)


main()
