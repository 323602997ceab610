"""Streamed image folders: peak memory against folder size, and images/s over devices and processes.

Two measurements, each in fresh interpreters (JAX backend):

- `memory`: a DCGAN trains one epoch from `ImageFolderStream` on folders of
  growing size; the process's peak RSS growth over the epoch (VmHWM, reset
  through /proc/self/clear_refs) and images/s.
- `scaling`: a DCGAN trains from a streamed folder with `DataParallel` on 1
  process x 1, 2, 4 devices and on 2 processes x 2 devices (127.0.0.1), each
  process decoding its own shard. With no accelerators the devices are virtual
  CPU devices sharing the machine's cores: this checks that the program runs and
  what the sharding costs, not the speed-up real devices give.

Usage:

```bash
python -m benchmarks.streaming --out benchmarks/results/streaming_cpu.csv
```
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile

import numpy as np

from benchmarks.csv_rows import append_rows

WORKER = """
import json, os, sys, time, warnings
import keras
from keras_gans import distribute
from keras_gans.data import ImageFolderStream
folder, processes, index, port, batch = {folder!r}, {processes}, {index}, {port}, {batch}
distribute.initialize(processes, index, f"127.0.0.1:{{port}}" if processes > 1 else None)
import jax
if len(jax.devices()) > 1:
    keras.distribution.set_distribution(distribute.data_parallel())
import keras_gans

def kib(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1])

keras.utils.set_random_seed(0)
gan = keras_gans.DCGAN(latent_dim=64, image_shape=(32, 32, 1), width={width})
gan.compile()
def stream(epoch):
    return ImageFolderStream(folder, batch_size=batch, image_size=32, seed=0,
                             initial_epoch=epoch, num_shards=processes, shard_index=index,
                             drop_remainder=True)
warm = stream(0)  # a whole epoch first: compiles everything fit runs
gan.fit(warm, epochs=1, shuffle=False, verbose=0, callbacks=[warm.epoch_setter()])
data = stream(1)
open("/proc/self/clear_refs", "w").write("5")
before = kib("VmRSS")
start = time.perf_counter()
gan.fit(data, epochs=2, initial_epoch=1, shuffle=False, verbose=0,
        callbacks=[data.epoch_setter()])
elapsed = time.perf_counter() - start
print(json.dumps({{"images_per_s": len(data) * batch / elapsed,
                   "peak_growth_mib": (kib("VmHWM") - before) / 1024,
                   "devices": len(jax.devices()), "processes": processes}}))
"""


def write_folder(folder, count, seed=0):
    from PIL import Image

    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(count):
        pixels = rng.integers(0, 256, (48, 48), dtype="uint8")
        Image.fromarray(pixels).save(os.path.join(folder, f"{i:06d}.png"))
    return folder


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(folder, devices, processes, batch, width, timeout=600):
    port = free_port()
    env = dict(
        os.environ,
        KERAS_BACKEND="jax",
        TF_CPP_MIN_LOG_LEVEL="3",
        XLA_FLAGS=f"--xla_force_host_platform_device_count={devices // processes}",
    )
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER.format(
                    folder=folder, processes=processes, index=i, port=port, batch=batch, width=width
                ),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(processes)
    ]
    results = []
    for child in children:
        stdout, stderr = child.communicate(timeout=timeout)
        if child.returncode != 0:
            raise SystemExit(stderr[-3000:])
        results.append(json.loads(stdout.strip().splitlines()[-1]))
    return results[0]  # the same global steps on every process


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 4096])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--skip", choices=["memory", "scaling"])
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    root = tempfile.mkdtemp(prefix="keras_gans_streaming_")
    rows = []
    if args.skip != "memory":
        for size in args.sizes:
            folder = write_folder(os.path.join(root, f"n{size}"), size)
            row = run(folder, 1, 1, args.batch_size, args.width)
            rows.append(dict(row, measure="memory", images=size))
    if args.skip != "scaling":
        folder = write_folder(os.path.join(root, "scaling"), args.sizes[0])
        for devices, processes in ((1, 1), (2, 1), (4, 1), (4, 2)):
            row = run(folder, devices, processes, args.batch_size, args.width)
            rows.append(dict(row, measure="scaling", images=args.sizes[0]))
    for row in rows:
        row["images_per_s"] = round(row["images_per_s"], 1)
        row["peak_growth_mib"] = round(row["peak_growth_mib"], 1)
        row.update(batch_size=args.batch_size, width=args.width)
        print(
            f"{row['measure']:8s} {row['images']:6d} images  {row['processes']} process(es) x "
            f"{row['devices'] // row['processes']} device(s): {row['images_per_s']} img/s, "
            f"peak RSS growth {row['peak_growth_mib']} MiB"
        )
    if args.out:
        append_rows(args.out, rows)
    return rows


if __name__ == "__main__":
    main()
