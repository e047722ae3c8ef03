#!/usr/bin/env python3
"""Include cycles in fcgi/ (and lib/): a header-level graph (header ->
headers it includes) and a module-level graph (a module = a header and
the .c files whose first include is it). Prints every strongly connected
component of more than one node."""
import os, re, sys
roots = ['fcgi', 'lib']
inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
anyinc = re.compile(r'^\s*#\s*include\s+[<"]([^>"]+)[>"]', re.M)
first = {}
files = {}
for r in roots:
    for d, _, fs in os.walk(r):
        for f in fs:
            if f.endswith(('.c', '.h')):
                p = os.path.join(d, f)
                files[os.path.relpath(p, r)] = inc.findall(open(p).read())
                a = anyinc.findall(open(p).read())
                first[os.path.relpath(p, r)] = a[0] if a else None
def scc(g):
    idx, low, st, on, out, n = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)
    def visit(v):
        idx[v] = low[v] = n[0]; n[0] += 1; st.append(v); on.add(v)
        for w in g.get(v, ()):
            if w not in idx:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], idx[w])
        if low[v] == idx[v]:
            c = []
            while True:
                w = st.pop(); on.discard(w); c.append(w)
                if w == v: break
            if len(c) > 1: out.append(sorted(c))
    for v in list(g):
        if v not in idx: visit(v)
    return out
hdr = {f: [i for i in incs if i in files] for f, incs in files.items() if f.endswith('.h')}
mod_of = {}
for f, incs in files.items():
    if f.endswith('.h'):
        mod_of[f] = f[:-2]
    elif first.get(f) in files:
        # a .c is the module of the header it includes first (its own)
        mod_of[f] = first[f][:-2]
    else:
        mod_of[f] = f[:-2]
mods = {}
for f, incs in files.items():
    m = mod_of[f]
    mods.setdefault(m, set()).update(mod_of[i] for i in incs if i in files and mod_of[i] != m)
bad = 0
for name, g in (('header', hdr), ('module', mods)):
    for c in scc(g):
        bad = 1
        print(f'{name} cycle: ' + ' <-> '.join(c))
print('no cycles' if not bad else '')
sys.exit(bad)
