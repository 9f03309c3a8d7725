"""A program that waits on a real PostgreSQL and a real Redis, and measures
how long each of its calls took: the ground truth of strop's endpoint table.

usage: c_services.py PG_PORT REDIS_PORT OUT.json

It speaks both wire protocols itself (PostgreSQL's v3 with trust
authentication, Redis's RESP), so that it runs on any Python without a
client library.
"""
import json
import socket
import struct
import sys
import time

START = time.monotonic()


PG_BYTES = {"sent": 0, "received": 0}  # what the program sent to PostgreSQL and read back
REDIS_BYTES = {"sent": 0, "received": 0}  # and to Redis


def pg_message(sock):
    kind = sock.recv(1)
    while len(kind) < 1:
        kind += sock.recv(1)
    header = b""
    while len(header) < 4:
        header += sock.recv(4 - len(header))
    length = struct.unpack("!I", header)[0] - 4
    body = b""
    while len(body) < length:
        body += sock.recv(length - len(body))
    PG_BYTES["received"] += 5 + length
    return kind, body


def pg_until_ready(sock):
    while True:
        kind, body = pg_message(sock)
        if kind == b"E":
            raise RuntimeError("postgresql: " + body.decode("utf-8", "replace"))
        if kind == b"Z":
            return


def pg_connect(port):
    sock = socket.create_connection(("127.0.0.1", port))
    params = b"user\0postgres\0database\0postgres\0\0"
    message = struct.pack("!II", 8 + len(params), 196608) + params
    sock.sendall(message)
    PG_BYTES["sent"] += len(message)
    pg_until_ready(sock)
    return sock


def pg_query(sock, sql):
    payload = sql.encode() + b"\0"
    message = b"Q" + struct.pack("!I", 4 + len(payload)) + payload
    sock.sendall(message)
    PG_BYTES["sent"] += len(message)
    pg_until_ready(sock)


def redis_command(sock, *words):
    out = b"*%d\r\n" % len(words)
    for w in words:
        w = w.encode()
        out += b"$%d\r\n%s\r\n" % (len(w), w)
    sock.sendall(out)
    REDIS_BYTES["sent"] += len(out)
    reply = b""
    while not reply.endswith(b"\r\n"):
        reply += sock.recv(4096)
    REDIS_BYTES["received"] += len(reply)
    return reply


def query_database(pg):
    pg_query(pg, "SELECT pg_sleep(0.2)")


def wait_for_job(rd):
    redis_command(rd, "BLPOP", "jobs", "0.15")


def crunch():
    end = time.monotonic() + 0.06
    while time.monotonic() < end:
        pass


def main():
    pg_port, redis_port, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    pg = pg_connect(pg_port)
    rd = socket.create_connection(("127.0.0.1", redis_port))
    spent = {"postgresql": 0.0, "redis": 0.0}
    for _ in range(5):
        t = time.monotonic()
        query_database(pg)
        spent["postgresql"] += time.monotonic() - t
        t = time.monotonic()
        wait_for_job(rd)
        spent["redis"] += time.monotonic() - t
        crunch()
    spent["total"] = time.monotonic() - START
    spent["pg_bytes"] = PG_BYTES
    spent["redis_bytes"] = REDIS_BYTES
    with open(out, "w") as f:
        json.dump(spent, f)
    if len(sys.argv) > 4:  # keep the connections open a little: strop reads them once more
        time.sleep(float(sys.argv[4]))


main()
