"""GPU search for the shipped crater encoder (issue #11, item 7), in PyTorch on a GPU machine.

One process trains one candidate of the demo architecture (Prithvi layout, 128-d x 4 blocks, 6 bands,
patch 16, 128 px) in up to two phases, each given a wall-clock budget:
  mae  masked-autoencoder pre-training on random crops of all shared imagery (landmark tiles and CTX
       tiles; labels unused), mask 0.75, loss on the masked patches;
  ctx  supervised crater vs other on crops cut on the fly from the CTX crater catalogue (tiles A-G;
       tile H held out and reported), framed as bench/ctx-crater-crops.ts frames them, balanced batches;
then saves the encoder as safetensors (the app's key names) and evaluates it with a replica of the
app's "Demo model: crater vs rest" preset on bench/demo-model.ts's landmark splits (seeds and both
protocols, from bench/demo-search/splits.ts). The replica selects candidates; the app's own bench on
a CPU measures the chosen one (resources/models/README.md).

Input as the app builds it for this preset: grey tile resized to 128 px, standardised per tile
(mean 0, std 1; a flat tile is only shifted), the same plane in all six bands (post-norm duplication).

    python3 bench/demo-search/search.py --data .gpu-data --out OUT --name NAME --init demo|crater|random|FILE
        [--mae-seconds S] [--ctx-seconds S] [--ctx-lr 5e-4] [--ctx-batch 128] [--ctx-mask 0]
        [--mae-lr 1.5e-3] [--mae-batch 256] [--seeds 1-10] [--eval-steps 200] [--threads 2]
        [--preset-head uniform|linear-probe]   (default: the preset's headInit)
        [--preset-tta none|dihedral]           (default: the preset's tta)

Appends one JSON line per evaluation to OUT/results.jsonl. Tooling for making the shipped file,
never needed by the app.
"""
import argparse, io, json, math, os, struct, sys, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, '..', '..')
sys.path.insert(0, os.path.join(ROOT, 'tests', 'fixtures', 'prithvi'))
from make_fixtures import MaskedAutoencoderViT  # noqa: E402  (the fixtures' Prithvi re-implementation)

ap = argparse.ArgumentParser()
ap.add_argument('--data', required=True)
ap.add_argument('--out', required=True)
ap.add_argument('--name', required=True)
ap.add_argument('--init', default='demo')
ap.add_argument('--mae-seconds', type=float, default=0)
ap.add_argument('--mae-lr', type=float, default=1.5e-3)
ap.add_argument('--mae-batch', type=int, default=256)
ap.add_argument('--ctx-seconds', type=float, default=0)
ap.add_argument('--ctx-lr', type=float, default=5e-4)
ap.add_argument('--ctx-batch', type=int, default=128)
ap.add_argument('--ctx-mask', type=float, default=0.0)
ap.add_argument('--ctx-max-side', type=float, default=200)
ap.add_argument('--seeds', default='1-10')
ap.add_argument('--eval-steps', type=int, default=None, help="default: the preset's steps")
ap.add_argument('--eval-every', type=int, default=None, help="default: the preset's evaluation interval")
ap.add_argument('--threads', type=int, default=2)
# Preset variants to screen; unset, the replica follows the app's preset (from data.npz, splits.ts).
ap.add_argument('--preset-lr', type=float, default=None)
ap.add_argument('--preset-freeze', type=int, default=0, help='first K encoder blocks (and the patch embedding) frozen')
ap.add_argument('--preset-mask', type=float, default=None)
ap.add_argument('--preset-head', choices=['uniform', 'linear-probe'], default=None, help="the head's start (default: the preset's headInit)")
ap.add_argument('--preset-tta', choices=['none', 'dihedral'], default=None, help="test-time augmentation at evaluation (default: the preset's tta)")
ap.add_argument('--preset-seeds', default=None, help="fine-tuning seeds, each split run once per seed (default: the preset's seed)")
ap.add_argument('--tag', default='final')
ap.add_argument('--no-eval', action='store_true', help='train and save only (a smoke run)')
ap.add_argument('--seed', type=int, default=0)
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)
rng = np.random.RandomState(a.seed)
dev = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
if dev.type == 'cuda':
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
os.makedirs(a.out, exist_ok=True)
T0 = time.time()


