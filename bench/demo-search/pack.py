"""Packs what the GPU model search (bench/demo-search/search.py) reads into one folder, small enough
to travel to a GPU machine: the HiRISE landmark tiles resized to 128 px (uint8, with labels and
observation ids), the eight CTX tiles as their PNG bytes with their consensus crater boxes, and
OUT/splits.json (bench/demo-search/splits.ts: the bench's splits and the preset's settings). Reads ../shared/data; writes OUT/data.npz.

    /usr/bin/python3 bench/demo-search/pack.py OUT [--size 128]
"""
import os, re, sys
import numpy as np
from PIL import Image

out = sys.argv[1]
size = int(sys.argv[sys.argv.index('--size') + 1]) if '--size' in sys.argv else 128
here = os.path.dirname(os.path.abspath(__file__))
shared = os.path.join(here, '..', '..', '..', 'shared', 'data')
lm = os.path.join(shared, 'hirise-landmarks-v1')
names, labels, tiles = [], [], []
for line in open(os.path.join(lm, 'labels-map-proj.txt')).read().split('\n'):
    parts = line.split()
    if len(parts) != 2:
        continue
    img = Image.open(os.path.join(lm, 'map-proj', parts[0])).convert('L').resize((size, size), Image.BILINEAR)
    names.append(parts[0])
    labels.append(int(parts[1]))
    tiles.append(np.asarray(img, dtype=np.uint8))
ctx = os.path.join(shared, 'ctx-crater-catalogue')
pngs, boxes = {}, {}
for f in sorted(os.listdir(os.path.join(ctx, 'annotations', 'clustered'))):
    stem = f[:-4]
    tile = stem.split('-')[-1]
    pngs[tile] = np.frombuffer(open(os.path.join(ctx, 'images', stem + '.png'), 'rb').read(), dtype=np.uint8)
    xml = open(os.path.join(ctx, 'annotations', 'clustered', f)).read()
    rows = []
    for m in re.finditer(r'<bndbox>([\s\S]*?)</bndbox>', xml):
        v = [float(re.search(r'<%s>\s*([\d.]+)\s*</%s>' % (k, k), m.group(1)).group(1)) for k in ('xmin', 'ymin', 'xmax', 'ymax')]
        rows.append(v)
    boxes[tile] = np.array(rows, dtype=np.float32)
os.makedirs(out, exist_ok=True)
# Required: without it the search could not evaluate on the bench's splits.
splits = open(os.path.join(out, 'splits.json')).read()
np.savez_compressed(os.path.join(out, 'data.npz'), lm_tiles=np.stack(tiles), lm_labels=np.array(labels, dtype=np.int8),
                    lm_names=np.array(names), splits=np.array(splits),
                    **{f'ctx_png_{t}': b for t, b in pngs.items()}, **{f'ctx_boxes_{t}': b for t, b in boxes.items()})
print(f'{len(names)} landmark tiles at {size} px, CTX tiles {sorted(pngs)}; {os.path.getsize(os.path.join(out, "data.npz")) / 2**20:.1f} MiB')
