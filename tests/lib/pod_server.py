#!/usr/bin/env python3
"""A test pod's servers: TCP and UDP echo on each given port, IPv4 and IPv6
(one dual-stack socket each), for at most SECONDS.

Usage: pod_server.py SECONDS PORT...
"""
import select
import socket
import sys
import time


def main(argv):
    deadline = time.time() + float(argv[1])
    socks = []
    for port in map(int, argv[2:]):
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            s = socket.socket(socket.AF_INET6, kind)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("::", port))
            if kind == socket.SOCK_STREAM:
                s.listen(64)
            socks.append(s)
    conns = []
    while time.time() < deadline:
        r, _, _ = select.select(socks + conns, [], [], 0.5)
        for s in r:
            try:
                if s in conns:
                    data = s.recv(2048)
                    if data:
                        s.sendall(data)
                    else:
                        conns.remove(s)
                        s.close()
                elif s.type == socket.SOCK_STREAM:
                    c, _ = s.accept()
                    conns.append(c)
                else:
                    data, peer = s.recvfrom(2048)
                    s.sendto(data, peer)
            except OSError:
                if s in conns:
                    conns.remove(s)
                    s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
