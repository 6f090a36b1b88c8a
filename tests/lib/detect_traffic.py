#!/usr/bin/env python3
"""Traffic of the detection tests: a benign set and an attack set. Every mode
is bounded in count and time; results go to stdout as "ok=N failed=M".

  serve SECONDS TCPPORTS UDPADDRS
        TCP echo on every port of TCPPORTS (comma list) on all addresses;
        UDP echo on port 53 of each address of UDPADDRS (bound per address,
        so a reply leaves from the address the query went to)

Benign (exit 0 iff every exchange was answered):
  scrape HOSTS PORT ROUNDS      one request to each host, ROUNDS times
  spread HOSTS PORT COUNT       COUNT requests over the hosts in turn
  pool HOST PORT CONNS ROUNDS   CONNS connections opened together (within
                                one second), a request on each, then closed
  dns RESOLVERS COUNT           COUNT UDP queries to each resolver (port 53)

Attacks (always exit 0; print how many connections were attempted):
  sweep HOSTS PORTS [REPEAT]    non-blocking connects to every host x port
                                (REPEAT times each) at once; waits up to
                                1.5 s, then closes
  marker HOST PORT SPORT        one UDP datagram from SPORT (no answer
                                expected): a record the test can wait for

Syslog:
  syslog-sink PATH OUT SECONDS  unix datagram collector: one line per record

HOSTS/PORTS: comma lists, ranges a-b allowed (10.103.0.11-35 means the
last octet 11..35; 1000-1039 for ports).
"""
import os
import select
import socket
import sys
import threading
import time


def expand(spec):
    out = []
    for part in spec.split(','):
        if '-' in part:
            head, last = part.rsplit('-', 1)
            if '.' in head:
                prefix, first = head.rsplit('.', 1)
                out += ['%s.%d' % (prefix, i) for i in range(int(first), int(last) + 1)]
            else:
                out += [str(i) for i in range(int(head), int(last) + 1)]
        elif part:
            out.append(part)
    return out


def serve(seconds, tcp_ports, udp_addrs):
    deadline = time.time() + seconds
    socks = []
    for p in tcp_ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(('', int(p)))
        s.listen(1024)
        s.setblocking(False)
        socks.append(('tcp', s))
    for a in udp_addrs:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((a, 53))
        s.setblocking(False)
        socks.append(('udp', s))

    def echo(c):
        c.settimeout(5)
        try:
            d = c.recv(64)
            if d:
                c.sendall(d)
        except OSError:
            pass
        finally:
            c.close()

    by_fd = {s.fileno(): (k, s) for k, s in socks}
    while time.time() < deadline:
        r, _, _ = select.select(list(by_fd), [], [], 0.5)
        for fd in r:
            kind, s = by_fd[fd]
            try:
                if kind == 'tcp':
                    c, _ = s.accept()
                    threading.Thread(target=echo, args=(c,), daemon=True).start()
                else:
                    d, peer = s.recvfrom(512)
                    s.sendto(d, peer)
            except OSError:
                pass
    return 0


def one_tcp(host, port, timeout=2.0):
    try:
        with socket.create_connection((host, int(port)), timeout=timeout) as c:
            c.settimeout(timeout)
            c.sendall(b'ping\n')
            return c.recv(16) == b'ping\n'
    except OSError:
        return False


def one_udp(host, port, timeout=2.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.connect((host, int(port)))
        s.send(b'query')
        return s.recv(16) == b'query'
    except OSError:
        return False
    finally:
        s.close()


def report(ok, failed):
    print('ok=%d failed=%d' % (ok, failed))
    return 0 if failed == 0 else 1


def scrape(hosts, port, rounds):
    res = [one_tcp(h, port) for _ in range(rounds) for h in hosts]
    return report(res.count(True), res.count(False))


def spread(hosts, port, count):
    res = [one_tcp(hosts[i % len(hosts)], port) for i in range(count)]
    return report(res.count(True), res.count(False))


def pool(host, port, conns, rounds):
    ok = failed = 0
    for _ in range(rounds):
        socks = []
        for _ in range(conns):
            try:
                socks.append(socket.create_connection((host, int(port)), timeout=2.0))
            except OSError:
                failed += 1
        for c in socks:
            try:
                c.settimeout(2.0)
                c.sendall(b'ping\n')
                if c.recv(16) == b'ping\n':
                    ok += 1
                else:
                    failed += 1
            except OSError:
                failed += 1
            finally:
                c.close()
    return report(ok, failed)


def dns(resolvers, count):
    res = [one_udp(r, 53) for _ in range(count) for r in resolvers]
    return report(res.count(True), res.count(False))


def sweep(hosts, ports, repeat=1):
    socks = []
    for h in hosts:
        for p in ports * repeat:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect_ex((h, int(p)))
            except OSError:
                pass
            socks.append(s)
    deadline = time.time() + 1.5
    pending = list(socks)
    while pending and time.time() < deadline:
        _, w, _ = select.select([], pending, [], 0.1)
        pending = [s for s in pending if s not in w]
    for s in socks:
        s.close()
    print('attempted=%d' % len(socks))
    return 0


def marker(host, port, sport):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('', int(sport)))
    try:
        s.sendto(b'marker', (host, int(port)))
    except OSError:
        pass
    s.close()
    return 0


def syslog_sink(path, out, seconds):
    deadline = time.time() + seconds
    try:
        os.unlink(path)
    except OSError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(0.5)
    with open(out, 'a', buffering=1) as f:
        while time.time() < deadline:
            try:
                d = s.recv(65536)
            except socket.timeout:
                continue
            f.write(d.decode('utf-8', 'replace').replace('\n', ' ') + '\n')
    return 0


def main(argv):
    mode = argv[1] if len(argv) > 1 else ''
    if mode == 'serve':
        return serve(float(argv[2]), expand(argv[3]), expand(argv[4]))
    if mode == 'scrape':
        return scrape(expand(argv[2]), argv[3], int(argv[4]))
    if mode == 'spread':
        return spread(expand(argv[2]), argv[3], int(argv[4]))
    if mode == 'pool':
        return pool(argv[2], argv[3], int(argv[4]), int(argv[5]))
    if mode == 'dns':
        return dns(expand(argv[2]), int(argv[3]))
    if mode == 'sweep':
        return sweep(expand(argv[2]), expand(argv[3]), int(argv[4]) if len(argv) > 4 else 1)
    if mode == 'syslog-sink':
        return syslog_sink(argv[2], argv[3], float(argv[4]))
    if mode == 'marker':
        return marker(argv[2], argv[3], argv[4])
    print(__doc__)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