def log(msg):
    line = f'[{a.name} {time.time() - T0:6.0f}s] {msg}'
    print(line, flush=True)


def emit(record):
    with open(os.path.join(a.out, 'results.jsonl'), 'a') as f:
        f.write(json.dumps({'name': a.name, **record}) + '\n')


# ---------------------------------------------------------------- safetensors (the app's format)
def read_safetensors(path):
    raw = open(path, 'rb').read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for k, v in header.items():
        if k == '__metadata__':
            continue
        s, e = v['data_offsets']
        out[k] = torch.from_numpy(np.frombuffer(raw[8 + n + s:8 + n + e], dtype='<f4').reshape(v['shape']).copy())
    return out


def write_safetensors(path, tensors):
    header, blobs, offset = {'__metadata__': {'format': 'marsfm-model/1'}}, [], 0
    for k, t in tensors.items():
        data = t.detach().float().cpu().contiguous().numpy().astype('<f4').tobytes()
        header[k] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))


# ---------------------------------------------------------------- model
DEMO = dict(img_size=128, patch_size=16, num_frames=1, tubelet_size=1, in_chans=6, embed_dim=128, depth=4, num_heads=4,
            decoder_embed_dim=64, decoder_depth=2, decoder_num_heads=4, mlp_ratio=4.0, norm_pix_loss=False)
model = MaskedAutoencoderViT(**DEMO)
init = {'demo': 'resources/models/marsfm-demo.safetensors', 'crater': 'resources/models/marsfm-demo-crater.safetensors'}.get(a.init, a.init)
if a.init != 'random':
    sd = read_safetensors(os.path.join(ROOT, init) if not os.path.isabs(init) else init)
    missing, unexpected = model.load_state_dict(sd, strict=False)
    assert not unexpected, unexpected
    assert all(k.startswith(('decoder', 'mask_token', 'pos_embed')) for k in missing), missing
model = model.to(dev)
L = model.patch_embed.num_patches
ENCODER_KEYS = [k for k in model.state_dict() if not k.startswith(('decoder', 'mask_token')) and k != 'pos_embed']


