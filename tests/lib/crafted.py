#!/usr/bin/python3
# Crafted frames for the data-path security test (tests/netns/test_crafted.sh),
# with Debian's python3-scapy: run it with /usr/bin/python3, whose modules
# Debian installs.
#
#   crafted.py send IFACE DMAC SRC DST KIND [key=value...]
#       one frame of KIND out of IFACE to the Ethernet address DMAC:
#       udp (dport), gre, ipip, ip6in4, lsrr, ssrr, rr (UDP with that IPv4
#       option, dport), icmp (type, id), tcp (sport, dport, flags: S A R F
#       letters or "none")
#   crafted.py count PCAP SRC DST KIND [key=value...]
#       how many packets of that kind from SRC to DST the capture holds
#       (the same keys narrow the match)
#   crafted.py wait PCAP N SRC DST KIND [key=value...]
#       exit 0 once the capture holds at least N of them; 1 after 5 s
import logging
import sys
import time

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)  # no route warnings
from scapy.all import (GRE, ICMP, IP, IPOption, IPv6, TCP, UDP, Ether, Raw,  # noqa: E402
                       rdpcap, sendp)

PROTO = {"gre": 47, "ipip": 4, "ip6in4": 41}
OPT = {"lsrr": 131, "ssrr": 137, "rr": 7}


def opts(args):
    return dict(a.split("=", 1) for a in args)


def flags(s):
    return "" if s == "none" else s


def build(src, dst, kind, o):
    ip = IP(src=src, dst=dst)
    if kind == "udp":
        return ip / UDP(sport=21001, dport=int(o.get("dport", 21000))) / Raw(b"m" * 16)
    if kind == "gre":
        return ip / GRE() / IP(src=src, dst="10.101.9.9") / UDP(dport=21002) / Raw(b"g" * 16)
    if kind == "ipip":
        return ip / IP(src=src, dst="10.101.9.9") / UDP(dport=21002) / Raw(b"i" * 16)
    if kind == "ip6in4":
        return ip / IPv6(dst="fd0a:101::99") / UDP(dport=21002) / Raw(b"6" * 16)
    if kind in OPT:
        # type, length 7, pointer 4, one address: the option's own shape
        data = bytes([OPT[kind], 7, 4]) + bytes(map(int, dst.split("."))) + b"\x00"
        return IP(src=src, dst=dst, options=[IPOption(data)]) / \
            UDP(sport=21001, dport=int(o.get("dport", 21000))) / Raw(b"o" * 16)
    if kind == "icmp":
        return ip / ICMP(type=int(o["type"]), id=int(o.get("id", "0"), 0)) / Raw(b"c" * 16)
    if kind == "tcp":
        return ip / TCP(sport=int(o["sport"]), dport=int(o["dport"]), flags=flags(o["flags"]),
                        seq=1000, ack=1000 if "A" in o["flags"] else 0)
    raise SystemExit("crafted.py: unknown kind " + kind)


def matches(p, src, dst, kind, o):
    if IP not in p or p[IP].src != src or p[IP].dst != dst:
        return False
    ip = p[IP]
    if kind in PROTO:
        return ip.proto == PROTO[kind]
    if kind in OPT:
        return UDP in p and any(x.option == OPT[kind] & 0x1f for x in ip.options)
    if kind == "udp":
        return UDP in p and p[UDP].dport == int(o.get("dport", 21000)) and not ip.options
    if kind == "icmp":
        if ICMP not in p or ip.proto != 1 or p[ICMP].type != int(o["type"]):
            return False
        return "id" not in o or p[ICMP].id == int(o["id"], 0)
    if kind == "tcp":
        if TCP not in p:
            return False
        if "sport" in o and p[TCP].sport != int(o["sport"]):
            return False
        if "dport" in o and p[TCP].dport != int(o["dport"]):
            return False
        return "flags" not in o or all(c in str(p[TCP].flags) for c in flags(o["flags"]))
    raise SystemExit("crafted.py: unknown kind " + kind)


def count(pcap, src, dst, kind, o):
    try:
        pkts = rdpcap(pcap)
    except Exception:  # not written yet, or cut inside a record: none yet
        return 0
    return sum(1 for p in pkts if matches(p, src, dst, kind, o))


def main():
    if len(sys.argv) >= 7 and sys.argv[1] == "send":
        _, _, iface, dmac, src, dst, kind = sys.argv[:7]
        pkt = Ether(dst=dmac) / build(src, dst, kind, opts(sys.argv[7:]))
        sendp(pkt, iface=iface, verbose=False)
        return 0
    if len(sys.argv) >= 6 and sys.argv[1] == "count":
        _, _, pcap, src, dst, kind = sys.argv[:6]
        print(count(pcap, src, dst, kind, opts(sys.argv[6:])))
        return 0
    if len(sys.argv) >= 7 and sys.argv[1] == "wait":
        _, _, pcap, n, src, dst, kind = sys.argv[:7]
        o = opts(sys.argv[7:])
        end = time.monotonic() + 5
        while time.monotonic() < end:
            if count(pcap, src, dst, kind, o) >= int(n):
                return 0
            time.sleep(0.05)
        return 1
    sys.stderr.write(__doc__ or "usage: crafted.py send|count ...\n")
    return 1


if __name__ == "__main__":
    sys.exit(main())
