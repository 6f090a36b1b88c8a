#!/usr/bin/python3
"""The container end of a tap device, for a workload that has no veth peer
(and so no MAC bound): frames written here are what the "container" sends,
frames read here are what reached it. Debian's python3-scapy builds them.

  tap_peer.py egress TAP SMAC SRC DST PORT
      write, in order: UDP SRC->DST:PORT "m1" from SMAC, "m2" from another
      MAC, "spoof" from SRC's neighbour .99, "mark" from SMAC (the
      receiver reads until it), then ARP who-has for the
      address in $ARP_FORGED with the sender MAC not the frame's, and
      who-has $ARP_GOOD consistent; read until the ARP reply for
      $ARP_GOOD arrives (10 s at most); print the IPs the host answered
      ARP for, one "arp-reply IP" line each.
  tap_peer.py ingress TAP READY MARKER
      open the tap, create the file READY, read until a UDP datagram with
      payload MARKER arrives (10 s at most); print "udp PAYLOAD DST" for
      every UDP datagram read.
"""
import fcntl
import os
import select
import struct
import sys
import time

from scapy.all import ARP, Ether, IP, UDP, Raw  # noqa: E402

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000


def open_tap(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    # the link has a carrier once the tap is open; wait for it (bounded)
    for _ in range(100):
        with open("/sys/class/net/%s/carrier" % name) as f:
            if f.read().strip() == "1":
                break
        time.sleep(0.05)
    return fd


def frames(fd, until, limit=10.0):
    """Yield frames read from fd until until(frame) or limit seconds."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], max(0.0, end - time.monotonic()))
        if not r:
            break
        f = Ether(os.read(fd, 65536))
        yield f
        if until(f):
            return
    raise SystemExit("tap_peer: the awaited frame did not come")


def egress(tap, smac, src, dst, port):
    fd = open_tap(tap)
    gw = os.environ["GW_MAC"]
    other = "02:00:00:11:22:33"
    spoof = src.rsplit(".", 1)[0] + ".99"
    out = [
        Ether(src=smac, dst=gw) / IP(src=src, dst=dst) / UDP(sport=4000, dport=port) / Raw(b"m1"),
        Ether(src=other, dst=gw) / IP(src=src, dst=dst) / UDP(sport=4000, dport=port) / Raw(b"m2"),
        Ether(src=smac, dst=gw) / IP(src=spoof, dst=dst) / UDP(sport=4000, dport=port) / Raw(b"spoof"),
        Ether(src=smac, dst=gw) / IP(src=src, dst=dst) / UDP(sport=4000, dport=port) / Raw(b"mark"),
        # sender MAC not the frame's: would teach the host another MAC for src
        Ether(src=smac, dst="ff:ff:ff:ff:ff:ff") /
        ARP(op=1, hwsrc=other, psrc=src, pdst=os.environ["ARP_FORGED"]),
        Ether(src=smac, dst="ff:ff:ff:ff:ff:ff") /
        ARP(op=1, hwsrc=smac, psrc=src, pdst=os.environ["ARP_GOOD"]),
    ]
    for f in out:
        os.write(fd, bytes(f))
    good = os.environ["ARP_GOOD"]
    for f in frames(fd, lambda f: ARP in f and f[ARP].op == 2 and f[ARP].psrc == good):
        if ARP in f and f[ARP].op == 2:
            print("arp-reply", f[ARP].psrc)


def ingress(tap, ready, marker):
    fd = open_tap(tap)
    open(ready, "w").close()
    m = marker.encode()
    for f in frames(fd, lambda f: UDP in f and bytes(f[UDP].payload) == m):
        if UDP in f:
            print("udp", bytes(f[UDP].payload).decode(errors="replace"), f[IP].dst, flush=True)


def main():
    if len(sys.argv) == 7 and sys.argv[1] == "egress":
        egress(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
    elif len(sys.argv) == 5 and sys.argv[1] == "ingress":
        ingress(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
