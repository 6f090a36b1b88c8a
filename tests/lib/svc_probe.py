#!/usr/bin/env python3
"""Service test helpers: backends that say who they are, and a DNS stub.
Every mode is bounded in time.

  ident PORT NAME SECONDS     TCP server (IPv4 and IPv6): sends NAME to each
                              connection
  who HOST PORT               connect, print what the server sent; exit 0 if
                              it sent something (1 s timeout)
  dns PORT SECONDS            DNS stub on UDP and TCP: answers every A query
                              with 10.113.9.9
  dig HOST PORT NAME [tcp]    one A query; exit 0 iff the answer carries
                              10.113.9.9 (1 s timeout)
"""
import select
import socket
import struct
import sys
import time

ANSWER = bytes([10, 113, 9, 9])


def ident(port, name, seconds):
    deadline = time.time() + seconds
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('::', port))
    s.listen(64)
    s.settimeout(0.5)
    while time.time() < deadline:
        try:
            c, _ = s.accept()
        except socket.timeout:
            continue
        try:
            c.sendall(name.encode())
        except OSError:
            pass
        c.close()
    return 0


def who(host, port):
    try:
        c = socket.create_connection((host, port), timeout=1)
        c.settimeout(1)
        data = c.recv(64)
    except OSError:
        return 1
    print(data.decode(errors='replace'))
    return 0 if data else 1


def query(name, qid=0x4242):
    q = struct.pack('>HHHHHH', qid, 0x0100, 1, 0, 0, 0)
    for label in name.strip('.').split('.'):
        q += bytes([len(label)]) + label.encode()
    return q + b'\x00' + struct.pack('>HH', 1, 1)


def answer(req):
    """The reply to one query: the question echoed, one A record."""
    if len(req) < 12:
        return None
    qid, _flags, qd = struct.unpack('>HHH', req[:6])
    if qd != 1:
        return None
    end = 12
    while end < len(req) and req[end] != 0:
        end += req[end] + 1
    question = req[12:end + 5]
    head = struct.pack('>HHHHHH', qid, 0x8180, 1, 1, 0, 0)
    rr = b'\xc0\x0c' + struct.pack('>HHIH', 1, 1, 30, 4) + ANSWER
    return head + question + rr


def dns(port, seconds):
    deadline = time.time() + seconds
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    u.bind(('', port))
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind(('', port))
    t.listen(16)
    while time.time() < deadline:
        r, _, _ = select.select([u, t], [], [], 0.5)
        for s in r:
            try:
                if s is u:
                    req, peer = u.recvfrom(512)
                    rep = answer(req)
                    if rep:
                        u.sendto(rep, peer)
                else:
                    c, _ = t.accept()
                    c.settimeout(1)
                    n = struct.unpack('>H', c.recv(2))[0]
                    rep = answer(c.recv(n))
                    if rep:
                        c.sendall(struct.pack('>H', len(rep)) + rep)
                    c.close()
            except (OSError, struct.error):
                pass
    return 0


def dig(host, port, name, tcp=False):
    q = query(name)
    try:
        if tcp:
            c = socket.create_connection((host, port), timeout=1)
            c.settimeout(1)
            c.sendall(struct.pack('>H', len(q)) + q)
            n = struct.unpack('>H', c.recv(2))[0]
            rep = c.recv(n)
        else:
            c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            c.settimeout(1)
            c.sendto(q, (host, port))
            rep, _ = c.recvfrom(512)
    except (OSError, struct.error):
        return 1
    return 0 if rep[:2] == q[:2] and rep.endswith(ANSWER) else 1


def main(argv):
    if len(argv) >= 5 and argv[1] == 'ident':
        return ident(int(argv[2]), argv[3], float(argv[4]))
    if len(argv) == 4 and argv[1] == 'who':
        return who(argv[2], int(argv[3]))
    if len(argv) == 4 and argv[1] == 'dns':
        return dns(int(argv[2]), float(argv[3]))
    if len(argv) in (5, 6) and argv[1] == 'dig':
        return dig(argv[2], int(argv[3]), argv[4], len(argv) == 6 and argv[5] == 'tcp')
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
