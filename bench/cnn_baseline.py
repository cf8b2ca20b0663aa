"""Baseline for bench/demo-model.ts: a 4-block CNN trained from scratch in PyTorch on the same
ImageFolder split (train/, valid/; the positive class is the folder whose name means crater), for
a fixed wall time. Prints one JSON line: AUC and balanced accuracy on valid/, steps done.

    /usr/bin/python3 bench/cnn_baseline.py FOLDER --seconds 150 [--threads 2] [--size 128] [--seed 0]

Input as the demo preset sees it: greyscale, resized, each tile standardised on its own; random
flips and quarter turns; balanced class weights; AdamW lr 1e-3. Benchmark only, never shipped.
"""
import argparse, json, os, random, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

ap = argparse.ArgumentParser()
ap.add_argument('folder')
ap.add_argument('--seconds', type=float, default=150)
ap.add_argument('--threads', type=int, default=2)
ap.add_argument('--size', type=int, default=128)
ap.add_argument('--seed', type=int, default=0)
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)
rng = np.random.RandomState(a.seed)


def load(split):
    xs, ys = [], []
    for cls in sorted(os.listdir(os.path.join(a.folder, split))):
        positive = 'crater' in cls.lower() and not cls.lower().startswith(('no', 'non'))
        d = os.path.join(a.folder, split, cls)
        for f in sorted(os.listdir(d)):
            img = Image.open(os.path.join(d, f)).convert('L').resize((a.size, a.size), Image.BILINEAR)
            xs.append(np.asarray(img, dtype=np.float32) / 255.0)
            ys.append(1 if positive else 0)
    x = torch.tensor(np.stack(xs)).unsqueeze(1)
    # Each tile standardised on its own: observations are stretched differently.
    x = (x - x.mean(dim=(2, 3), keepdim=True)) / (x.std(dim=(2, 3), keepdim=True) + 1e-6)
    return x, np.array(ys)


def auc(y, s):
    order = np.argsort(s, kind='mergesort')
    ranks = np.empty(len(s))
    ranks[order] = np.arange(1, len(s) + 1)
    n1 = y.sum()
    n0 = len(y) - n1
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


xt, yt = load('train')
xv, yv = load('valid')
layers, c = [], 1
for width in (32, 64, 128, 128):
    layers += [nn.Conv2d(c, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2)]
    c = width
net = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.5), nn.Linear(c, 1))
opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.05)
share = yt.mean()
start, steps = time.time(), 0
while time.time() - start < a.seconds:
    idx = rng.randint(0, len(yt), 32)
    xb = xt[idx]
    if rng.rand() < 0.5:
        xb = xb.flip(3)
    if rng.rand() < 0.5:
        xb = xb.flip(2)
    xb = torch.rot90(xb, int(rng.randint(4)), (2, 3))
    yb = torch.tensor(yt[idx], dtype=torch.float32)
    weight = yb * 0.5 / share + (1 - yb) * 0.5 / (1 - share)
    loss = F.binary_cross_entropy_with_logits(net(xb).squeeze(1), yb, weight=weight)
    opt.zero_grad()
    loss.backward()
    opt.step()
    steps += 1
net.eval()
with torch.no_grad():
    s = torch.cat([net(xv[i:i + 128]).squeeze(1) for i in range(0, len(yv), 128)]).numpy()
pred = s > 0
bal = 0.5 * (pred[yv == 1].mean() + (~pred[yv == 0]).mean())
print(json.dumps({'auc': auc(yv, s), 'balanced_accuracy': float(bal), 'steps': steps, 'seconds': time.time() - start}))
