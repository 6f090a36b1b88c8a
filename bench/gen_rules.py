"""Writes a NetworkPolicy of N ingress rules to stdout, one /32 peer and
one TCP port each, for the control-plane and data-path benches.

usage: gen_rules.py N NET PORT_BASE PORT_MOD [NAME]

Rule i allows NET.(i // 250).(i % 250 + 1)/32 (NET: the first two octets,
the third counting up from 0) on TCP port PORT_BASE + i % PORT_MOD. The
policy is NAME (default "big") in namespace bhbench and selects app=srv;
more rules may be appended to its ingress list."""
import sys


def main(argv):
    if len(argv) not in (5, 6):
        sys.exit(__doc__)
    n, net, base, mod = int(argv[1]), argv[2], int(argv[3]), int(argv[4])
    name = argv[5] if len(argv) == 6 else "big"
    print(f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
          f"metadata: {{name: {name}, namespace: bhbench}}\n"
          f"spec:\n  podSelector: {{matchLabels: {{app: srv}}}}\n"
          f"  policyTypes: [Ingress]\n  ingress:")
    for i in range(n):
        print(f"  - from: [{{ipBlock: {{cidr: {net}.{i // 250}.{i % 250 + 1}/32}}}}]\n"
              f"    ports: [{{protocol: TCP, port: {base + i % mod}}}]")


main(sys.argv)