def encode(m, x, keep=None):
    """x [B, 6, 1, H, W] -> normalised tokens [B, 1 + kept, D]; `keep` [B, k] patch indices or all."""
    # The Conv3d patch embedding as one matrix product (same weights; much faster on a CPU).
    n, c, _, hh, ww = x.shape
    p = DEMO['patch_size']
    patches = x.reshape(n, c, hh // p, p, ww // p, p).permute(0, 2, 4, 1, 3, 5).reshape(n, (hh // p) * (ww // p), c * p * p)
    w = m.patch_embed.proj.weight
    t = F.linear(patches, w.reshape(w.shape[0], -1), m.patch_embed.proj.bias) + m.pos_embed[:, 1:, :]
    if keep is not None:
        t = torch.gather(t, 1, keep.unsqueeze(-1).expand(-1, -1, t.shape[2]))
    cls = (m.cls_token + m.pos_embed[:, :1, :]).expand(t.shape[0], -1, -1)
    t = torch.cat([cls, t], dim=1)
    for blk in m.blocks:
        t = blk(t)
    return m.norm(t)


def random_keep(n, ratio):
    noise = torch.rand(n, L, device=dev)
    shuffle = noise.argsort(dim=1)
    return shuffle[:, :int(L * (1 - ratio))], shuffle.argsort(dim=1)


def to_input(grey):
    """grey [B, H, W] float 0..255 -> [B, 6, 1, H, W]: per-tile standardisation, six equal bands."""
    mean = grey.mean(dim=(1, 2), keepdim=True)
    std = grey.std(dim=(1, 2), unbiased=False, keepdim=True).clamp(min=1.0)
    z = (grey - mean) / std
    return z[:, None, None].expand(-1, 6, 1, -1, -1).contiguous()


def augment(g):
    """Random flips and quarter turns per image, g [B, H, W]."""
    b = g.shape[0]
    g = torch.where(torch.rand(b, 1, 1, device=dev) < 0.5, g.flip(2), g)
    g = torch.where(torch.rand(b, 1, 1, device=dev) < 0.5, g.flip(1), g)
    return torch.where(torch.rand(b, 1, 1, device=dev) < 0.5, g.transpose(1, 2), g)


def auc(y, s):
    order = np.argsort(s, kind='mergesort')
    ranks = np.empty(len(s))
    ranks[order] = np.arange(1, len(s) + 1)
    # ties share their mean rank
    _, inv, counts = np.unique(s, return_inverse=True, return_counts=True)
    sums = np.bincount(inv, weights=ranks)
    ranks = (sums / counts)[inv]
    n1 = y.sum()
    n0 = len(y) - n1
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def balanced_accuracy(y, s):
    p = s >= 0
    return float(((p & (y == 1)).sum() / max(1, (y == 1).sum()) + ((~p) & (y == 0)).sum() / max(1, (y == 0).sum())) / 2)


def lr_at(frac, peak, warm=0.03):
    return peak * (frac / warm if frac < warm else 0.5 * (1 + math.cos(math.pi * min(1.0, (frac - warm) / (1 - warm)))))


# ---------------------------------------------------------------- data
data = np.load(os.path.join(a.data, 'data.npz'))
lm_tiles = torch.tensor(data['lm_tiles'], device=dev, dtype=torch.float32)  # [N, 128, 128]
lm_labels = data['lm_labels'].astype(np.int64)
lm_obs = np.array([n.split('_RED-')[0] for n in data['lm_names']])
spec = json.loads(str(data['splits']))
if 'preset' not in spec:
    raise SystemExit('data.npz predates the preset settings: re-run bench/demo-search/splits.ts and pack.py')
splits, P = spec['seeds'], spec['preset']
a.eval_steps = a.eval_steps if a.eval_steps is not None else P['steps']
a.eval_every = a.eval_every if a.eval_every is not None else P['evalEvery']
a.preset_lr = a.preset_lr if a.preset_lr is not None else P['lr']
a.preset_mask = a.preset_mask if a.preset_mask is not None else P['maskRatio']
a.preset_head = a.preset_head if a.preset_head is not None else P.get('headInit', 'uniform')
a.preset_tta = a.preset_tta if a.preset_tta is not None else P.get('tta', 'none')
a.preset_seeds = a.preset_seeds if a.preset_seeds is not None else str(P['seed'])
ctx_levels, ctx_boxes = {}, {}
for t in 'ABCDEFGH':
    img = np.asarray(Image.open(io.BytesIO(data[f'ctx_png_{t}'].tobytes())).convert('L'), dtype=np.float32)
    level = torch.tensor(img, device=dev)[None, None]
    pyramid = [level]
    for _ in range(4):  # 2x box-filtered levels, so large crops are not aliased
        pyramid.append(F.avg_pool2d(pyramid[-1], 2))
    ctx_levels[t] = pyramid
    b = data[f'ctx_boxes_{t}']
    ctx_boxes[t] = np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2, np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])], 1)
log(f'{len(lm_labels)} landmark tiles, CTX tiles {list(ctx_levels)}, device {dev}')


