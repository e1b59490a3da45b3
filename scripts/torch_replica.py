#!/usr/bin/env python3
"""Foldwise's benchmark networks in PyTorch: the PyTorch side of scripts/bench-engine.

Same networks as Foldwise's model registry builds them, same batch, thread
count and input shape, random N(0,1) inputs and random labels (speed only):

  resnet_ref : conv3x3(C->32)+BN+ReLU; 2 x BasicBlock(32); BasicBlock(32->64, stride 2,
               1x1 conv + BN shortcut), BasicBlock(64); global average pool; Linear(64->classes)
               (the network of ../shared/reference/torch_cnn.py)
  resnet18   : conv7x7(C->64, stride 2)+BN+ReLU+maxpool3x3/2; stages of 2 BasicBlocks of
               64, 128, 256, 512 channels, stride 2 from the second; pool; Linear

Training step: cross-entropy, Adam lr 3e-4. --precision bf16 runs the forward
under torch.autocast("cpu", dtype=torch.bfloat16) (fp32 master weights, as
PyTorch's mixed-precision recipe); --channels-last converts model and input to
torch.channels_last, as PyTorch recommends for CPU convolutions.

Prints one JSON line: train_images_per_s, infer_images_per_s, peak_rss_mib.
"""
import argparse
import contextlib
import json
import resource
import time


def build(network, channels, classes):
    import torch.nn as nn

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride=1):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU(inplace=True)
            self.shortcut = None
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            identity = x if self.shortcut is None else self.shortcut(x)
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu(out + identity)

    if network == "resnet_ref":
        widths, blocks = [32, 64], [2, 2]
        stem = nn.Sequential(nn.Conv2d(channels, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(inplace=True))
    else:
        widths, blocks = [64, 128, 256, 512], [2, 2, 2, 2]
        stem = nn.Sequential(nn.Conv2d(channels, 64, 7, stride=2, padding=3, bias=False), nn.BatchNorm2d(64),
                             nn.ReLU(inplace=True), nn.MaxPool2d(3, stride=2, padding=1))
    stages, cin = [], widths[0]
    for i, (width, count) in enumerate(zip(widths, blocks)):
        stages += [BasicBlock(cin if b == 0 else width, width, 2 if (b == 0 and i > 0) else 1) for b in range(count)]
        cin = width
    return nn.Sequential(stem, *stages, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, classes))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--network", choices=["resnet_ref", "resnet18"], default="resnet_ref")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--size", type=int, default=28)
    p.add_argument("--channels", type=int, default=1)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    p.add_argument("--channels-last", action="store_true")
    a = p.parse_args()

    import torch
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = build(a.network, a.channels, a.classes)
    x = torch.randn(a.batch, a.channels, a.size, a.size)
    if a.channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, a.classes, (a.batch,))
    opt = torch.optim.Adam(model.parameters(), lr=3e-4)
    loss_fn = torch.nn.CrossEntropyLoss()

    def autocast():
        if a.precision == "bf16":
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    model.train()
    for i in range(a.warmup + a.steps):
        if i == a.warmup:
            t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with autocast():
            loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    train_ips = a.steps * a.batch / (time.perf_counter() - t0)

    model.eval()
    with torch.inference_mode(), autocast():
        for i in range(a.warmup + a.steps):
            if i == a.warmup:
                t0 = time.perf_counter()
            model(x)
    infer_ips = a.steps * a.batch / (time.perf_counter() - t0)

    print(json.dumps({
        "network": a.network, "threads": a.threads, "batch": a.batch, "input": [a.channels, a.size, a.size],
        "torch": torch.__version__, "precision": a.precision, "channels_last": a.channels_last,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "train_images_per_s": round(train_ips, 1), "infer_images_per_s": round(infer_ips, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }))


if __name__ == "__main__":
    main()
