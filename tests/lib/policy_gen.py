#!/usr/bin/env python3
"""Seeded random policies for tests/netns/test_nft_differential.sh.

  policy_gen.py SEED     prints a multi-document YAML on stdout

The workloads are those of that test: shop/web (app=web, 10.116.1.10),
shop/db (app=db, 10.116.1.20), guest/client (app=client, 10.116.1.30,
namespace label team=blue), and the outside host 10.116.2.10. The same
seed gives the same policies. Each policy draws its selector, its
directions, its peers (pod and namespace selectors, ipBlocks with and
without except), its ports (single, ranges, none) and, for the native
format, deny rules and ICMP/ICMPv6 types.
"""
import random
import sys

APPS = ['web', 'db', 'client']
NS_OF = {'web': 'shop', 'db': 'shop', 'client': 'guest'}
CIDRS = [('10.116.1.0/24', ['10.116.1.30/32', '10.116.1.20/32']),
         ('10.116.0.0/16', ['10.116.2.0/24', '10.116.1.10/32']),
         ('10.116.2.0/24', ['10.116.2.10/32']),
         ('10.116.1.16/28', ['10.116.1.20/30']),
         ('fd0a:116::/64', ['fd0a:116::30/128']),
         ('0.0.0.0/0', ['10.116.1.0/24'])]
PORTS = ['{protocol: TCP, port: 80}', '{protocol: TCP, port: 5432}',
         '{protocol: UDP, port: 53}', '{protocol: TCP, port: 5000, endPort: 5500}',
         '{protocol: TCP, port: 1, endPort: 100}', '{protocol: UDP, port: 50, endPort: 60}']
ICMPS = ['{type: 8}', '{type: 0}', '{protocol: ICMPv6, type: 128}',
         '{protocol: ICMPv6, type: 129}', '{type: 8, code: 0}', '{protocol: ICMP}']


def peer(r, native):
    k = r.randrange(4 if not native else 3)
    if k == 0:
        return '{podSelector: {matchLabels: {app: %s}}}' % r.choice(APPS)
    if k == 1:
        cidr, excepts = r.choice(CIDRS)
        exc = [e for e in excepts if r.random() < 0.5 and
               (':' in e) == (':' in cidr)]
        if exc:
            return '{ipBlock: {cidr: %s, except: [%s]}}' % (cidr, ', '.join(exc))
        return '{ipBlock: {cidr: %s}}' % cidr
    if k == 2:
        return '{podSelector: {}}'
    return '{namespaceSelector: {matchLabels: {team: blue}}}'


def rule(r, side, native):
    out = []
    first = '    - '
    if native and r.random() < 0.35:
        out.append(first + 'action: deny')
        first = '      '
    if r.random() < 0.8:
        peers = [peer(r, native) for _ in range(r.randint(1, 2))]
        out.append(first + '%s: [%s]' % (side, ', '.join(peers)))
        first = '      '
    if r.random() < 0.7:
        out.append(first + 'ports: [%s]' % ', '.join(r.sample(PORTS, r.randint(1, 2))))
        first = '      '
    if native and r.random() < 0.4:
        out.append(first + 'icmp: [%s]' % ', '.join(r.sample(ICMPS, r.randint(1, 2))))
        first = '      '
    if not out:
        out.append(first + '%s: [%s]' % (side, peer(r, native)))
    return out


def policy(r, i):
    native = r.random() < 0.5
    app = r.choice(APPS + [None])
    ns = NS_OF[app] if app else r.choice(['shop', 'guest'])
    sel = '{matchLabels: {app: %s}}' % app if app else '{}'
    dirs = r.choice([['ingress'], ['egress'], ['ingress', 'egress']])
    lines = []
    if native:
        lines += ['apiVersion: bulkhead.io/v1', 'kind: Policy',
                  'metadata: {name: gen%d, namespace: %s}' % (i, ns),
                  'spec:', '  selector: %s' % sel]
    else:
        lines += ['apiVersion: networking.k8s.io/v1', 'kind: NetworkPolicy',
                  'metadata: {name: gen%d, namespace: %s}' % (i, ns),
                  'spec:', '  podSelector: %s' % sel,
                  '  policyTypes: [%s]' % ', '.join(d.capitalize() for d in dirs)]
    for d in dirs:
        n = r.randint(0 if not native else 1, 3)
        if n == 0:
            lines.append('  %s: []' % d)
            continue
        lines.append('  %s:' % d)
        for _ in range(n):
            lines += rule(r, 'from' if d == 'ingress' else 'to', native)
    return '\n'.join(lines)


def main():
    r = random.Random(int(sys.argv[1]))
    print('\n---\n'.join(policy(r, i) for i in range(r.randint(2, 4))))


if __name__ == '__main__':
    main()
