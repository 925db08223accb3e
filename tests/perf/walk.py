#!/usr/bin/python3
"""walk.py FILE.nft...: for each base chain of pinhole's nft text, how many rules it holds
(with the chains its verdict maps jump to) and the longest walk: the rules a packet that no
rule decides meets, one map's jump at a time (the longest chain it can jump to). Without
dispatch both numbers are the chain's rule count; `make bench` reports them for
`gen.py pin zones N`, and they can be compared with any other build's output.
"""
import re
import sys


def chains(text):
    """chain name -> (is base chain, [rule: list of chains its map jumps to])"""
    out, name, rules, base = {}, None, [], False
    for line in text.splitlines():
        m = re.match(r"^\tchain (\S+) \{$", line)
        if m:
            name, rules, base = m.group(1), [], False
            continue
        if name is None:
            continue
        if line == "\t}":
            out[name] = (base, rules)
            name = None
        elif line.startswith("\t\ttype "):
            base = True
        elif line.startswith("\t\t") and not line.startswith("\t\t\t") and not line.startswith("\t\t}"):
            rules.append([])
        elif line.startswith("\t\t\t") and rules:
            m = re.search(r": jump (\S+?),?$", line)
            if m:
                rules[-1].append(m.group(1))
    return out


def walk(cs, name):
    return sum(1 + max((walk(cs, t) for t in jumps), default=0) for jumps in cs[name][1])


def total(cs, name):
    return sum(1 + sum(total(cs, t) for t in jumps) for jumps in cs[name][1])


def main():
    for path in sys.argv[1:]:
        cs = chains(open(path).read())
        for name, (base, _) in cs.items():
            if base:
                print(f"{path}: chain {name}: {total(cs, name)} rules, longest walk {walk(cs, name)}")


if __name__ == "__main__":
    main()
