#!/usr/bin/env python3
"""Checks `pinhole import` against the databases it reads, through the whole compiler.

    import_check.py PINHOLE FORMAT FILE...

Reads FILE... itself, independently of pinhole (firewalld XML with ElementTree, ufw profiles
with configparser and ufw's port rules, FireHOL services files by running them in bash), then
imports them with `pinhole import`, compiles a policy that allows every imported app as a
server from an address of its own, and asks `pinhole explain --brief` about packets: each
port, range end and source port the database lists must be accepted, from that app's address;
the ports just outside a range, and source ports FireHOL's 'default' does not take, must be
dropped; a helper's data connection must be accepted as related. Prints one summary line;
exit 1 on any difference."""
import configparser
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

HELPERS = {  # a service's helper: pinhole's type, the protocol of its data connections, and the
    # protocols of the ports it attaches to (without one, the helper is left out with a note)
    'ftp': ('ftp', 'tcp', 'tcp'), 'tftp': ('tftp', 'udp', 'udp'), 'sip': ('sip', 'udp', 'tcp udp'),
    'irc': ('irc', 'tcp', 'tcp'), 'sane': ('sane', 'tcp', 'tcp'), 'amanda': ('amanda', 'tcp', 'udp'),
    'netbios-ns': ('netbios-ns', 'udp', 'udp'), 'netbios_ns': ('netbios-ns', 'udp', 'udp'),
    'snmp': ('snmp', 'udp', 'udp'),
}


class Service:
    def __init__(self, name):
        self.name = name
        self.dports = []    # (proto, lo, hi, sports): sports a list of (lo, hi), [] for any
        self.sports = []    # (proto, lo, hi): firewalld <source-port>, any destination port
        self.icmp = False
        self.esp = False
        self.helpers = []   # pinhole helper types
        self.includes = []


def firewalld(path):
    s = Service(os.path.basename(path)[:-len('.xml')])
    for e in ET.parse(path).getroot():
        a = e.attrib
        if e.tag in ('port', 'source-port') and a['protocol'] in ('tcp', 'udp'):
            lo, _, hi = a['port'].partition('-')
            rng = (a['protocol'], int(lo), int(hi or lo))
            (s.dports.append(rng + ([],)) if e.tag == 'port' else s.sports.append(rng))
        elif e.tag == 'protocol' and a['value'] in ('icmp', 'ipv6-icmp'):
            s.icmp = True
        elif (e.tag == 'protocol' and a['value'] == 'esp') or \
                (e.tag == 'port' and a['protocol'] == 'esp' and not a['port']):
            s.esp = True
        elif e.tag in ('helper', 'module'):
            h = a['name'].replace('nf_conntrack_', '')
            if h in HELPERS:
                s.helpers.append(h)
        elif e.tag == 'include':
            s.includes.append(a['service'])
    return [s]


def ufw(path):
    cp = configparser.RawConfigParser()
    cp.read(path)
    out = []
    for name in cp.sections():
        s = Service(name)
        for entry in cp.get(name, 'ports').split('|'):
            ports, _, proto = entry.partition('/')
            for p in ports.split(','):
                lo, _, hi = p.partition(':')
                for pr in ([proto] if proto else ['tcp', 'udp']):
                    s.dports.append((pr, int(lo), int(hi or lo), []))
        out.append(s)
    return out


def firehol(path):
    # bash itself reads the file: the values are what FireHOL would see.
    script = ('. "$1" >/dev/null 2>&1; for v in $(compgen -v); do case $v in '
              'server_*_ports|client_*_ports|helper_*) printf "%s=%s\\n" "$v" "${!v}";; esac; done')
    got = subprocess.run(['bash', '-c', script, 'x', path], capture_output=True, text=True).stdout
    var = dict(line.split('=', 1) for line in got.splitlines())
    out = []
    for k in var:
        m = re.fullmatch(r'server_(.+)_ports', k)
        if not m or 'client_%s_ports' % m.group(1) not in var:
            continue
        s = Service(m.group(1))
        sports = []
        for w in var['client_%s_ports' % s.name].split():
            if w == 'any':
                sports = None
                break
            lo, _, hi = ('1024:65535' if w == 'default' else w).partition(':')
            sports.append((int(lo), int(hi or lo)))
        for w in var[k].split():
            proto, _, port = w.partition('/')
            if proto in ('icmp', 'icmpv6', 'any'):
                s.icmp = True
            if proto in ('esp', '50', 'any'):
                s.esp = True
            for pr in (['tcp', 'udp'] if proto == 'any' else [proto] if proto in ('tcp', 'udp') else []):
                lo, _, hi = ('0:65535' if port == 'any' else port).partition(':')
                s.dports.append((pr, int(lo), int(hi or lo), sports or []))
        s.helpers = [h for h in var.get('helper_' + s.name, '').split() if h in HELPERS]
        out.append(s)
    return out


def covered(ranges, proto, port):
    return any(p == proto and lo <= port <= hi for p, lo, hi, *_ in ranges)


