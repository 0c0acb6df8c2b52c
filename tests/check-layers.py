#!/usr/bin/python3
"""check-layers: no file of libhiveport or of the hiveport command calls upward.

The layers are listed once, lowest first, in lib/layers.  From the object files of a build (nm), this
fails when a file uses a symbol defined in a higher layer, when two files of one layer call each other in
a circle, or when the command (tools/) uses a library symbol that is not public (hiveport_*).

usage: check-layers.py [--all-objects] BUILD_DIR [LAYERS_FILE]
Objects whose source file is gone (left in a build directory by an older tree) are not read, unless
--all-objects (the negative test plants objects that have no source).
"""
import os
import subprocess
import sys


def layers_of(path):
    order = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                order.append(line.split()[0])
    return order


def symbols(obj):
    out = subprocess.run(["nm", "-g", obj], check=True, capture_output=True, text=True).stdout
    defined, used = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            used.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBRVWC":
            defined.add(parts[2])
    return defined, used


def cycles(nodes, edges):
    """Strongly connected components of more than one file (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return found


def main():
    args = sys.argv[1:]
    all_objects = bool(args) and args[0] == "--all-objects"
    if all_objects:
        args = args[1:]
    if len(args) not in (1, 2):
        sys.exit(__doc__)
    build = args[0]
    order = layers_of(args[1] if len(args) == 2 else "lib/layers")
    rank = {layer: i for i, layer in enumerate(order)}
    files = {}  # object path relative to build, without .o -> (layer, defined, used)
    for layer in order:
        d = os.path.join(build, layer)
        if not os.path.isdir(d):
            sys.exit("check-layers: %s: no objects (build first)" % d)
        for name in sorted(os.listdir(d)):
            if name.endswith(".o") and (all_objects or os.path.exists(os.path.join(layer, name[:-2] + ".c"))):
                obj = os.path.join(d, name)
                files[os.path.join(layer, name[:-2])] = (layer,) + symbols(obj)
    owner = {}
    for f, (layer, defined, _) in files.items():
        for s in defined:
            owner.setdefault(s, f)
    problems = []
    edges = {}
    for f, (layer, _, used) in files.items():
        for s in sorted(used):
            g = owner.get(s)
            if g is None or g == f:
                continue
            glayer = files[g][0]
            if f.startswith("tools/") and glayer.startswith("lib/"):
                if not s.startswith("hiveport_"):
                    problems.append("%s uses %s of %s: the command sees only the public hiveport_* API" % (f, s, g))
                continue
            if rank[glayer] > rank[layer]:
                problems.append("%s (%s) calls %s of %s, a higher layer (%s)" % (f, layer, s, g, glayer))
            elif glayer == layer:
                edges.setdefault(f, set()).add(g)
    for comp in cycles(files.keys(), edges):
        problems.append("a circle inside %s: %s" % (files[comp[0]][0], " <-> ".join(comp)))
    for p in problems:
        print("check-layers: " + p)
    print("check-layers: %d files in %d layers, %d problem%s" % (len(files), len(order), len(problems),
                                                              "" if len(problems) == 1 else "s"))
    sys.exit(1 if problems else 0)


main()
