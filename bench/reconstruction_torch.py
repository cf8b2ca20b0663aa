#!/usr/bin/python3
# The PyTorch side of bench/reconstruction.mjs: the same study pipeline (decode the HiRISE crops,
# tile them to 224², reflectance scaling, three band methods, Prithvi MAE with the same masks,
# per-sample model / RGB loss and display MSE / PSNR) with the same random weights, in plain
# PyTorch on the CPU. Prints one JSON line: tiles/s and the per-tile losses.
import json
import os
import re
import struct
import sys
import time

import numpy as np
import torch
from PIL import Image

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'fixtures', 'prithvi'))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'fixtures', 'reconstruction'))
from make_fixtures import MaskedAutoencoderViT  # noqa: E402
from make_expected import six_bands  # noqa: E402

CFG = dict(img_size=224, patch_size=16, num_frames=1, tubelet_size=1, in_chans=6, embed_dim=768, depth=12, num_heads=12,
           decoder_embed_dim=512, decoder_depth=8, decoder_num_heads=16, mlp_ratio=4.0, norm_pix_loss=False)
METHODS = ('means', 'prenorm-dup', 'postnorm-dup')
MEAN = np.array([775.2290211032589, 1080.992780391705, 1228.5855250417867])
STD = np.array([1281.526139861424, 1270.0297974547493, 1399.4802505642526])


def read_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        a, b = info['data_offsets']
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype='<f4').reshape(info['shape']).copy())
    return out


def main():
    out_dir, n_tiles, threads, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    images_dir = sys.argv[5]
    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    model = MaskedAutoencoderViT(**CFG).eval()
    state = {k: v for k, v in read_safetensors(os.path.join(out_dir, 'prithvi100m-random.safetensors')).items() if 'pos_embed' not in k}
    missing = model.load_state_dict(state, strict=False).missing_keys
    assert sorted(missing) == ['decoder_pos_embed', 'pos_embed'], missing
    load_seconds = time.perf_counter() - t0
    L = (224 // 16) ** 2
    noise_all = torch.from_numpy(np.fromfile(os.path.join(out_dir, 'noise.f32'), dtype='<f4').reshape(-1, L)[:n_tiles].copy())
    names = sorted((f for f in os.listdir(images_dir) if re.match(r'ESP_011472_1225_\d+_0\.jpg$', f)), key=lambda s: [int(t) if t.isdigit() else t for t in re.split(r'(\d+)', s)])

    t1 = time.perf_counter()
    tiles = []
    for name in names:
        rgb = np.asarray(Image.open(os.path.join(images_dir, name)).convert('RGB'))
        for r in range(rgb.shape[0] // 224):
            for c in range(rgb.shape[1] // 224):
                if len(tiles) < n_tiles:
                    tiles.append(rgb[r * 224:(r + 1) * 224, c * 224:(c + 1) * 224])
    per_tile = max(1, batch // len(METHODS))
    rows = []
    with torch.no_grad():
        for start in range(0, n_tiles, per_tile):
            chunk = tiles[start:start + per_tile]
            x = torch.from_numpy(np.stack([six_bands(t, m) for t in chunk for m in METHODS]))
            noise = noise_all[start:start + len(chunk)].repeat_interleave(len(METHODS), dim=0)
            latent, mask, ids = model.forward_encoder(x, 0.5, noise)
            pred = model.forward_decoder(latent, ids)
            target = model.patchify(x)
            err = (pred - target) ** 2
            sel = torch.tensor([k % 6 < 3 for k in range(err.shape[-1])])
            model_loss = (err.mean(-1) * mask).sum(-1) / mask.sum(-1)
            rgb_loss = (err[..., sel].mean(-1) * mask).sum(-1) / mask.sum(-1)
            # Display space: unpatchify, back to 8-bit RGB, visible patches from the original.
            img = pred.reshape(len(x), 14, 14, 16, 16, 6).permute(0, 5, 1, 3, 2, 4).reshape(len(x), 6, 224, 224)[:, :3].numpy().astype(np.float64)
            for s in range(len(x)):
                t = chunk[s // len(METHODS)]
                bgr = (img[s] * STD[:, None, None] + MEAN[:, None, None]) / ((MEAN + 2 * STD) / 255)[:, None, None]
                rec = np.clip(np.floor(bgr[::-1].transpose(1, 2, 0) + 0.5), 0, 255)
                m = mask[s].numpy().reshape(14, 14).repeat(16, 0).repeat(16, 1)[..., None] > 0
                comp = np.where(m, rec, t)
                mse = float(((comp - t) ** 2).mean())
                rows.append({'tile': start + s // len(METHODS), 'method': METHODS[s % len(METHODS)], 'model_loss': float(model_loss[s]),
                             'rgb_loss': float(rgb_loss[s]), 'display_mse': mse, 'psnr': 10 * np.log10(255 ** 2 / mse) if mse else 100.0})
    seconds = time.perf_counter() - t1
    print(json.dumps({'torch': torch.__version__, 'threads': threads, 'load_seconds': load_seconds, 'seconds': seconds,
                      'tiles_per_second': n_tiles / seconds, 'rows': rows}))


if __name__ == '__main__':
    main()
