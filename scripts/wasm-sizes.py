#!/usr/bin/env python3
# Where a wasm module's bytes go, by function and by crate, from its name section.
# Usage (the button module, names kept):
#   wasm-bindgen --target web --out-dir /tmp/wb --keep-debug target/wasm32-unknown-unknown/widget-release/tweetbuy.wasm
#   wasm-opt -Oz -g --enable-bulk-memory --enable-nontrapping-float-to-int --enable-reference-types /tmp/wb/tweetbuy_bg.wasm -o /tmp/opt.wasm
#   scripts/wasm-sizes.py /tmp/opt.wasm 40
# The checkout module the same way from tweetbuy-checkout.wasm, with index.html's flags
# (-Os --converge). Names are those wasm-opt kept: a function it merged with an identical
# one carries one of their names, so read a large odd name (window_event_listener holding
# a serde derive's body) as "some code of this size", and check with the un-optimized
# wasm-bindgen output, whose names are exact.
import sys, re, collections
data = open(sys.argv[1], 'rb').read()
def leb(b, i):
    r = s = 0
    while True:
        x = b[i]; i += 1; r |= (x & 0x7f) << s; s += 7
        if x < 0x80: return r, i
i = 8; secs = []
while i < len(data):
    sid = data[i]; i += 1; size, i = leb(data, i); secs.append((sid, i, size)); i += size
nimports = 0; bodies = []; names = {}; datasz = 0
for sid, off, size in secs:
    b = data[off:off+size]
    if sid == 2:
        n, j = leb(b, 0)
        for _ in range(n):
            l, j = leb(b, j); j += l; l, j = leb(b, j); j += l
            kind = b[j]; j += 1
            if kind == 0: _, j = leb(b, j); nimports += 1
            elif kind == 1: j += 1; fl, j = leb(b, j); _, j = leb(b, j); j = leb(b, j)[1] if fl & 1 else j
            elif kind == 2: fl, j = leb(b, j); _, j = leb(b, j); j = leb(b, j)[1] if fl & 1 else j
            elif kind == 3: j += 2
    elif sid == 10:
        n, j = leb(b, 0)
        for k in range(n):
            l, j2 = leb(b, j); bodies.append(l + (j2 - j)); j = j2 + l
    elif sid == 11: datasz = size
    elif sid == 0:
        l, j = leb(b, 0); nm = b[j:j+l].decode(); j += l
        if nm == 'name':
            while j < len(b):
                sub = b[j]; j += 1; sz, j = leb(b, j); end = j + sz
                if sub == 1:
                    n, j = leb(b, j)
                    for _ in range(n):
                        idx, j = leb(b, j); l, j = leb(b, j); names[idx] = b[j:j+l].decode('utf8', 'replace'); j += l
                j = end
print('code', sum(bodies), 'data', datasz, 'funcs', len(bodies))
rows = sorted(((sz, names.get(nimports + k, '?')) for k, sz in enumerate(bodies)), reverse=True)
def crate(n):
    n = re.sub(r'^_?ZN?\d*', '', n)
    m = re.match(r'<?&?(?:<)?([a-z_0-9]+)(::|\.\.)', n)
    return m.group(1) if m else n[:30]
agg = collections.Counter()
for sz, n in rows: agg[crate(n)] += sz
for c, sz in agg.most_common(25): print(f'{sz:8} {c}')
print('---')
for sz, n in rows[:int(sys.argv[2]) if len(sys.argv) > 2 else 40]: print(f'{sz:8} {n[:150]}')