def cut(tile, crops, size=128):
    """crops [n, 3] (x, y, side) in tile pixels -> [n, size, size] grey, from the pyramid level that fits."""
    out = torch.empty(len(crops), size, size, device=dev)
    side = crops[:, 2]
    lv = np.clip(np.floor(np.log2(np.maximum(side / size, 1.0))), 0, 4).astype(int)
    u = (torch.arange(size, device=dev, dtype=torch.float32) + 0.5) / size
    for level in np.unique(lv):
        idx = np.nonzero(lv == level)[0]
        img = ctx_levels[tile][level]
        H, W = img.shape[2:]
        c = torch.tensor(crops[idx], device=dev, dtype=torch.float32) / (2 ** level)
        gx = (c[:, 0:1] + u[None] * c[:, 2:3]) / W * 2 - 1  # [k, size]
        gy = (c[:, 1:2] + u[None] * c[:, 2:3]) / H * 2 - 1
        grid = torch.stack([gx[:, None, :].expand(-1, size, -1), gy[:, :, None].expand(-1, -1, size)], dim=-1)
        out[idx] = F.grid_sample(img.expand(len(idx), -1, -1, -1), grid, mode='bilinear', align_corners=False)[:, 0]
    return out


def crater_crops(tile, per_crater, r):
    """Crops framing a crater of >= 16 px (1.6-3x its size, shifted up to 15 %), inside the tile."""
    b = ctx_boxes[tile]
    b = np.repeat(b[b[:, 2] >= 16], per_crater, axis=0)
    side = b[:, 2] * r.uniform(1.6, 3, len(b))
    x = b[:, 0] + r.uniform(-0.15, 0.15, len(b)) * side - side / 2
    y = b[:, 1] + r.uniform(-0.15, 0.15, len(b)) * side - side / 2
    ok = (x >= 0) & (y >= 0) & (x + side <= 2000) & (y + side <= 2000)
    return np.stack([x, y, side], 1)[ok]


def other_crops(tile, n, r, max_side):
    """Squares of 30..max_side px holding no crater centre larger than 12 % of their side."""
    b = ctx_boxes[tile]
    found = []
    while sum(len(f) for f in found) < n:
        side = r.uniform(30, max_side, 4 * n)
        x = r.uniform(0, 1, 4 * n) * (2000 - side)
        y = r.uniform(0, 1, 4 * n) * (2000 - side)
        bad = np.zeros(len(side), bool)
        for i in range(0, len(side), 2048):
            s = slice(i, i + 2048)
            inside = (b[None, :, 0] > x[s, None]) & (b[None, :, 0] < x[s, None] + side[s, None]) & \
                     (b[None, :, 1] > y[s, None]) & (b[None, :, 1] < y[s, None] + side[s, None]) & (b[None, :, 2] > 0.12 * side[s, None])
            bad[s] = inside.any(1)
        found.append(np.stack([x, y, side], 1)[~bad])
    return np.concatenate(found)[:n]


# ---------------------------------------------------------------- phase: masked-autoencoder pre-training
def mae_batch(n):
    """Half landmark tiles (random crops of 50-100 % of the side), half CTX crops of 64-512 px."""
    k = n // 2
    idx = torch.randint(0, len(lm_labels), (k,), device=dev)
    frac = torch.empty(k, device=dev).uniform_(0.5, 1.0)
    ox = torch.rand(k, device=dev) * (1 - frac)
    oy = torch.rand(k, device=dev) * (1 - frac)
    u = (torch.arange(128, device=dev, dtype=torch.float32) + 0.5) / 128
    gx = (ox[:, None] + u[None] * frac[:, None]) * 2 - 1
    gy = (oy[:, None] + u[None] * frac[:, None]) * 2 - 1
    grid = torch.stack([gx[:, None, :].expand(-1, 128, -1), gy[:, :, None].expand(-1, -1, 128)], dim=-1)
    lm = F.grid_sample(lm_tiles[idx][:, None], grid, mode='bilinear', align_corners=False)[:, 0]
    tiles = rng.choice(list('ABCDEFGH'), n - k)
    parts = []
    for t in np.unique(tiles):
        m = int((tiles == t).sum())
        side = np.exp(rng.uniform(np.log(64), np.log(512), m))
        parts.append(cut(t, np.stack([rng.uniform(0, 1, m) * (2000 - side), rng.uniform(0, 1, m) * (2000 - side), side], 1)))
    return augment(torch.cat([lm] + parts))


