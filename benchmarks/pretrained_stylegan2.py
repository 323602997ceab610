"""Converting NVIDIA's StyleGAN2-ADA pickles and sampling them: seconds and images/s per backend.

Two generators the size of NVIDIA's published ones, random weights: 256x256
(`paper256`: channel_base 16384, as `nvlabs:ffhq256`) and 1024x1024 (`stylegan2`:
channel_base 32768, as `nvlabs:ffhq`), each with G, D and G_ema. The pickles are written
by NVIDIA's own code from a checkout of stylegan2-ada-pytorch given with `--nvlabs`
(nothing of it is copied here; without a checkout the script says how to get one).
Each backend then runs in a fresh process: `StyleGAN2.from_nvlabs(pickle)` is timed
(reading, building G, G_ema and D, assigning every tensor), then `generate` after one
warm-up batch (truncation 0.7, constant noise, `--batch-size` images per call).

Usage:
    git clone https://github.com/NVlabs/stylegan2-ada-pytorch /tmp/sg2ada
    python -m benchmarks.pretrained_stylegan2 --nvlabs /tmp/sg2ada
Writes benchmarks/results/pretrained_stylegan2_cpu.csv (`_<device>.csv` on an accelerator).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from benchmarks.csv_rows import append_rows, processor_name

# NVIDIA's train.py configs for these sizes (G and D; fp16 blocks and clamp as published).
COMMAND = "python -m benchmarks.pretrained_stylegan2 "
CONFIGS = {
    256: dict(channel_base=16384, channel_max=512, mapping_layers=8),
    1024: dict(channel_base=32768, channel_max=512, mapping_layers=8),
}

WRITE = r"""
import pickle, sys, torch
sys.path.insert(0, sys.argv[1])
from training import networks
size, base, cmax, layers, out = (int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]),
                                 int(sys.argv[5]), sys.argv[6])
torch.manual_seed(0)
common = dict(channel_base=base, channel_max=cmax, num_fp16_res=4, conv_clamp=256)
G = networks.Generator(z_dim=512, c_dim=0, w_dim=512, img_resolution=size, img_channels=3,
                       mapping_kwargs=dict(num_layers=layers), synthesis_kwargs=common)
D = networks.Discriminator(c_dim=0, img_resolution=size, img_channels=3, **common)
with open(out, "wb") as f:
    pickle.dump(dict(G=G.eval(), D=D.eval(), G_ema=G.eval(), augment_pipe=None), f)
"""

MEASURE = r"""
import json, sys, time
import keras, numpy as np, keras_gans
from keras_gans.utils.device import describe_device
path, batch, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
start = time.perf_counter()
model = keras_gans.StyleGAN2.from_nvlabs(path)
convert_s = time.perf_counter() - start
latent = np.random.default_rng(0).standard_normal((count + batch, 512)).astype("float32")
model.generate(latent=latent[:batch], batch_size=batch, truncation_psi=0.7)   # warm-up
start = time.perf_counter()
images = model.generate(latent=latent[batch:], batch_size=batch, truncation_psi=0.7)
seconds = time.perf_counter() - start
assert np.isfinite(images).all()
print(json.dumps({
    "backend": keras.backend.backend(), "device": describe_device(),
    "resolution": model.image_shape[0],
    "generator_params": model.generator.count_params(),
    "discriminator_params": model.discriminator.count_params(),
    "convert_s": round(convert_s, 2), "batch_size": batch, "images": count,
    "generate_images_per_s": round(count / seconds, 3),
}))
"""


def write_pickle(nvlabs, size, folder):
    """NVIDIA's own G, D and G_ema of `size`, random weights, pickled into `folder`."""
    path = os.path.join(folder, f"stylegan2-random-{size}.pkl")
    config = CONFIGS[size]
    argv = [nvlabs, str(size), str(config["channel_base"]), str(config["channel_max"])]
    argv += [str(config["mapping_layers"]), path]
    result = subprocess.run([sys.executable, "-c", WRITE, *argv], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"NVIDIA's code could not write the {size} pickle:\n{result.stderr}")
    return path


def measure(path, backend, batch, count, timeout):
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, path, str(batch), str(count)],
        capture_output=True, text=True, env=env, timeout=timeout,
    )  # fmt: skip
    if result.returncode != 0:
        raise SystemExit(f"{backend}: {result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nvlabs", required=True, help="a checkout of stylegan2-ada-pytorch")
    parser.add_argument("--sizes", default="256,1024")
    parser.add_argument("--backends", default="jax,tensorflow,torch")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--images", default="16,4", help="images timed per size, in order")
    parser.add_argument("--timeout", type=int, default=3600)
    parser.add_argument("--out", default=None, help="CSV file (default by device)")
    args = parser.parse_args(argv)
    if not os.path.isfile(os.path.join(args.nvlabs, "training", "networks.py")):
        raise SystemExit(f"--nvlabs {args.nvlabs}: not a stylegan2-ada-pytorch checkout.")
    sizes = [int(size) for size in args.sizes.split(",")]
    counts = dict(zip(sizes, (int(n) for n in args.images.split(","))))
    rows = []
    with tempfile.TemporaryDirectory(prefix="keras-gans-bench-") as folder:
        for size in sizes:
            start = time.perf_counter()
            path = write_pickle(args.nvlabs, size, folder)
            print(f"{size}: NVIDIA's pickle written in {time.perf_counter() - start:.0f} s "
                  f"({os.path.getsize(path) / 2**20:.0f} MiB)", flush=True)  # fmt: skip
            for backend in args.backends.split(","):
                row = measure(path, backend, args.batch_size, counts.get(size, 4), args.timeout)
                row.update(
                    processor=processor_name(),
                    pickle_mib=round(os.path.getsize(path) / 2**20, 1),
                    command=COMMAND + " ".join(argv or sys.argv[1:]),
                )
                print(row, flush=True)
                rows.append(row)
    device = "cpu" if "CPU" in rows[0]["device"] else rows[0]["device"].split(" (")[0]
    out = args.out or os.path.join(
        "benchmarks", "results", f"pretrained_stylegan2_{device.replace(' ', '_').lower()}.csv"
    )
    append_rows(out, rows)
    print(f"Wrote {out}")


if __name__ == "__main__":
    main()
