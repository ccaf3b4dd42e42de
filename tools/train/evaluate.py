#!/usr/bin/python3
"""evaluate.py - the held-out 10% (models/split-test.txt).

  text->image retrieval, query = display name, gallery = held-out photos:
      Recall@1, Recall@10, MRR (only the product itself counts as a hit)
  articleType by prompt "a photo of a {type}" over every articleType of the
      catalog: accuracy and weighted F1
  baseColour by prompt "a photo of a {colour} product" over every colour:
      accuracy ("NA", the catalog's word for an unknown colour, is neither a
      class nor a test item; nor is an empty field)

  /usr/bin/python3 tools/train/evaluate.py [--ckpt var/train/ckpt.pt]
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fclip  # noqa: E402
from train import ROOT, load  # noqa: E402


def weighted_f1(y, p):
    f, total = 0.0, len(y)
    for c in set(y):
        tp = sum(1 for a, b in zip(y, p) if a == c and b == c)
        fp = sum(1 for a, b in zip(y, p) if a != c and b == c)
        fn = sum(1 for a, b in zip(y, p) if a == c and b != c)
        f1 = 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)
        f += f1 * sum(1 for a in y if a == c) / total
    return f


def known(v):
    return v not in ("", "NA")


def classify(model, ie, items, key, template):
    classes = sorted(set(it[key] for it in items if known(it[key])))
    ce = fclip.embed_texts(model, [template.format(c) for c in classes])
    pred = (ie @ ce.t()).argmax(1).numpy()
    return classes, [classes[i] for i in pred]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default=os.path.join(ROOT, "var", "train"))
    ap.add_argument("--split", default=os.path.join(ROOT, "models", "split-test.txt"))
    ap.add_argument("--ckpt", default=os.path.join(ROOT, "var", "train", "ckpt.pt"))
    a = ap.parse_args()
    torch.set_num_threads(2)

    items, u8, _, te = load(a.work, a.split)
    model = fclip.DualEncoder()
    st = torch.load(a.ckpt)
    model.load_state_dict(st["model"])
    model.eval()
    held = [items[i] for i in te]
    ie = fclip.embed_images(model, u8[te])
    qe = fclip.embed_texts(model, [it["name"] for it in held])
    sim = qe @ ie.t()
    own = sim.diag().unsqueeze(1)
    rank = (sim > own).sum(1).numpy() + 1        # 1 = the product itself first
    r1, r10, mrr = (rank <= 1).mean(), (rank <= 10).mean(), (1.0 / rank).mean()

    _, pt = classify(model, ie, items, "type", "a photo of a {}")
    yt = [it["type"] for it in held]   # every product has one
    acc_t = np.mean([x == y for x, y in zip(yt, pt)])
    f1_t = weighted_f1(yt, pt)
    _, pc = classify(model, ie, items, "colour", "a photo of a {} product")
    keep = [i for i, it in enumerate(held) if known(it["colour"])]
    acc_c = np.mean([held[i]["colour"] == pc[i] for i in keep])

    print("checkpoint: epoch %d, %.0f s of training" % (st["epoch"], st["elapsed"]))
    print("held-out products: %d (gallery of %d photos)" % (len(held), len(held)))
    print("| metric | value |\n|---|---|")
    print("| text->image Recall@1 | %.3f |" % r1)
    print("| text->image Recall@10 | %.3f |" % r10)
    print("| text->image MRR | %.3f |" % mrr)
    print("| articleType accuracy (prompt) | %.3f |" % acc_t)
    print("| articleType weighted F1 (prompt) | %.3f |" % f1_t)
    print("| baseColour accuracy (prompt) | %.3f |" % acc_c)


if __name__ == "__main__":
    main()