def mae_phase(seconds):
    opt = torch.optim.AdamW(model.parameters(), lr=a.mae_lr, betas=(0.9, 0.95), weight_decay=0.05)
    model.train()
    start, step, ema = time.time(), 0, None
    while time.time() - start < seconds:
        for g in opt.param_groups:
            g['lr'] = lr_at((time.time() - start) / seconds, a.mae_lr)
        x = to_input(mae_batch(a.mae_batch))
        keep, restore = random_keep(x.shape[0], 0.75)
        pred = model.forward_decoder(encode(model, x, keep), restore)
        mask = torch.ones(x.shape[0], L, device=dev)
        mask[:, :keep.shape[1]] = 0
        mask = torch.gather(mask, 1, restore)
        loss = ((((pred - model.patchify(x)) ** 2).mean(-1)) * mask).sum() / mask.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        ema = loss.item() if ema is None else (0.98 * ema + 0.02 * loss.item() if step % 20 == 0 else ema)
        if step % 500 == 0:
            log(f'mae step {step} loss {ema:.4f}')
    log(f'mae done: {step} steps of {a.mae_batch}, loss {ema:.4f}')
    emit({'phase': 'mae', 'steps': step, 'batch': a.mae_batch, 'loss': ema, 'seconds': time.time() - start})


# ---------------------------------------------------------------- phase: supervised CTX crater stage
def ctx_pool(tiles, r, per_crater, max_side):
    pos = {t: crater_crops(t, per_crater, r) for t in tiles}
    neg = {t: other_crops(t, max(len(pos[t]), 1), r, max_side) for t in tiles}
    return pos, neg


def ctx_validation():
    r = np.random.RandomState(1)
    pos = crater_crops('H', 3, r)
    neg = other_crops('H', len(pos), r, 200)
    return torch.cat([cut('H', pos), cut('H', neg)]), np.r_[np.ones(len(pos)), np.zeros(len(neg))].astype(np.int64)


def classify(m, head, x, keep=None, drop=0.0):
    z = encode(m, x, keep)[:, 1:].mean(dim=1)
    return head(F.dropout(z, drop, m.training)).squeeze(1)


def scores(m, head, grey):
    # The preset's test-time augmentation: the mean logit of the 8 orientations (quarter turns, each with and without a flip).
    views = [(k, f) for k in range(4) for f in (False, True)] if a.preset_tta == 'dihedral' else [(0, False)]
    m.eval()
    with torch.no_grad():
        def view(g, k, f):
            g = torch.rot90(g, k, dims=(1, 2))
            return torch.flip(g, dims=(2,)) if f else g
        s = torch.cat([sum(classify(m, head, to_input(view(grey[i:i + 512], k, f))) for k, f in views) / len(views) for i in range(0, len(grey), 512)])
    m.train()
    return s.cpu().numpy()


