"""Writes a small image-folder probe set and the tensor its preprocessing should give.

    python3 Tests/Fixtures/images/make_image_fixtures.py     (needs numpy, Pillow, torch)

- photos/cat/*.png|jpg, photos/dog/*.png|jpg   four smooth random RGB images, 48×40 and
                                              40×52 pixels, PNG and JPEG (quality 90)
- photos/labels.csv                           the same four with labels, in another order
- reference.npy   [4, 3, 32, 32] float32: decoded by Pillow, scaled to [0, 1], the shorter
                  side resized to 36 with torch.nn.functional.interpolate (bilinear,
                  align_corners=False, no antialiasing), centre-cropped to 32×32 (offsets
                  rounded as torchvision's CenterCrop), normalised with ImageNet's mean and
                  std; in the order of the sub-folders (cat, then dog; files sorted)
"""
import os

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
MEAN, STD = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])


def smooth(rng, height, width):
    coarse = rng.uniform(0, 255, size=(height // 8 + 2, width // 8 + 2, 3))
    image = Image.fromarray(coarse.astype(np.uint8)).resize((width, height), Image.BICUBIC)
    noise = rng.normal(0, 6, size=(height, width, 3))
    return Image.fromarray(np.clip(np.asarray(image, dtype=np.float64) + noise, 0, 255).astype(np.uint8))


def preprocess(path):
    pixels = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255
    x = torch.from_numpy(pixels).permute(2, 0, 1)[None]
    h, w = x.shape[2:]
    size = (36, int(36 * w / h)) if h <= w else (int(36 * h / w), 36)
    x = torch.nn.functional.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=False)[0]
    top, left = int(round((size[0] - 32) / 2)), int(round((size[1] - 32) / 2))
    x = x[:, top:top + 32, left:left + 32].numpy()
    return ((x - MEAN[:, None, None]) / STD[:, None, None]).astype(np.float32)


def main():
    rng = np.random.default_rng(3)
    files = [("cat", "a.png", 48, 40), ("cat", "b.jpg", 40, 52), ("dog", "c.jpg", 48, 40), ("dog", "d.png", 40, 52)]
    paths = []
    for label, name, height, width in files:
        folder = os.path.join(HERE, "photos", label)
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, name)
        image = smooth(rng, height, width)
        if name.endswith(".jpg"):
            image.save(path, quality=90)
        else:
            image.save(path)
        paths.append(path)
    with open(os.path.join(HERE, "photos", "labels.csv"), "w") as f:
        f.write("file,label\ndog/d.png,dog\ncat/a.png,cat\ndog/c.jpg,dog\ncat/b.jpg,cat\n")
    np.save(os.path.join(HERE, "reference.npy"), np.stack([preprocess(p) for p in paths]))


if __name__ == "__main__":
    main()
