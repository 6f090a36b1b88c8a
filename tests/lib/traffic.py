#!/usr/bin/env python3
"""Traffic tools for the netns tests. Every mode is bounded in count and time.

  serve tcp|udp PORT [SECONDS]    echo server (TCP: one thread per connection)
  connect HOST PORT               one TCP request/response; exit 0 if answered
  udp HOST PORT                   one UDP request/response; exit 0 if answered
  loop HOST PORT COUNT [STOP [PROGRESS]]
                                  up to COUNT sequential TCP connections, until
                                  the file STOP exists; prints "ok=N failed=M",
                                  exit 0 iff M == 0; appends "ok"/"fail" per
                                  connection to PROGRESS (flushed), so a test
                                  can wait until traffic is really flowing
  hold HOST PORT SECONDS OUT      one long-lived TCP connection, a round trip
                                  every 50 ms; appends "ok"/"fail" per round
                                  trip to OUT (flushed), stops after SECONDS
"""
import socket
import sys
import threading
import time


def serve(proto, port, seconds):
    deadline = time.time() + seconds
    fam = socket.AF_INET
    if proto == 'udp':
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(('', port))
        s.settimeout(0.5)
        while time.time() < deadline:
            try:
                data, peer = s.recvfrom(2048)
            except socket.timeout:
                continue
            s.sendto(data, peer)
        return 0
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('', port))
    s.listen(128)
    s.settimeout(0.5)

    def echo(c):
        c.settimeout(60)  # outlives a quarantine in the tests
        try:
            while time.time() < deadline:
                d = c.recv(2048)
                if not d:
                    break
                c.sendall(d)
        except OSError:
            pass
        finally:
            c.close()

    while time.time() < deadline:
        try:
            c, _ = s.accept()
        except socket.timeout:
            continue
        threading.Thread(target=echo, args=(c,), daemon=True).start()
    return 0


def one_tcp(host, port, timeout=1.0):
    try:
        with socket.create_connection((host, port), timeout=timeout) as c:
            c.settimeout(timeout)
            c.sendall(b'ping\n')
            return c.recv(16) == b'ping\n'
    except OSError:
        return False


def one_udp(host, port, timeout=1.0):
    s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(b'ping', (host, port))
        return s.recvfrom(16)[0] == b'ping'
    except OSError:
        return False
    finally:
        s.close()


def loop(host, port, count, stopfile=None, progress=None):
    import os
    ok = failed = 0
    prog = open(progress, 'a', buffering=1) if progress else None
    for _ in range(count):
        if stopfile and os.path.exists(stopfile):
            break
        if one_tcp(host, port, 2.0):
            ok += 1
            result = 'ok'
        else:
            failed += 1
            result = 'fail'
        if prog:
            prog.write(result + '\n')
    if prog:
        prog.close()
    print(f'ok={ok} failed={failed}')
    return 0 if failed == 0 else 1


def hold(host, port, seconds, out):
    deadline = time.time() + seconds
    with open(out, 'a', buffering=1) as f:
        try:
            c = socket.create_connection((host, port), timeout=1.0)
        except OSError:
            f.write('connect-fail\n')
            return 1
        c.settimeout(0.3)
        while time.time() < deadline:
            try:
                c.sendall(b'x')
                f.write('ok\n' if c.recv(16) else 'fail\n')
            except OSError:
                f.write('fail\n')
            time.sleep(0.05)
        c.close()
    return 0


def main(argv):
    mode = argv[1]
    if mode == 'serve':
        return serve(argv[2], int(argv[3]), float(argv[4]) if len(argv) > 4 else 120)
    if mode == 'connect':
        return 0 if one_tcp(argv[2], int(argv[3])) else 1
    if mode == 'udp':
        return 0 if one_udp(argv[2], int(argv[3])) else 1
    if mode == 'loop':
        return loop(argv[2], int(argv[3]), int(argv[4]),
                    argv[5] if len(argv) > 5 else None,
                    argv[6] if len(argv) > 6 else None)
    if mode == 'hold':
        return hold(argv[2], int(argv[3]), float(argv[4]), argv[5])
    print(__doc__)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
