#!/usr/bin/python3
# PyTorch baseline for bench/train-step.mjs: one classification training step of the Prithvi-100M
# encoder (forward_encoder with masking -> CLS -> dropout 0.5 -> Linear(1) -> BCE, Adam) on batch 4
# of 224x224 (BENCH_PRESET=prithvi-tiny: the 32 px test model), on CUDA in fp32 (TF32 off) when a
# GPU is present, else the CPU with 2 threads. Also times forward alone and forward + backward.
# Prints one JSON line.
import json
import os
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'fixtures', 'prithvi'))
from make_fixtures import MaskedAutoencoderViT  # noqa: E402

steps = int(os.environ.get('BENCH_STEPS', '3'))
warmup = int(os.environ.get('BENCH_WARMUP', '1'))
batch = int(os.environ.get('BENCH_BATCH', '4'))
preset = os.environ.get('BENCH_PRESET', 'prithvi-100m')
img = int(os.environ.get('BENCH_IMG', '224' if preset == 'prithvi-100m' else '32'))
torch.set_num_threads(int(os.environ.get('BENCH_THREADS', '2')))
cuda = torch.cuda.is_available() and os.environ.get('BENCH_DEVICE', 'auto') != 'cpu'
device = torch.device('cuda' if cuda else 'cpu')
if cuda:
    torch.backends.cuda.matmul.allow_tf32 = False  # fp32, as WebGPU computes
    torch.backends.cudnn.allow_tf32 = False
torch.manual_seed(0)
if preset == 'prithvi-100m':
    arch = dict(patch_size=16, embed_dim=768, depth=12, num_heads=12, decoder_embed_dim=512, decoder_depth=8, decoder_num_heads=16)
else:
    arch = dict(patch_size=8, embed_dim=32, depth=2, num_heads=4, decoder_embed_dim=16, decoder_depth=1, decoder_num_heads=2)
model = MaskedAutoencoderViT(img_size=img, num_frames=1, tubelet_size=1, in_chans=6, mlp_ratio=4.0, norm_pix_loss=False, **arch)
# The classifier uses the encoder only: drop the decoder as the study's fine-tuning did not train it.
for name in ['decoder_embed', 'decoder_blocks', 'decoder_norm', 'decoder_pred']:
    setattr(model, name, nn.Identity())
head = nn.Linear(arch['embed_dim'], 1)
model.to(device)
head.to(device)
params = [p for p in list(model.parameters()) + list(head.parameters()) if p.requires_grad]
opt = torch.optim.Adam(params, lr=8.2e-6, betas=(0.9, 0.999))
x = torch.randn(batch, 6, 1, img, img, device=device)
y = torch.tensor([[float(i % 2)] for i in range(batch)], device=device)
L = (img // arch['patch_size']) ** 2


def sync():
    if cuda:
        torch.cuda.synchronize()


def loss_of():
    latent, _, _ = model.forward_encoder(x, 0.375, torch.rand(batch, L, device=device))
    return F.binary_cross_entropy_with_logits(head(F.dropout(latent[:, 0, :], 0.5, training=True)), y)


times, fwd, fwdbwd = [], [], []
for step in range(warmup + steps):
    sync()
    t0 = time.perf_counter()
    opt.zero_grad()
    loss = loss_of()
    loss.backward()
    opt.step()
    loss.item()
    sync()
    if step >= warmup:
        times.append(time.perf_counter() - t0)
for _ in range(max(1, min(3, steps))):
    sync()
    t0 = time.perf_counter()
    with torch.no_grad():
        loss_of().item()
    sync()
    fwd.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    opt.zero_grad()
    loss_of().backward()
    sync()
    fwdbwd.append(time.perf_counter() - t0)
sec = sum(times) / len(times)
print(json.dumps({'backend': 'pytorch-cuda' if cuda else 'pytorch-cpu', 'device': torch.cuda.get_device_name(0) if cuda else f'CPU, {torch.get_num_threads()} threads',
                  'threads': torch.get_num_threads(), 'torch': torch.__version__, 'secondsPerStep': sec, 'imagesPerSecond': batch / sec,
                  'forwardSeconds': sorted(fwd)[len(fwd) // 2], 'forwardBackwardSeconds': sorted(fwdbwd)[len(fwdbwd) // 2],
                  'peakGpuBytes': torch.cuda.max_memory_allocated() if cuda else None,
                  'maxRssBytes': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
