#!/usr/bin/python3
"""export.py - checkpoint -> models/fashion-clip.bin + models/golden/.

The golden set is what `make check` compares the C forward pass against:
a few catalog photos, a PNG and a large JPEG (to cover the resampling
path), and texts with edge cases, each with the vector PyTorch computes
from the same preprocessed pixels (tools/train/prep runs the C code).

  /usr/bin/python3 tools/train/export.py [--ckpt var/train/ckpt.pt]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fclip  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLDEN = os.path.join(ROOT, "models", "golden")
SAMPLE_IDS = [10011, 10027, 54410, 45319, 54585, 13057, 9449, 33253]
TEXTS = [
    "red dress", "Red Dresses", "blue jeans for men", "t-shirt", "tshirts",
    "a photo of a watch", "Turtle Check Men Navy Blue Shirt",
    "women black heels, party", "Ärmel rot — ünïcödé", "!!!", "x",
    " ".join(["word%d" % i for i in range(80)]),
    "supercalifragilisticexpialidocious" * 3,
]


def make_extra_images():
    """A PNG with an alpha channel and a large JPEG, from sample photos."""
    from PIL import Image
    os.makedirs(GOLDEN, exist_ok=True)
    png = os.path.join(GOLDEN, "alpha.png")
    big = os.path.join(GOLDEN, "large.jpg")
    if not os.path.exists(png):
        im = Image.open(os.path.join(ROOT, "data/sample/images/10011.jpg")).convert("RGBA")
        a = np.array(im)
        a[:, :10, 3] = 0          # a transparent strip: composited on white
        Image.fromarray(a).save(png)
    if not os.path.exists(big):
        im = Image.open(os.path.join(ROOT, "data/sample/images/54410.jpg")).convert("RGB")
        im.resize((333, 517), Image.BICUBIC).save(big, quality=90)
    return ["models/golden/alpha.png", "models/golden/large.jpg"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(ROOT, "var", "train", "ckpt.pt"))
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "fashion-clip.bin"))
    ap.add_argument("--prep", default=os.path.join(ROOT, "tools", "train", "prep"))
    a = ap.parse_args()

    model = fclip.DualEncoder()
    st = torch.load(a.ckpt)
    model.load_state_dict(st["model"])
    model.eval()
    fclip.write_model(a.out, model)
    print("wrote %s (%d bytes), trained %d epochs in %.0f s" %
          (a.out, os.path.getsize(a.out), st["epoch"], st["elapsed"]))

    files = ["data/sample/images/%d.jpg" % i for i in SAMPLE_IDS] + make_extra_images()
    with tempfile.TemporaryDirectory() as td:
        lst = os.path.join(td, "list")
        with open(lst, "w") as f:
            f.write("".join(os.path.join(ROOT, p) + "\n" for p in files))
        subprocess.run([a.prep, td, lst, os.path.join(td, "u8")], check=True)
        u8 = np.fromfile(os.path.join(td, "u8"), dtype=np.uint8)
    u8 = u8.reshape(len(files), fclip.IMG_H, fclip.IMG_W, 3)
    ie = fclip.embed_images(model, u8).numpy()
    te = fclip.embed_texts(model, TEXTS).numpy()
    golden = {
        "model": os.path.basename(a.out),
        "images": [{"file": p, "embedding": [float(x) for x in v]}
                   for p, v in zip(files, ie)],
        "texts": [{"text": t, "features": fclip.features(t),
                   "embedding": [float(x) for x in v]}
                  for t, v in zip(TEXTS, te)],
    }
    with open(os.path.join(GOLDEN, "golden.json"), "w") as f:
        json.dump(golden, f)
    print("wrote %s" % os.path.join(GOLDEN, "golden.json"))


if __name__ == "__main__":
    main()
