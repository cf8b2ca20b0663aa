"""PyTorch baseline for the benchmarks (Debian's python3-torch): the Prithvi MAE from the test
fixtures' independent re-implementation, at full Prithvi-100M size with random weights.

  python3 bench/torch_prithvi.py mae-forward --threads 2 --iters 3 --batch 1 --mask-ratio 0.5
  python3 bench/torch_prithvi.py encoder-forward --size 100m|demo --threads 2 --iters 3 --batch 4
  python3 bench/torch_prithvi.py save <path.pt>        # a 450 MB state dict, as torch.save writes it
  python3 bench/torch_prithvi.py load <path.pt>        # time torch.load of it

Prints one JSON line. Used only by bench/*.ts; the product never needs Python.
"""
import json
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'tests', 'fixtures', 'prithvi'))
from make_fixtures import MaskedAutoencoderViT  # noqa: E402

PRITHVI_100M = dict(img_size=224, patch_size=16, num_frames=1, tubelet_size=1, in_chans=6, embed_dim=768, depth=12,
                    num_heads=12, decoder_embed_dim=512, decoder_depth=8, decoder_num_heads=16, mlp_ratio=4.0,
                    norm_pix_loss=False)


def arg(name, default):
    return type(default)(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def reset_peak_rss():
    # A child inherits its parent's RSS high-water mark on Linux; reset it (see bench/peak-rss.ts).
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
    except OSError:
        pass


def peak_rss_bytes():
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def mae_forward():
    reset_peak_rss()
    torch.set_num_threads(arg('--threads', 2))
    torch.manual_seed(0)
    batch, iters, ratio = arg('--batch', 1), arg('--iters', 3), arg('--mask-ratio', 0.5)
    # CUDA in fp32 (TF32 off: WebGPU computes in fp32) when a GPU is present, else the CPU.
    cuda = torch.cuda.is_available() and arg('--device', 'auto') != 'cpu'
    device = torch.device('cuda' if cuda else 'cpu')
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    model = MaskedAutoencoderViT(**PRITHVI_100M).eval().to(device)
    x = torch.randn(batch, 6, 1, 224, 224, device=device)
    L = 196
    with torch.no_grad():
        model(x, ratio, torch.rand(batch, L, device=device))  # warm-up
        sync()
        times = []
        for _ in range(iters):
            noise = torch.rand(batch, L, device=device)
            t0 = time.perf_counter()
            model(x, ratio, noise)[0].item()
            sync()
            times.append(time.perf_counter() - t0)
    times.sort()
    median = times[len(times) // 2]
    print(json.dumps({'imagesPerSecond': batch / median, 'medianSeconds': median, 'threads': torch.get_num_threads(),
                      'device': torch.cuda.get_device_name(0) + ', fp32' if cuda else f'CPU, {torch.get_num_threads()} threads',
                      'torch': torch.__version__, 'peakRssBytes': peak_rss_bytes()}))


# The demo model's shape (resources/models/marsfm-demo.json): small enough for a software GPU.
DEMO = dict(PRITHVI_100M, img_size=64, embed_dim=128, depth=4, num_heads=4, decoder_embed_dim=64, decoder_depth=2,
            decoder_num_heads=4)


def encoder_forward():
    """Encoder inference (every patch kept, as a classifier runs it): images/s."""
    torch.set_num_threads(arg('--threads', 2))
    torch.manual_seed(0)
    cfg = {'100m': PRITHVI_100M, 'demo': DEMO}[arg('--size', '100m')]
    batch, iters = arg('--batch', 4), arg('--iters', 3)
    model = MaskedAutoencoderViT(**cfg).eval()
    size = cfg['img_size']
    L = (size // cfg['patch_size']) ** 2
    x = torch.randn(batch, 6, 1, size, size)
    # Ascending noise with mask ratio 0 keeps every token in place.
    noise = torch.arange(L, dtype=torch.float32).repeat(batch, 1)
    with torch.no_grad():
        model.forward_encoder(x, 0.0, noise)  # warm-up
        times = []
        for _ in range(iters):
            t0 = time.perf_counter()
            model.forward_encoder(x, 0.0, noise)
            times.append(time.perf_counter() - t0)
    times.sort()
    median = times[len(times) // 2]
    print(json.dumps({'imagesPerSecond': batch / median, 'medianSeconds': median, 'threads': torch.get_num_threads(),
                      'torch': torch.__version__}))


def save(path):
    torch.manual_seed(0)
    cfg = dict(PRITHVI_100M, num_frames=3)  # as pre-trained: 3 frames, so pos_embed has 589 rows
    model = MaskedAutoencoderViT(**cfg)
    torch.save(model.state_dict(), path)
    print(json.dumps({'path': path, 'bytes': os.path.getsize(path)}))


def load(path):
    reset_peak_rss()
    t0 = time.perf_counter()
    sd = torch.load(path, map_location='cpu')
    seconds = time.perf_counter() - t0
    n = sum(v.numel() for v in sd.values())
    print(json.dumps({'seconds': seconds, 'values': n, 'peakRssBytes': peak_rss_bytes()}))


if __name__ == '__main__':
    cmd = sys.argv[1]
    if cmd == 'mae-forward':
        mae_forward()
    elif cmd == 'encoder-forward':
        encoder_forward()
    elif cmd == 'save':
        save(sys.argv[2])
    elif cmd == 'load':
        load(sys.argv[2])
    else:
        raise SystemExit(f'unknown command {cmd}')
