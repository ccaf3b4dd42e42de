#!/usr/bin/python3
"""train.py - contrastive training of the dual encoder on the catalog.

Symmetric InfoNCE over image <-> text pairs; each epoch draws, for every
training product, one text from TEMPLATES (display name, attributes, short
"colour type" queries) so both long names and two-word queries land near
the right photos.  Positives are not only the diagonal: text j is a positive
of photo i whenever product i renders the same text from text j's template
("white tshirts" is true of every white T-shirt in the batch, "a photo of a
watch" of every watch), so true statements are never pushed apart.

Reproducible: fixed seeds, single process, deterministic data order.
Checkpoints after every epoch to WORK/ckpt.pt and resumes from it.

  python3 tools/train/train.py --epochs 12
"""
import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fclip  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TEMPLATES = [
    "{name}",
    "{name}",
    "{name}, {colour} {type} for {gender}, {usage}",
    "{colour} {type}",
    "{colour} {type}",
    "{type}",
    "a photo of a {type}",
    "a photo of a {colour} {type}",
    "a photo of a {colour} product",
    "{gender} {type}",
    "{colour} {type} for {gender}",
    "{gender} {colour} {sub}",
    "{usage} {type}",
    "{season} {colour} {type}",
    "{sub}",
    "{colour}",
]


def render(t, it):
    s = t.format(name=it["name"], colour=it["colour"], type=it["type"],
                 gender=it["gender"], usage=it["usage"], sub=it["sub"],
                 season=it["season"])
    return " ".join(s.replace(" ,", ",").split())


def positives(idx, tmpl, texts, items):
    """pos[i][j] = 1 when product idx[i] renders texts[j] from tmpl[j]."""
    n = len(idx)
    pos = torch.zeros(n, n)
    for k in set(tmpl):
        cols = [j for j in range(n) if tmpl[j] == k]
        rendered = [render(TEMPLATES[k], items[i]) for i in idx]
        for j in cols:
            for i in range(n):
                if rendered[i] == texts[j]:
                    pos[i, j] = 1.0
    return pos


def load(work, split):
    items = json.load(open(os.path.join(work, "items.json")))
    u8 = np.fromfile(os.path.join(work, "images.u8"), dtype=np.uint8)
    u8 = u8.reshape(len(items), fclip.IMG_H, fclip.IMG_W, 3)
    test = set(int(x) for x in open(split))
    tr = [i for i, it in enumerate(items) if it["id"] not in test]
    te = [i for i, it in enumerate(items) if it["id"] in test]
    return items, u8, tr, te


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default=os.path.join(ROOT, "var", "train"))
    ap.add_argument("--split", default=os.path.join(ROOT, "models", "split-test.txt"))
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    items, u8, tr, te = load(a.work, a.split)
    model = fclip.DualEncoder()
    with torch.no_grad():   # input normalisation from the training images
        px = u8[tr].reshape(-1, 3).astype(np.float64) / 255.0
        model.image.mean.copy_(torch.tensor(px.mean(0)))
        model.image.std.copy_(torch.tensor(px.std(0)))
        del px
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "bag" not in n]
    other = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "bag" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05},
                             {"params": other, "weight_decay": 0.0}], lr=a.lr)
    steps_per_epoch = len(tr) // a.batch
    total = steps_per_epoch * a.epochs
    warm = 200

    def lr_at(step):
        if step < warm:
            return a.lr * (step + 1) / warm
        return a.lr * 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))

    ckpt = os.path.join(a.work, "ckpt.pt")
    epoch0, elapsed = 0, 0.0
    if os.path.exists(ckpt):
        st = torch.load(ckpt)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        epoch0, elapsed = st["epoch"], st["elapsed"]
        print("resumed after epoch %d" % epoch0, flush=True)

    for epoch in range(epoch0, a.epochs):
        rng = random.Random(1000 + epoch)
        torch.manual_seed(1000 + epoch)
        order = tr[:]
        rng.shuffle(order)
        tmpl = [rng.randrange(len(TEMPLATES)) for _ in order]
        texts = [render(TEMPLATES[k], items[i]) for k, i in zip(tmpl, order)]
        flips = [rng.random() < 0.5 for _ in order]
        model.train()
        t0, run = time.time(), 0.0
        for s in range(steps_per_epoch):
            step = epoch * steps_per_epoch + s
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            idx = order[s * a.batch:(s + 1) * a.batch]
            bt = texts[s * a.batch:(s + 1) * a.batch]
            imgs = torch.from_numpy(u8[idx])
            fl = torch.tensor(flips[s * a.batch:(s + 1) * a.batch])
            imgs = torch.where(fl.view(-1, 1, 1, 1), imgs.flip(2), imgs)
            ie = model.image(imgs)
            te_ = model.text(*fclip.batch_features(bt))
            scale = model.logit_scale.exp().clamp(max=100)
            logits = scale * ie @ te_.t()
            pos = positives(idx, tmpl[s * a.batch:(s + 1) * a.batch], bt, items)
            ti = pos / pos.sum(1, keepdim=True)          # photo i -> its texts
            tt = pos.t() / pos.t().sum(1, keepdim=True)  # text j -> its photos
            loss = 0.5 * (torch.sum(-ti * F.log_softmax(logits, 1), 1).mean() +
                          torch.sum(-tt * F.log_softmax(logits.t(), 1), 1).mean())
            opt.zero_grad()
            loss.backward()
            opt.step()
            run = loss.item() if s == 0 else 0.98 * run + 0.02 * loss.item()
            if s % 20 == 0:
                print("epoch %d step %d/%d loss %.3f scale %.1f %.2fs/step" %
                      (epoch + 1, s, steps_per_epoch, run, scale.item(),
                       (time.time() - t0) / (s + 1)), flush=True)
        elapsed += time.time() - t0
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(),
                    "epoch": epoch + 1, "elapsed": elapsed}, ckpt + ".tmp")
        os.replace(ckpt + ".tmp", ckpt)
        print("epoch %d done, loss %.3f, %.0f s so far" % (epoch + 1, run, elapsed), flush=True)


if __name__ == "__main__":
    main()