def ctx_phase(seconds):
    r = np.random.RandomState(a.seed + 11)
    train_tiles = list('ABCDEFG')
    pos, neg = ctx_pool(train_tiles, r, 40, a.ctx_max_side)
    log('ctx pool: ' + ', '.join(f'{t} {len(pos[t])}/{len(neg[t])}' for t in train_tiles))
    pos_all = [(t, c) for t in train_tiles for c in pos[t]]
    neg_all = [(t, c) for t in train_tiles for c in neg[t]]
    vx, vy = ctx_validation()
    head = nn.Linear(DEMO['embed_dim'], 1).to(dev)
    params = list(model.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=a.ctx_lr, weight_decay=0.05)
    model.train()
    start, step, ema = time.time(), 0, None
    next_eval = 0.25
    while time.time() - start < seconds:
        frac = (time.time() - start) / seconds
        for g in opt.param_groups:
            g['lr'] = lr_at(frac, a.ctx_lr)
        half = a.ctx_batch // 2
        pick = [pos_all[i] for i in r.randint(0, len(pos_all), half)] + [neg_all[i] for i in r.randint(0, len(neg_all), half)]
        grey = torch.empty(len(pick), 128, 128, device=dev)
        by_tile = {}
        for i, (t, c) in enumerate(pick):
            by_tile.setdefault(t, []).append((i, c))
        for t, items in by_tile.items():
            grey[[i for i, _ in items]] = cut(t, np.array([c for _, c in items]))
        y = torch.cat([torch.ones(half, device=dev), torch.zeros(half, device=dev)])
        x = to_input(augment(grey))
        keep = random_keep(len(x), a.ctx_mask)[0] if a.ctx_mask > 0 else None
        loss = F.binary_cross_entropy_with_logits(classify(model, head, x, keep, 0.5), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        ema = loss.item() if ema is None else (0.98 * ema + 0.02 * loss.item() if step % 20 == 0 else ema)
        if frac >= next_eval:
            s = scores(model, head, vx)
            log(f'ctx step {step} loss {ema:.4f}, CTX tile H AUC {auc(vy, s):.3f}')
            next_eval += 0.25
    s = scores(model, head, vx)
    result = {'phase': 'ctx', 'steps': step, 'batch': a.ctx_batch, 'loss': ema, 'ctx_h_auc': auc(vy, s),
              'ctx_h_balanced_accuracy': balanced_accuracy(vy, s), 'seconds': time.time() - start}
    log(f'ctx done: {result}')
    emit(result)


# ---------------------------------------------------------------- the preset's replica on landmark splits
def seeds_of(spec):
    if '-' in spec:
        lo, hi = spec.split('-')
        return list(range(int(lo), int(hi) + 1))
    return [int(s) for s in spec.split(',')]


def probe_head(m, head, tr, y):
    """LP-FT as the app's headInit 'linear-probe' does it: logistic regression with balanced class weights
    and L2 1e-2 (weights only) on the standardised mean-pooled features of the training tiles (no
    augmentation, eval mode), fitted by L-BFGS, folded into the head. (The app takes at most 2,048 tiles;
    the landmark splits have fewer.)"""
    m.eval()
    with torch.no_grad():
        z = torch.cat([encode(m, to_input(lm_tiles[tr[i:i + 512]]))[:, 1:].mean(dim=1) for i in range(0, len(tr), 512)]).double()
    m.train()
    yt = torch.tensor(y[tr], device=dev, dtype=torch.float64)
    mean, sd = z.mean(dim=0), z.std(dim=0, unbiased=False)
    sd = torch.where(sd > 1e-12, sd, torch.ones_like(sd))
    zs = (z - mean) / sd
    share = yt.mean()
    w = torch.where(yt > 0, 0.5 / share, 0.5 / (1 - share))
    w = w / w.sum()
    # The app's probe is a two-class softmax (the penalty on both columns); the head is the logit difference.
    W = torch.zeros(zs.shape[1] + 1, 2, device=dev, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([W], max_iter=500, history_size=10, tolerance_grad=1e-7, line_search_fn='strong_wolfe')
    target = yt.long()

    def closure():
        opt.zero_grad()
        logits = zs @ W[:-1] + W[-1]
        loss = (w * F.cross_entropy(logits, target, reduction='none')).sum() + 0.5 * 1e-2 * (W[:-1] ** 2).sum()
        loss.backward()
        return loss
    opt.step(closure)
    with torch.no_grad():
        d = (W[:-1, 1] - W[:-1, 0]) / sd
        head.weight.copy_(d.float()[None])
        head.bias.copy_((W[-1, 1] - W[-1, 0] - (d * mean).sum()).float()[None])


def preset_run(encoder_state, seed, edges, fseed):
    valid_obs = set(splits[str(seed)]['edges' if edges else 'noEdges'])
    keep_tile = np.ones(len(lm_labels), bool) if edges else lm_labels != 6
    is_valid = np.array([o in valid_obs for o in lm_obs]) & keep_tile
    is_train = ~np.array([o in valid_obs for o in lm_obs]) & keep_tile
    y = (lm_labels == 1).astype(np.int64)
    tr, va = np.nonzero(is_train)[0], np.nonzero(is_valid)[0]
    m = MaskedAutoencoderViT(**DEMO).to(dev)
    m.load_state_dict(encoder_state, strict=False)
    torch.manual_seed(fseed)
    r = np.random.RandomState(fseed)
    head = nn.Linear(DEMO['embed_dim'], 1).to(dev)
    if a.preset_head == 'linear-probe':
        probe_head(m, head, tr, y)
    frozen = ('decoder', 'mask_token') + (('patch_embed', 'cls_token') + tuple(f'blocks.{i}.' for i in range(a.preset_freeze)) if a.preset_freeze else ())
    params = [p for n, p in m.named_parameters() if not n.startswith(frozen)] + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=a.preset_lr, weight_decay=P['weightDecay'])
    share = y[tr].mean()
    w_pos, w_neg = 0.5 / share, 0.5 / (1 - share)
    yt = torch.tensor(y, device=dev, dtype=torch.float32)
    order, cursor, evals = r.permutation(tr), 0, []
    warm, batch = P['warmupSteps'], P['batchSize']
    m.train()
    for step in range(1, a.eval_steps + 1):
        lr = a.preset_lr * (step / warm if step <= warm else 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, a.eval_steps - warm))))
        for g in opt.param_groups:
            g['lr'] = lr
        if cursor + batch > len(order):
            order, cursor = r.permutation(tr), 0
        idx = order[cursor:cursor + batch]
        cursor += batch
        x = to_input(augment(lm_tiles[idx]))
        keep = random_keep(len(idx), a.preset_mask)[0] if a.preset_mask > 0 else None
        yb = yt[idx]
        loss = F.binary_cross_entropy_with_logits(classify(m, head, x, keep, P['dropout']), yb, weight=yb * w_pos + (1 - yb) * w_neg)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % a.eval_every == 0 or step == a.eval_steps:
            s = scores(m, head, lm_tiles[va])
            evals.append((balanced_accuracy(y[va], s), auc(y[va], s)))
    best = evals[0]
    for e in evals[1:]:
        if e[0] > best[0]:
            best = e
    return {'seed': seed, 'fseed': fseed, 'edges': edges, 'valid': [int((y[va] == 0).sum()), int((y[va] == 1).sum())],
            'auc': best[1], 'balanced_accuracy': best[0], 'last_auc': evals[-1][1]}


