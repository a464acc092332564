"""Writes the image fixtures with Pillow (an independent encoder/decoder) and records the pixel
values Pillow decodes, so our libpng/libjpeg-turbo decoders are checked against another reader.
Run from this folder: python3 make_fixtures.py"""
import json
import numpy as np
from PIL import Image

w, h = 7, 5
yy, xx = np.mgrid[0:h, 0:w]
gray8 = ((xx * 37 + yy * 11) % 256).astype(np.uint8)
rgb8 = np.stack([gray8, (255 - gray8), ((xx * yy * 13) % 256).astype(np.uint8)], axis=-1)
gray16 = ((xx * 9000 + yy * 1234) % 65536).astype(np.uint16)
alpha = np.full((h, w), 255, np.uint8); alpha[:, :3] = 0; alpha[0, 3] = 128

expected = {}
def record(name):
    decoded = np.asarray(Image.open(name)).astype(np.float64)
    expected[name] = decoded.tolist()

Image.fromarray(gray8, "L").save("gray8.png"); record("gray8.png")
Image.fromarray(rgb8, "RGB").save("rgb8.png"); record("rgb8.png")
Image.fromarray(np.dstack([rgb8, alpha]), "RGBA").save("rgba8.png"); record("rgba8.png")
Image.fromarray(gray16.astype(np.int32), "I").convert("I;16").save("gray16.png")
expected["gray16.png"] = gray16.astype(np.float64).tolist()
Image.fromarray(rgb8, "RGB").quantize(colors=8).save("palette.png")
expected["palette.png"] = np.asarray(Image.open("palette.png").convert("RGB")).astype(np.float64).tolist()

big = np.stack([(np.mgrid[0:32, 0:40][1] * 6) % 256, (np.mgrid[0:32, 0:40][0] * 8) % 256, np.full((32, 40), 90)], -1).astype(np.uint8)
Image.fromarray(big, "RGB").save("color_baseline.jpg", quality=95)
Image.fromarray(big, "RGB").save("color_progressive.jpg", quality=95, progressive=True)
Image.fromarray(big[:, :, 0], "L").save("gray_progressive.jpg", quality=95, progressive=True)
for name in ["color_baseline.jpg", "color_progressive.jpg", "gray_progressive.jpg"]:
    expected[name] = np.asarray(Image.open(name)).astype(np.float64).tolist()

with open("expected.json", "w") as f:
    json.dump(expected, f)