def main():
    pinhole, fmt, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    services = []
    for f in files:
        services += {'firewalld': firewalld, 'ufw': ufw, 'firehol': firehol}[fmt](f)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, 'imported.pin')
        r = subprocess.run([pinhole, 'import', fmt, '-o', out] + files, capture_output=True, text=True)
        if r.returncode != 0:
            print('import_check: FAIL pinhole import exited %d:\n%s' % (r.returncode, r.stderr[-3000:]))
            return 1
        text = open(out).read()
        # Which app each service became: its source string names it.
        app_of = {}
        for m in re.finditer(r'^app (\S+) .*\n    source "(?:FireHOL service (\S+),|ufw profile \'([^\']+)\'|'
                             r'firewalld service (\S+),)', text, re.M):
            app_of.setdefault(m.group(2) or m.group(3) or m.group(4), m.group(1))
        by_name = {s.name: s for s in services}
        policy = ['include "imported.pin";']
        packets, want, what = [], [], []
        failures = []
        n = 0
        for s in services:
            if s.name not in app_of:
                if s.dports or s.sports or s.icmp or s.esp:
                    failures.append('service %s has ports but was not imported' % s.name)
                continue
            n += 1
            src = '10.%d.%d.1' % (n >> 8, n & 255)
            policy.append('allow %s server from %s;' % (app_of[s.name], src))
            # Everything the service opens, with what it includes (those imported here).
            closure, todo, seen, foreign = [], [s], set(), False
            while todo:
                t = todo.pop()
                if t.name in seen:
                    continue
                seen.add(t.name)
                closure.append(t)
                for i in t.includes:
                    if i in by_name and i in app_of:
                        todo.append(by_name[i])
                    else:
                        foreign = True  # a library app or nothing stands in for it
            allp = [d for t in closure for d in t.dports]
            allsp = [d for t in closure for d in t.sports]

            def probe(line, verdict, why):
                packets.append(line)
                want.append(verdict)
                what.append('%s: %s' % (s.name, why))
            for t in closure:
                for proto, lo, hi, sports in t.dports:
                    sp = sports[0][0] if sports else 40000
                    for port in sorted({lo, hi}):
                        probe('%s %s:%d -> 192.0.2.1:%d in' % (proto, src, sp, port), 'accept',
                              '%s/%d from port %d' % (proto, port, sp))
                    for port in (lo - 1, hi + 1):
                        if 0 < port < 65536 and not foreign and not covered(allp, proto, port) and \
                                not any(p == proto for p, *_ in allsp):
                            probe('%s %s:%d -> 192.0.2.1:%d in' % (proto, src, sp, port), 'drop',
                                  '%s/%d outside %d-%d' % (proto, port, lo, hi))
                    bad = sports[0][0] - 1 if sports else 0
                    if bad > 0 and not foreign and not allsp and not any(
                            p == proto and l2 <= lo <= h2 and (not sp2 or any(a <= bad <= b for a, b in sp2))
                            for p, l2, h2, sp2 in allp):
                        probe('%s %s:%d -> 192.0.2.1:%d in' % (proto, src, bad, lo), 'drop',
                              '%s/%d from source port %d, outside the client ports' % (proto, lo, bad))
                for proto, lo, hi in t.sports:
                    probe('%s %s:%d -> 192.0.2.1:40000 in' % (proto, src, lo), 'accept',
                          '%s from source port %d' % (proto, lo))
                if t.icmp:
                    probe('icmp %s -> 192.0.2.1 in echo-request' % src, 'accept', 'icmp')
                if t.esp:
                    probe('esp %s -> 192.0.2.1 in' % src, 'accept', 'esp')
                for h in t.helpers:
                    typ, proto, on = HELPERS[h]
                    if not any(p in on.split() for p, *_ in t.dports):
                        continue
                    probe('%s %s:40001 -> 192.0.2.1:40002 in related helper %s' % (proto, src, typ),
                          'accept', 'a connection the %s helper expects' % typ)
        with open(os.path.join(tmp, 'policy.pin'), 'w') as f:
            f.write('\n'.join(policy) + '\n')
        r = subprocess.run([pinhole, 'explain', '--brief', os.path.join(tmp, 'policy.pin'), '-'],
                           input='\n'.join(packets) + '\n', capture_output=True, text=True)
        got = r.stdout.splitlines()
        if len(got) != len(packets):
            print('import_check: FAIL explain gave %d answers for %d packets:\n%s' %
                  (len(got), len(packets), r.stderr[-3000:]))
            return 1
        for line, w, g, why in zip(packets, want, got, what):
            if g.split()[0] != w:
                failures.append('%s: %s gave %s, want %s' % (why, line, g, w))
    for f in failures[:20]:
        print('import_check: FAIL %s' % f)
    print('import_check: %s: %d services, %d apps, %d packets, %d wrong' %
          (fmt, len(services), n, len(packets), len(failures)))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
