#!/usr/bin/python3
# PyTorch baseline for bench/train-step.mjs: one classification training step of the full
# Prithvi-100M encoder (forward_encoder with masking -> CLS -> dropout 0.5 -> Linear(1) -> BCE,
# Adam) on batch 4 of 224x224, CPU, 2 threads. Prints one JSON line.
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
torch.set_num_threads(int(os.environ.get('BENCH_THREADS', '2')))
torch.manual_seed(0)
model = MaskedAutoencoderViT(img_size=224, patch_size=16, num_frames=1, tubelet_size=1, in_chans=6, embed_dim=768, depth=12, num_heads=12,
                             decoder_embed_dim=512, decoder_depth=8, decoder_num_heads=16, mlp_ratio=4.0, norm_pix_loss=False)
# The classifier uses the encoder only: drop the decoder as the study's fine-tuning did not train it.
for name in ['decoder_embed', 'decoder_blocks', 'decoder_norm', 'decoder_pred']:
    setattr(model, name, nn.Identity())
head = nn.Linear(768, 1)
params = [p for p in list(model.parameters()) + list(head.parameters()) if p.requires_grad]
opt = torch.optim.Adam(params, lr=8.2e-6, betas=(0.9, 0.999))
x = torch.randn(batch, 6, 1, 224, 224)
y = torch.tensor([[float(i % 2)] for i in range(batch)])
L = 196
times = []
for step in range(warmup + steps):
    t0 = time.perf_counter()
    opt.zero_grad()
    latent, _, _ = model.forward_encoder(x, 0.375, torch.rand(batch, L))
    loss = F.binary_cross_entropy_with_logits(head(F.dropout(latent[:, 0, :], 0.5, training=True)), y)
    loss.backward()
    opt.step()
    if step >= warmup:
        times.append(time.perf_counter() - t0)
sec = sum(times) / len(times)
print(json.dumps({'backend': 'pytorch-cpu', 'threads': torch.get_num_threads(), 'torch': torch.__version__, 'secondsPerStep': sec,
                  'imagesPerSecond': batch / sec, 'maxRssBytes': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