def evaluate(tag):
    state = {k: v.detach().clone() for k, v in model.state_dict().items() if k in ENCODER_KEYS}
    for edges in (True, False):
        rows = []
        for fseed in seeds_of(a.preset_seeds):
            for seed in seeds_of(a.seeds):
                rows.append(preset_run(state, seed, edges, fseed))
        aucs = [r['auc'] for r in rows]
        summary = {'phase': 'eval', 'tag': tag, 'preset': {'lr': a.preset_lr, 'steps': a.eval_steps, 'freeze': a.preset_freeze, 'mask': a.preset_mask, 'head': a.preset_head, 'tta': a.preset_tta}, 'edges': edges, 'mean_auc': float(np.mean(aucs)), 'min_auc': float(np.min(aucs)),
                   'at_least_085': int(sum(x >= 0.85 for x in aucs)), 'rows': rows}
        log(f'eval {tag} edges={edges}: mean AUC {summary["mean_auc"]:.3f}, min {summary["min_auc"]:.3f}, '
            f'>= 0.85 on {summary["at_least_085"]}/{len(aucs)}: ' + ' '.join(f'{x:.3f}' for x in aucs))
        emit(summary)


try:
    if a.mae_seconds > 0:
        mae_phase(a.mae_seconds)
    if a.ctx_seconds > 0:
        ctx_phase(a.ctx_seconds)
    if a.mae_seconds > 0 or a.ctx_seconds > 0:
        write_safetensors(os.path.join(a.out, f'{a.name}.safetensors'), {k: v for k, v in model.state_dict().items() if k in ENCODER_KEYS})
        log('saved')
    if not a.no_eval:
        evaluate(a.tag)
except Exception as e:  # one candidate's failure must not hide the others' results
    import traceback
    traceback.print_exc()
    emit({'phase': 'error', 'error': repr(e)})
    raise
