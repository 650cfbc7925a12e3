#!/usr/bin/python3
"""The same autoencoder, batch, optimizer and loss in PyTorch: the CPU speed a learner would
otherwise get. Run by `deepfake-lab bench --reference torch` (needs Debian's python3-torch).

  /usr/bin/python3 lib/benchmark/torch_reference.py --preset lite --batch 16 --steps 5

Prints one JSON line: preset, batch, facesPerSecond (median step: one A batch + one B batch),
stepMs, threads, torch version.
"""
import argparse
import json
import os
import statistics
import time

import torch
from torch import nn

PRESETS = {
    # encoder conv widths, latent, bottleneck channels, encoder upscale, decoder upscales
    'original': ([128, 256, 512, 1024], 1024, 1024, 512, [256, 128, 64]),
    'lite': ([32, 64, 128, 256], 256, 256, 128, [64, 32, 16]),
}


def upscale(cin, width):
    # conv3x3 to 4*width, LeakyReLU, pixel shuffle (depth-to-space) 2
    return nn.Sequential(nn.Conv2d(cin, width * 4, 3, padding=1), nn.LeakyReLU(0.1), nn.PixelShuffle(2))


def build(preset, size=64):
    enc_w, latent, bottleneck, enc_up, dec_w = PRESETS[preset]
    layers, cin = [], 3
    for w in enc_w:
        layers += [nn.Conv2d(cin, w, 5, stride=2, padding=2), nn.LeakyReLU(0.1)]
        cin = w
    side = size // 2 ** len(enc_w)
    encoder = nn.Sequential(*layers, nn.Flatten(), nn.Linear(cin * side * side, latent),
                            nn.Linear(latent, side * side * bottleneck), nn.Unflatten(1, (bottleneck, side, side)),
                            upscale(bottleneck, enc_up))

    def decoder():
        ls, c = [], enc_up
        for w in dec_w:
            ls.append(upscale(c, w))
            c = w
        return nn.Sequential(*ls, nn.Conv2d(c, 3, 5, padding=2), nn.Sigmoid())

    return encoder, decoder(), decoder()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--preset', default='lite', choices=sorted(PRESETS))
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--steps', type=int, default=5)
    ap.add_argument('--warmup', type=int, default=1)
    # Untimed steps go on until this many seconds have passed too: the rule bench gives both sides.
    ap.add_argument('--warmup-seconds', type=float, default=0.0)
    args = ap.parse_args()
    torch.manual_seed(1)
    torch.set_num_threads(os.cpu_count() or 1)
    enc, dec_a, dec_b = build(args.preset)
    params = sum(p.numel() for m in (enc, dec_a, dec_b) for p in m.parameters())
    opt_a = torch.optim.Adam(list(enc.parameters()) + list(dec_a.parameters()), lr=5e-5, betas=(0.5, 0.999))
    opt_b = torch.optim.Adam(list(enc.parameters()) + list(dec_b.parameters()), lr=5e-5, betas=(0.5, 0.999))
    x = torch.rand(args.batch, 3, 64, 64)
    y = torch.rand(args.batch, 3, 64, 64)
    times = []
    start, warm = time.perf_counter(), 0
    while len(times) < args.steps:
        t0 = time.perf_counter()
        for dec, opt in ((dec_a, opt_a), (dec_b, opt_b)):
            opt.zero_grad()
            loss = (dec(enc(x)) - y).abs().mean()
            loss.backward()
            opt.step()
        if warm >= args.warmup and t0 - start >= args.warmup_seconds:
            times.append(time.perf_counter() - t0)
        else:
            warm += 1
    step = statistics.median(times)
    print(json.dumps({'preset': args.preset, 'batch': args.batch, 'facesPerSecond': 2 * args.batch / step, 'stepMs': step * 1000,
                      'params': params, 'threads': torch.get_num_threads(), 'torch': torch.__version__}))


if __name__ == '__main__':
    main()
