#!/usr/bin/python3
"""Generate the shipped Fashion-MNIST example and the importer test fixtures for cimc.

What it makes
-------------
A) examples/fashion-mnist/
     mlp.onnx               784-256-128-10 ReLU MLP, opset 13, input "input" [N,784] float32,
                            output "logits" [N,10], dynamic batch axis
     mlp.torchscript.pt     same model, torch.jit.trace
     mlp.state_dict.pt      same model, torch.save(model.state_dict())  (keys 0.*, 2.*, 4.*)
     mlp.module.pt          same model, torch.save(model)  (nn.Sequential of Linear/ReLU)
     t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz   full Fashion-MNIST test set (IDX, gzip)
     calibration.npy        512 training images, float32 /255, [512,784] (fixed-seed random subset)
     sample.npy             first 16 test images, float32 /255, [16,784]
     sample_labels.npy      their labels, int64 [16]
     sample_logits.npy      PyTorch float32 logits on sample.npy, [16,10]
     pytorch_predictions.npy  int64 argmax of the float model on all 10000 test images
     pytorch_accuracy.json  {"accuracy", "correct", "total"}
B) tests/fixtures/          small model fixtures (ONNX / TorchScript / state_dict / whole module),
                            one <name>_input.npy and <name>_expected.npy per fixture, and
                            manifest.json describing every model fixture.
C) tests/fixtures/hostile/  malicious / malformed files the importers must reject, with README.md
                            and manifest.json (file -> expected error category).

How to run
----------
    /usr/bin/python3 examples/make_fixtures.py                 # everything (~3 min on 2 idle cores)
    /usr/bin/python3 examples/make_fixtures.py --skip-fashion  # only tests/fixtures (seconds)
    /usr/bin/python3 examples/make_fixtures.py --inspect       # print op lists / TorchScript code
                                                               # of the existing files, no writing

Needs Debian's python3-torch (1.13), python3-onnx (1.12), python3-numpy and the Fashion-MNIST IDX
files (package dataset-fashion-mnist: /usr/share/datasets/fashion-mnist, override with the
FASHION_MNIST_DIR environment variable). Use /usr/bin/python3, not a pyenv/venv python without torch.
Everything is seeded; re-running with the same torch/onnx versions gives the same files.
After writing, every model fixture is re-checked: ONNX files with a small numpy reference
evaluator, TorchScript with torch.jit.load, state_dicts with a generic "x @ W.T + b, activation"
loop, whole modules with torch.load.  Hostile files are never loaded in a way that could run them.
"""

import os
import sys

# TorchScript writes `Final` constants (in_features, out_features, ...) in Python set order, which
# depends on string hashing: pin the hash seed so the generated archives are byte-reproducible.
if __name__ == "__main__" and os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import argparse
import collections
import gzip
import io
import json
import pickletools
import shutil
import struct
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_DIR = ROOT / "examples" / "fashion-mnist"
FIXTURE_DIR = ROOT / "tests" / "fixtures"
HOSTILE_DIR = FIXTURE_DIR / "hostile"
FASHION_DIR = Path(os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))

warnings.filterwarnings("ignore")
torch.set_num_threads(2)
torch.use_deterministic_algorithms(True)


def seed_all(seed):
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


# ----------------------------------------------------------------------------------------------
# A) Fashion-MNIST example
# ----------------------------------------------------------------------------------------------

def find_idx(stem):
    for cand in (FASHION_DIR / (stem + ".gz"), FASHION_DIR / stem):
        if cand.exists():
            return cand
    raise FileNotFoundError(f"{stem}(.gz) not found in {FASHION_DIR}")


def read_idx(path):
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if data[0:2] != b"\0\0" or data[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def copy_gz(src, dst):
    if src.suffix == ".gz":
        shutil.copyfile(src, dst)
    else:
        with open(src, "rb") as f, open(dst, "wb") as raw:
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as g:
                g.write(f.read())


def fashion_mlp():
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(),
                         nn.Linear(256, 128), nn.ReLU(),
                         nn.Linear(128, 10))


def make_fashion(epochs):
    t0 = time.time()
    EXAMPLE_DIR.mkdir(parents=True, exist_ok=True)
    tr_x = read_idx(find_idx("train-images-idx3-ubyte")).reshape(-1, 784).astype(np.float32) / 255.0
    tr_y = read_idx(find_idx("train-labels-idx1-ubyte")).astype(np.int64)
    te_x = read_idx(find_idx("t10k-images-idx3-ubyte")).reshape(-1, 784).astype(np.float32) / 255.0
    te_y = read_idx(find_idx("t10k-labels-idx1-ubyte")).astype(np.int64)
    assert tr_x.shape == (60000, 784) and te_x.shape == (10000, 784)

    for stem in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        copy_gz(find_idx(stem), EXAMPLE_DIR / (stem + ".gz"))

    rng = seed_all(20240601)
    calib_idx = np.sort(rng.permutation(len(tr_x))[:512])
    np.save(EXAMPLE_DIR / "calibration.npy", np.ascontiguousarray(tr_x[calib_idx], dtype=np.float32))
    np.save(EXAMPLE_DIR / "sample.npy", np.ascontiguousarray(te_x[:16], dtype=np.float32))
    np.save(EXAMPLE_DIR / "sample_labels.npy", te_y[:16].astype(np.int64))

    model = fashion_mlp()
    xt, yt = torch.from_numpy(tr_x), torch.from_numpy(tr_y)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    gen = torch.Generator().manual_seed(7)
    bs = 128
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(xt), generator=gen)
        total = 0.0
        for i in range(0, len(xt), bs):
            idx = perm[i:i + bs]
            opt.zero_grad()
            loss = F.cross_entropy(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        sched.step()
        model.eval()
        with torch.no_grad():
            acc = (model(torch.from_numpy(te_x)).argmax(1).numpy() == te_y).mean()
        print(f"  epoch {ep + 1}/{epochs}: train loss {total / len(xt):.4f}  test acc {acc:.4f}"
              f"  ({time.time() - t0:.0f}s)", flush=True)

    model.eval()
    with torch.no_grad():
        logits_all = model(torch.from_numpy(te_x))
        preds = logits_all.argmax(1).numpy().astype(np.int64)
        sample_logits = model(torch.from_numpy(te_x[:16])).numpy().astype(np.float32)
    correct = int((preds == te_y).sum())
    np.save(EXAMPLE_DIR / "pytorch_predictions.npy", preds)
    np.save(EXAMPLE_DIR / "sample_logits.npy", sample_logits)
    with open(EXAMPLE_DIR / "pytorch_accuracy.json", "w") as f:
        json.dump({"accuracy": correct / len(te_y), "correct": correct, "total": int(len(te_y))}, f, indent=2)
        f.write("\n")

    example = torch.from_numpy(te_x[:1])
    torch.onnx.export(model, example, str(EXAMPLE_DIR / "mlp.onnx"), opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                      do_constant_folding=True)
    torch.jit.trace(model, example).save(str(EXAMPLE_DIR / "mlp.torchscript.pt"))
    torch.save(model.state_dict(), EXAMPLE_DIR / "mlp.state_dict.pt")
    torch.save(model, EXAMPLE_DIR / "mlp.module.pt")

    # cross-check every serialized form against the in-memory logits
    x16 = np.load(EXAMPLE_DIR / "sample.npy")
    onnx_out = np_eval_onnx(onnx.load(str(EXAMPLE_DIR / "mlp.onnx")), x16)
    assert np.allclose(onnx_out, sample_logits, rtol=1e-4, atol=1e-4)
    with torch.no_grad():
        ts_out = torch.jit.load(str(EXAMPLE_DIR / "mlp.torchscript.pt"))(torch.from_numpy(x16)).numpy()
        mod_out = torch.load(EXAMPLE_DIR / "mlp.module.pt")(torch.from_numpy(x16)).numpy()
    sd_out = eval_state_dict(torch.load(EXAMPLE_DIR / "mlp.state_dict.pt"), x16, "relu")
    for out in (ts_out, mod_out, sd_out):
        assert np.allclose(out, sample_logits, rtol=1e-5, atol=1e-5)
    print(f"  fashion-mnist: test accuracy {correct / len(te_y):.4f} ({correct}/10000), "
          f"{time.time() - t0:.0f}s")


# ----------------------------------------------------------------------------------------------
# A2) Fashion-MNIST convolutional examples (LeNet-5, a small residual network)
# ----------------------------------------------------------------------------------------------

def lenet5():
    """LeNet-5 as an nn.Sequential (so it also saves as a whole module): average-pool subsampling."""
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.AvgPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.AvgPool2d(2),
                         nn.Flatten(), nn.Linear(400, 120), nn.ReLU(),
                         nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


class ResidualBlock(nn.Module):
    """Two 3x3 conv + batch norm; the shortcut is the identity or a strided 1x1 conv + batch norm."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class SmallResNet(nn.Module):
    """stem conv 3x3 + BN + ReLU, max pool 2, a residual block at 8 channels, a strided one to 16,
    global average pool, linear 16 -> 10."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.layer1 = ResidualBlock(8, 8, 1)
        self.layer2 = ResidualBlock(8, 16, 2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.bn(self.stem(x))))
        x = self.layer2(self.layer1(x))
        return self.fc(torch.flatten(self.gap(x), 1))


def train_conv(model, tr_x, tr_y, te_x, te_y, epochs, seed, t0):
    xt, yt = torch.from_numpy(tr_x), torch.from_numpy(tr_y)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    gen = torch.Generator().manual_seed(seed)
    bs = 128
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), bs):
            idx = perm[i:i + bs]
            opt.zero_grad()
            F.cross_entropy(model(xt[idx]), yt[idx]).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            acc = (model(torch.from_numpy(te_x)).argmax(1).numpy() == te_y).mean()
        print(f"  {type(model).__name__} epoch {ep + 1}/{epochs}: test acc {acc:.4f} ({time.time() - t0:.0f}s)", flush=True)
    model.eval()
    return model


def make_fashion_conv(epochs):
    """lenet.* and resnet.* in examples/fashion-mnist, with PyTorch's outputs (NCHW inputs)."""
    t0 = time.time()
    tr_x = read_idx(find_idx("train-images-idx3-ubyte")).reshape(-1, 1, 28, 28).astype(np.float32) / 255.0
    tr_y = read_idx(find_idx("train-labels-idx1-ubyte")).astype(np.int64)
    te_x = read_idx(find_idx("t10k-images-idx3-ubyte")).reshape(-1, 1, 28, 28).astype(np.float32) / 255.0
    te_y = read_idx(find_idx("t10k-labels-idx1-ubyte")).astype(np.int64)
    sample = np.ascontiguousarray(te_x[:16])
    np.save(EXAMPLE_DIR / "sample_images.npy", sample)
    summary = {}
    for name, ctor, seed in (("lenet", lenet5, 31), ("resnet", SmallResNet, 32)):
        seed_all(seed)
        model = train_conv(ctor(), tr_x, tr_y, te_x, te_y, epochs, seed, t0)
        with torch.no_grad():
            preds = model(torch.from_numpy(te_x)).argmax(1).numpy().astype(np.int64)
            logits = model(torch.from_numpy(sample)).numpy().astype(np.float32)
        correct = int((preds == te_y).sum())
        summary[name] = {"accuracy": correct / len(te_y), "correct": correct, "total": int(len(te_y))}
        np.save(EXAMPLE_DIR / f"{name}_predictions.npy", preds)
        np.save(EXAMPLE_DIR / f"{name}_sample_logits.npy", logits)
        example = torch.from_numpy(sample[:1])
        # PRESERVE keeps BatchNormalization nodes (EVAL would fuse them into the convolutions), so
        # the file exercises the importer's folding; the model is in eval mode either way.
        torch.onnx.export(model, example, str(EXAMPLE_DIR / f"{name}.onnx"), opset_version=13,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                          training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=True)
        torch.jit.trace(model, example).save(str(EXAMPLE_DIR / f"{name}.torchscript.pt"))
        torch.jit.script(model).save(str(EXAMPLE_DIR / f"{name}.scripted.pt"))
        if name == "lenet":
            torch.save(model, EXAMPLE_DIR / "lenet.module.pt")
            torch.save(model.state_dict(), EXAMPLE_DIR / "lenet.state_dict.pt")
        with torch.no_grad():
            for suffix in ("torchscript.pt", "scripted.pt"):
                out = torch.jit.load(str(EXAMPLE_DIR / f"{name}.{suffix}"))(torch.from_numpy(sample)).numpy()
                assert np.allclose(out, logits, rtol=1e-5, atol=1e-5), suffix
        ops = sorted(set(onnx_ops(EXAMPLE_DIR / f"{name}.onnx")))
        print(f"  {name}: test accuracy {correct / len(te_y):.4f}, onnx ops {ops} ({time.time() - t0:.0f}s)", flush=True)
    with open(EXAMPLE_DIR / "conv_accuracy.json", "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")


# ----------------------------------------------------------------------------------------------
# B) Model fixtures
# ----------------------------------------------------------------------------------------------

ACTS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


def mlp(dims, act="relu", bias=True, final=None):
    """nn.Sequential Linear/act/.../Linear[/final]. bias may be a bool or a per-layer list."""
    biases = bias if isinstance(bias, (list, tuple)) else [bias] * (len(dims) - 1)
    layers = []
    for i in range(len(dims) - 1):
        layers.append(nn.Linear(dims[i], dims[i + 1], bias=biases[i]))
        if i < len(dims) - 2:
            layers.append(ACTS[act]())
    if final is not None:
        layers.append(final)
    return layers


def seq(*layers):
    flat = []
    for l in layers:
        flat.extend(l if isinstance(l, list) else [l])
    return nn.Sequential(*flat).eval()


class MatMulAddNet(nn.Module):
    """x @ W + b written by hand with nn.Parameter (exports MatMul + Add, W stored [in,out])."""

    def __init__(self, dims):
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(dims[0], dims[1]) * 0.4)
        self.b1 = nn.Parameter(torch.randn(dims[1]) * 0.1)
        self.w2 = nn.Parameter(torch.randn(dims[1], dims[2]) * 0.4)
        self.b2 = nn.Parameter(torch.randn(dims[2]) * 0.1)

    def forward(self, x):
        h = torch.relu(x @ self.w1 + self.b1)
        return h @ self.w2 + self.b2


class ReshapeNet(nn.Module):
    """Input [N,8,8] -> x.reshape(-1, 64) -> Linear/ReLU/Linear."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 16)
        self.fc2 = nn.Linear(16, 5)

    def forward(self, x):
        x = x.reshape(-1, 64)
        return self.fc2(torch.relu(self.fc1(x)))


class FuncNet(nn.Module):
    """Plain module using the functional API: flatten, F.linear, matmul + bias, sigmoid, relu."""

    def __init__(self):
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(16, 12) * 0.4)   # [out,in] for F.linear
        self.b1 = nn.Parameter(torch.randn(16) * 0.1)
        self.w = nn.Parameter(torch.randn(16, 8) * 0.4)     # [in,out] for torch.matmul
        self.b = nn.Parameter(torch.randn(8) * 0.1)
        self.fc3 = nn.Linear(8, 4)

    def forward(self, x):
        x = torch.flatten(x, 1)
        x = F.relu(F.linear(x, self.w1, self.b1))
        x = torch.sigmoid(torch.matmul(x, self.w) + self.b)
        return self.fc3(x)


class NamedNet(nn.Module):
    """Plain module with named Linear attributes fc1, fc2, fc3 (state_dict keys fc1.weight, ...)."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 14)
        self.fc2 = nn.Linear(14, 9)
        self.fc3 = nn.Linear(9, 3)

    def forward(self, x):
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def torch_out(model, x):
    model.eval()
    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy()


def linear_layers(model):
    return [{"in": m.in_features, "out": m.out_features, "bias": m.bias is not None}
            for m in model.modules() if isinstance(m, nn.Linear)]


class Fixtures:
    def __init__(self, root):
        self.root = root
        self.entries = []

    def save_io(self, data, x, y):
        np.save(self.root / f"{data}_input.npy", x)
        np.save(self.root / f"{data}_expected.npy", y)

    def add(self, name, file, fmt, x, y, notes, activation=None, data=None, **extra):
        """Register one fixture; writes <data>_input.npy / <data>_expected.npy (data defaults to name)."""
        data = data or name
        if not (self.root / f"{data}_input.npy").exists() or data == name:
            self.save_io(data, x, y)
        entry = {
            "name": name,
            "file": file,
            "format": fmt,
            "activation": activation if fmt == "state_dict" else None,
            "input": f"{data}_input.npy",
            "expected": f"{data}_expected.npy",
            "input_shape": list(x.shape),
            "input_dtype": str(x.dtype),
            "output_shape": list(y.shape),
            "notes": notes,
        }
        entry.update(extra)
        self.entries.append(entry)


def onnx_export(model, x, path, opset, dynamic=True, input_name="input", output_name="output"):
    model.eval()
    torch.onnx.export(model, torch.from_numpy(x), path if isinstance(path, io.IOBase) else str(path),
                      opset_version=opset,
                      input_names=[input_name], output_names=[output_name],
                      dynamic_axes=({input_name: {0: "batch"}, output_name: {0: "batch"}} if dynamic else None),
                      do_constant_folding=True)


def onnx_ops(path):
    return [n.op_type for n in onnx.load(str(path)).graph.node]


def rand_input(rng, shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def make_onnx_fixtures(fx):
    d = fx.root

    # --- nn.Linear (Gemm) at several opsets, dynamic batch -------------------------------------
    rng = seed_all(100)
    model = seq(mlp([16, 32, 16, 4], "relu"))
    x = rand_input(rng, (8, 16))
    y = torch_out(model, x)
    fx.save_io("linear_relu", x, y)
    for opset in (9, 11, 13, 15, 17):
        name = f"onnx_linear_opset{opset}"
        onnx_export(model, x, d / f"{name}.onnx", opset)
        fx.add(name, f"{name}.onnx", "onnx", x, y, data="linear_relu", opset=opset,
               layers=linear_layers(model), ops=onnx_ops(d / f"{name}.onnx"),
               notes=f"nn.Sequential(Linear 16-32, ReLU, Linear 32-16, ReLU, Linear 16-4) exported at "
                     f"opset {opset}; same weights/input/expected for every opset.")

    # --- initializers also listed as graph inputs (old exporters / keep_initializers_as_inputs) ----
    rng = seed_all(116)
    model = seq(mlp([12, 16, 4], "relu"))
    x = rand_input(rng, (8, 12))
    name = "onnx_initializers_as_inputs"
    model.eval()
    torch.onnx.export(model, torch.from_numpy(x), str(d / f"{name}.onnx"), opset_version=11,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                      keep_initializers_as_inputs=True)
    fx.add(name, f"{name}.onnx", "onnx", x, torch_out(model, x), opset=11, layers=linear_layers(model),
           ops=onnx_ops(d / f"{name}.onnx"),
           notes="keep_initializers_as_inputs=True: graph.input lists 'input' AND every initializer "
                 "(0.weight, 0.bias, ...). The real model input is the graph input without an initializer.")

    # --- explicit x @ W + b ------------------------------------------------------------------------
    rng = seed_all(101)
    model = MatMulAddNet([12, 20, 6]).eval()
    x = rand_input(rng, (8, 12))
    name = "onnx_matmul_add"
    onnx_export(model, x, d / f"{name}.onnx", 13)
    fx.add(name, f"{name}.onnx", "onnx", x, torch_out(model, x), opset=13,
           layers=[{"in": 12, "out": 20, "bias": True}, {"in": 20, "out": 6, "bias": True}],
           ops=onnx_ops(d / f"{name}.onnx"),
           notes="Hand-written x @ W + b with nn.Parameter W stored [in,out] (MatMul + Add, no transpose).")

    # --- Linear without bias -----------------------------------------------------------------------
    rng = seed_all(102)
    model = seq(mlp([10, 18, 5], "relu", bias=False))
    x = rand_input(rng, (8, 10))
    name = "onnx_linear_nobias"
    onnx_export(model, x, d / f"{name}.onnx", 13)
    fx.add(name, f"{name}.onnx", "onnx", x, torch_out(model, x), opset=13, layers=linear_layers(model),
           ops=onnx_ops(d / f"{name}.onnx"),
           notes="nn.Linear(bias=False): torch exports MatMul with a pre-transposed [in,out] initializer.")

    # --- Flatten at start --------------------------------------------------------------------------
    rng = seed_all(103)
    model = seq(nn.Flatten(), mlp([64, 16, 4], "relu"))
    x = rand_input(rng, (8, 1, 8, 8))
    name = "onnx_flatten"
    onnx_export(model, x, d / f"{name}.onnx", 13)
    fx.add(name, f"{name}.onnx", "onnx", x, torch_out(model, x), opset=13, layers=linear_layers(model),
           ops=onnx_ops(d / f"{name}.onnx"),
           notes="nn.Flatten() first; input [N,1,8,8] flattened to [N,64].")

    # --- activations -------------------------------------------------------------------------------
    variants = [
        ("onnx_tanh", 104, seq(mlp([12, 16, 8, 3], "tanh", final=nn.Tanh())),
         "Tanh between layers and Tanh at the end."),
        ("onnx_sigmoid", 105, seq(mlp([12, 16, 8, 3], "sigmoid", final=nn.Sigmoid())),
         "Sigmoid between layers and Sigmoid at the end."),
        ("onnx_leakyrelu", 106, seq(nn.Linear(12, 16), nn.LeakyReLU(0.1), nn.Linear(16, 8),
                                    nn.LeakyReLU(0.1), nn.Linear(8, 3)),
         "LeakyReLU(negative_slope=0.1) between layers (LeakyRelu alpha=0.1)."),
        ("onnx_softmax", 107, seq(mlp([12, 16, 5], "relu", final=nn.Softmax(dim=1))),
         "Softmax(dim=1) at the end (opset 13 Softmax axis=1)."),
        ("onnx_dropout_eval", 108, seq(nn.Linear(12, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3)),
         "nn.Dropout(0.5) in eval mode: torch removes it at export, graph is Gemm/Relu/Gemm. "
         "See onnx_dropout_identity_nodes for explicit Dropout/Identity nodes."),
        ("onnx_identity", 109, seq(nn.Identity(), nn.Linear(12, 16), nn.ReLU(), nn.Identity(), nn.Linear(16, 3)),
         "nn.Identity() modules: torch elides them at export."),
    ]
    for name, s, model, notes in variants:
        rng = seed_all(s)
        x = rand_input(rng, (8, 12))
        onnx_export(model, x, d / f"{name}.onnx", 13)
        fx.add(name, f"{name}.onnx", "onnx", x, torch_out(model, x), opset=13, layers=linear_layers(model),
               ops=onnx_ops(d / f"{name}.onnx"), notes=notes)

    # --- float64 -----------------------------------------------------------------------------------
    rng = seed_all(110)
    model = seq(mlp([12, 16, 4], "relu")).double()
    x = rand_input(rng, (8, 12), np.float64)
    name = "onnx_float64"
    onnx_export(model, x, d / f"{name}.onnx", 13)
    fx.add(name, f"{name}.onnx", "onnx", x, torch_out(model, x), opset=13, layers=linear_layers(model),
           ops=onnx_ops(d / f"{name}.onnx"),
           notes="model.double(): DOUBLE initializers, DOUBLE graph input/output; input npy is float64, "
                 "expected npy is float64.")

    # --- initializers in typed float_data instead of raw_data ----------------------------------------
    rng = seed_all(111)
    model = seq(mlp([12, 16, 4], "relu"))
    x = rand_input(rng, (8, 12))
    name = "onnx_float_data"
    buf = io.BytesIO()
    onnx_export(model, x, buf, 13)
    m = onnx.load_from_string(buf.getvalue())
    for init in m.graph.initializer:
        assert init.data_type == TensorProto.FLOAT and init.HasField("raw_data")
        arr = numpy_helper.to_array(init)
        init.ClearField("raw_data")
        init.float_data.extend(arr.flatten().tolist())
    onnx.checker.check_model(m)
    onnx.save(m, str(d / f"{name}.onnx"))
    fx.add(name, f"{name}.onnx", "onnx", x, torch_out(model, x), opset=13, layers=linear_layers(model),
           ops=onnx_ops(d / f"{name}.onnx"),
           notes="Same graph as a torch export but every initializer stores its values in the typed "
                 "repeated float_data field (raw_data cleared).")

    # --- float16 initializers + Cast --------------------------------------------------------------
    rng = seed_all(112)
    w1 = (rng.standard_normal((16, 10)) * 0.4).astype(np.float16)
    b1 = (rng.standard_normal(16) * 0.1).astype(np.float16)
    w2 = (rng.standard_normal((4, 16)) * 0.4).astype(np.float16)
    b2 = (rng.standard_normal(4) * 0.1).astype(np.float16)
    x = rand_input(rng, (8, 10))
    inits = [numpy_helper.from_array(a, n) for a, n in ((w1, "w1_f16"), (b1, "b1_f16"), (w2, "w2_f16"), (b2, "b2_f16"))]
    nodes = [helper.make_node("Cast", [f"{n}_f16"], [n], to=TensorProto.FLOAT, name=f"cast_{n}")
             for n in ("w1", "b1", "w2", "b2")]
    nodes += [helper.make_node("Gemm", ["input", "w1", "b1"], ["h"], transB=1, name="gemm_1"),
              helper.make_node("Relu", ["h"], ["hr"], name="relu_1"),
              helper.make_node("Gemm", ["hr", "w2", "b2"], ["output"], transB=1, name="gemm_2")]
    graph = helper.make_graph(nodes, "float16_weights",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 10])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 4])], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="cimc-fixtures")
    onnx.checker.check_model(m)
    name = "onnx_float16_cast"
    onnx.save(m, str(d / f"{name}.onnx"))
    ref = seq(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 4))
    with torch.no_grad():
        ref[0].weight.copy_(torch.from_numpy(w1.astype(np.float32)))
        ref[0].bias.copy_(torch.from_numpy(b1.astype(np.float32)))
        ref[2].weight.copy_(torch.from_numpy(w2.astype(np.float32)))
        ref[2].bias.copy_(torch.from_numpy(b2.astype(np.float32)))
    fx.add(name, f"{name}.onnx", "onnx", x, torch_out(ref, x), opset=13, layers=linear_layers(ref),
           ops=onnx_ops(d / f"{name}.onnx"),
           notes="Built with onnx.helper: FLOAT16 initializers (raw_data) -> Cast(to=FLOAT) -> Gemm(transB=1). "
                 "Expected = float32 PyTorch with the f16-rounded weights.")

    # --- Reshape with constant shape ------------------------------------------------------------------
    rng = seed_all(113)
    model = ReshapeNet().eval()
    x = rand_input(rng, (8, 8, 8))
    name = "onnx_reshape_const"
    onnx_export(model, x, d / f"{name}.onnx", 13)
    fx.add(name, f"{name}.onnx", "onnx", x, torch_out(model, x), opset=13, layers=linear_layers(model),
           ops=onnx_ops(d / f"{name}.onnx"),
           notes="Input [N,8,8]; forward does x.reshape(-1, 64) (Reshape with a constant shape [-1,64]).")

    # --- Gemm transB=0, alpha/beta != 1 -----------------------------------------------------------
    rng = seed_all(114)
    wa = (rng.standard_normal((10, 14)) * 0.4).astype(np.float32)   # [in,out], transB=0
    ca = (rng.standard_normal(14) * 0.1).astype(np.float32)
    wb = (rng.standard_normal((3, 14)) * 0.4).astype(np.float32)    # [out,in], transB=1
    cb = (rng.standard_normal(3) * 0.1).astype(np.float32)
    x = rand_input(rng, (8, 10))
    nodes = [helper.make_node("Gemm", ["input", "wa", "ca"], ["h"], alpha=0.5, beta=2.0, transB=0, name="gemm_a"),
             helper.make_node("Relu", ["h"], ["hr"], name="relu_a"),
             helper.make_node("Gemm", ["hr", "wb", "cb"], ["output"], alpha=1.5, beta=-0.75, transB=1, name="gemm_b")]
    graph = helper.make_graph(nodes, "gemm_alpha_beta",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 10])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 3])],
                              [numpy_helper.from_array(wa, "wa"), numpy_helper.from_array(ca, "ca"),
                               numpy_helper.from_array(wb, "wb"), numpy_helper.from_array(cb, "cb")])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="cimc-fixtures")
    onnx.checker.check_model(m)
    name = "onnx_gemm_transb0_alpha_beta"
    onnx.save(m, str(d / f"{name}.onnx"))
    with torch.no_grad():
        xt = torch.from_numpy(x)
        h = torch.relu(0.5 * (xt @ torch.from_numpy(wa)) + 2.0 * torch.from_numpy(ca))
        y = (1.5 * (h @ torch.from_numpy(wb).t()) + (-0.75) * torch.from_numpy(cb)).numpy()
    fx.add(name, f"{name}.onnx", "onnx", x, y, opset=13,
           layers=[{"in": 10, "out": 14, "bias": True}, {"in": 14, "out": 3, "bias": True}],
           ops=onnx_ops(d / f"{name}.onnx"),
           notes="Built with onnx.helper: Gemm(transB=0, alpha=0.5, beta=2.0) with B stored [in,out], Relu, "
                 "Gemm(transB=1, alpha=1.5, beta=-0.75). Y = alpha*A@B' + beta*C.")

    # --- explicit Dropout / Identity nodes --------------------------------------------------------
    rng = seed_all(115)
    w1 = (rng.standard_normal((16, 12)) * 0.4).astype(np.float32)
    b1 = (rng.standard_normal(16) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((3, 16)) * 0.4).astype(np.float32)
    b2 = (rng.standard_normal(3) * 0.1).astype(np.float32)
    x = rand_input(rng, (8, 12))
    nodes = [helper.make_node("Identity", ["input"], ["x_id"], name="identity_0"),
             helper.make_node("Gemm", ["x_id", "w1", "b1"], ["h"], transB=1, name="gemm_1"),
             helper.make_node("Relu", ["h"], ["hr"], name="relu_1"),
             helper.make_node("Dropout", ["hr"], ["hd"], name="dropout_1"),
             helper.make_node("Identity", ["hd"], ["hi"], name="identity_1"),
             helper.make_node("Gemm", ["hi", "w2", "b2"], ["output"], transB=1, name="gemm_2")]
    graph = helper.make_graph(nodes, "dropout_identity",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 12])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 3])],
                              [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(b1, "b1"),
                               numpy_helper.from_array(w2, "w2"), numpy_helper.from_array(b2, "b2")])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="cimc-fixtures")
    onnx.checker.check_model(m)
    name = "onnx_dropout_identity_nodes"
    onnx.save(m, str(d / f"{name}.onnx"))
    ref = seq(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 3))
    with torch.no_grad():
        for lin, w, b in ((ref[0], w1, b1), (ref[2], w2, b2)):
            lin.weight.copy_(torch.from_numpy(w))
            lin.bias.copy_(torch.from_numpy(b))
    fx.add(name, f"{name}.onnx", "onnx", x, torch_out(ref, x), opset=13, layers=linear_layers(ref),
           ops=onnx_ops(d / f"{name}.onnx"),
           notes="Built with onnx.helper: explicit Identity nodes and an opset-13 Dropout node (single output, "
                 "no ratio/training_mode inputs => inference no-op).")


def make_torchscript_fixtures(fx):
    d = fx.root
    cases = [
        ("ts_seq", 200, lambda: seq(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 12), nn.Tanh(), nn.Linear(12, 4)),
         (8, 10), "nn.Sequential(Linear 10-16, ReLU, Linear 16-12, Tanh, Linear 12-4)."),
        ("ts_func", 201, lambda: FuncNet().eval(), (8, 3, 4),
         "Plain nn.Module: torch.flatten(x,1) -> F.relu(F.linear(x,w1,b1)) -> "
         "torch.sigmoid(torch.matmul(x,w)+b) [w stored [in,out]] -> self.fc3 (nn.Linear). Input [N,3,4]."),
        ("ts_nobias", 202, lambda: seq(nn.Linear(10, 16, bias=False), nn.ReLU(), nn.Linear(16, 4, bias=False)),
         (8, 10), "nn.Sequential(Linear(bias=False), ReLU, Linear(bias=False))."),
        ("ts_leaky_softmax", 203,
         lambda: seq(nn.Linear(10, 16), nn.LeakyReLU(0.1), nn.Linear(16, 5), nn.Softmax(dim=1)),
         (8, 10), "nn.Sequential(Linear, LeakyReLU(0.1), Linear, Softmax(dim=1))."),
    ]
    for base, s, ctor, shape, notes in cases:
        rng = seed_all(s)
        model = ctor()
        x = rand_input(rng, shape)
        y = torch_out(model, x)
        fx.save_io(base, x, y)
        for mode in ("trace", "script"):
            name = f"{base}_{mode}"
            sm = torch.jit.trace(model, torch.from_numpy(x)) if mode == "trace" else torch.jit.script(model)
            sm.save(str(d / f"{name}.pt"))
            layers = linear_layers(model)
            if base == "ts_func":
                layers = [{"in": 12, "out": 16, "bias": True}, {"in": 16, "out": 8, "bias": True}] + layers
            fx.add(name, f"{name}.pt", "torchscript", x, y, data=base, torchscript_mode=mode,
                   layers=layers, notes=f"torch.jit.{mode} of " + notes)


def make_state_dict_fixtures(fx):
    d = fx.root

    def simple(name, s, act, dims, bias=True, ext=".pt", notes=""):
        rng = seed_all(s)
        model = seq(mlp(dims, act, bias=bias))
        x = rand_input(rng, (8, dims[0]))
        torch.save(model.state_dict(), d / f"{name}{ext}")
        fx.add(name, f"{name}{ext}", "state_dict", x, torch_out(model, x), activation=act,
               layers=linear_layers(model), keys=list(model.state_dict().keys()), notes=notes)

    simple("sd_relu", 300, "relu", [12, 16, 8, 4],
           notes="nn.Sequential(Linear, ReLU, Linear, ReLU, Linear) state_dict; keys 0.*, 2.*, 4.*; "
                 "no activation after the last layer.")
    simple("sd_sigmoid", 301, "sigmoid", [12, 16, 8, 4], notes="Sigmoid between layers.")
    simple("sd_tanh", 302, "tanh", [12, 16, 8, 4], notes="Tanh between layers.")
    simple("sd_nobias", 303, "relu", [12, 16, 8, 4], bias=[False, True, False],
           notes="Mixed: layer 0 and layer 4 have no bias (no 0.bias / 4.bias keys), layer 2 has one.")
    simple("sd_relu_pth", 304, "relu", [9, 13, 5], ext=".pth",
           notes="Same kind as sd_relu but saved with the .pth extension.")

    # named attributes
    rng = seed_all(305)
    model = NamedNet().eval()
    x = rand_input(rng, (8, 10))
    torch.save(model.state_dict(), d / "sd_named.pt")
    fx.add("sd_named", "sd_named.pt", "state_dict", x, torch_out(model, x), activation="relu",
           layers=linear_layers(model), keys=list(model.state_dict().keys()),
           notes="Plain module with attributes fc1, fc2, fc3 (keys fc1.weight, fc1.bias, ...); ReLU between.")

    # non-contiguous / offset storages
    rng = seed_all(306)
    ref = seq(mlp([10, 12, 6, 3], "relu"))
    p0 = torch.randn(10, 12) * 0.4                  # weight 0 stored transposed: saved as p0.t() (strides (1,12))
    big_b = torch.randn(40) * 0.1                   # bias 0 = big_b[3:27:2] (offset 3, stride 2)
    big_w = torch.randn(200) * 0.4                  # weight 2 = big_w[17:17+72].view(6,12) (offset 17)
    w4 = (torch.randn(6, 3) * 0.4)                  # weight 4 = column slice of a [3,20] tensor
    host4 = torch.randn(3, 20)
    host4[:, 5:11] = w4.t()
    sd = collections.OrderedDict()
    sd["0.weight"] = p0.t()
    sd["0.bias"] = big_b[3:27:2]
    sd["2.weight"] = big_w[17:17 + 72].view(6, 12)
    sd["2.bias"] = torch.randn(6) * 0.1
    sd["4.weight"] = host4[:, 5:11]
    sd["4.bias"] = torch.randn(3) * 0.1
    layout = {k: {"shape": list(v.shape), "stride": list(v.stride()), "storage_offset": v.storage_offset(),
                  "storage_numel": v.storage().size(), "contiguous": v.is_contiguous()} for k, v in sd.items()}
    torch.save(sd, d / "sd_strided.pt")
    ref.load_state_dict({k: v.contiguous() for k, v in sd.items()})
    x = rand_input(rng, (8, 10))
    loaded = torch.load(d / "sd_strided.pt")
    for k in sd:
        assert loaded[k].stride() == sd[k].stride() and loaded[k].storage_offset() == sd[k].storage_offset()
        assert torch.equal(loaded[k], sd[k])
    fx.add("sd_strided", "sd_strided.pt", "state_dict", x, torch_out(ref, x), activation="relu",
           layers=linear_layers(ref), keys=list(sd.keys()), tensor_layout=layout,
           notes="Tensors with nontrivial strides / storage offsets: 0.weight is a transposed view (stride [1,12]); "
                 "0.bias is big[3:27:2] (offset 3, stride 2, storage 40); 2.weight is a view at offset 17 "
                 "of a 200-element storage; 4.weight is a column slice [:,5:11] of a [3,20] tensor (stride "
                 "[20,1], offset 5). Expected output uses the logical tensor values (see tensor_layout).")


def make_module_fixtures(fx):
    d = fx.root
    rng = seed_all(400)
    model = seq(nn.Flatten(), nn.Linear(16, 12), nn.ReLU(), nn.Dropout(0.2), nn.Linear(12, 10), nn.Sigmoid(),
                nn.Linear(10, 8), nn.Tanh(), nn.Linear(8, 3))
    x = rand_input(rng, (8, 1, 4, 4))
    torch.save(model, d / "module_mixed.pt")
    fx.add("module_mixed", "module_mixed.pt", "module", x, torch_out(model, x), layers=linear_layers(model),
           notes="torch.save(nn.Sequential(Flatten, Linear 16-12, ReLU, Dropout(0.2), Linear 12-10, Sigmoid, "
                 "Linear 10-8, Tanh, Linear 8-3)) in eval mode. Input [N,1,4,4].")
    rng = seed_all(401)
    model = seq(mlp([12, 16, 4], "relu"))
    x = rand_input(rng, (8, 12))
    torch.save(model, d / "module_relu.pt")
    fx.add("module_relu", "module_relu.pt", "module", x, torch_out(model, x), layers=linear_layers(model),
           notes="torch.save(nn.Sequential(Linear 12-16, ReLU, Linear 16-4)).")


def make_random_fixtures(fx, count=6, max_params=20000):
    d = fx.root
    rng = np.random.default_rng(500)
    for i in range(count):
        while True:
            n_layers = int(rng.integers(2, 5))
            dims = [int(v) for v in rng.integers(5, 301, size=n_layers + 1)]
            if sum(dims[j] * dims[j + 1] for j in range(n_layers)) <= max_params:
                break
        act = str(rng.choice(["relu", "sigmoid", "tanh"]))
        bias = bool(rng.random() < 0.5)
        opset = int(rng.integers(11, 18))
        mode = "trace" if i % 2 == 0 else "script"
        torch.manual_seed(510 + i)
        model = seq(mlp(dims, act, bias=bias))
        x = rand_input(rng, (8, dims[0]))
        y = torch_out(model, x)
        base = f"random_{i}"
        fx.save_io(base, x, y)
        desc = (f"Random MLP dims {dims}, activation {act} between layers, bias={bias}, "
                f"no final activation")
        onnx_export(model, x, d / f"{base}.onnx", opset)
        fx.add(f"{base}_onnx", f"{base}.onnx", "onnx", x, y, data=base, opset=opset, layers=linear_layers(model),
               ops=onnx_ops(d / f"{base}.onnx"), random_activation=act, notes=f"{desc}; ONNX opset {opset}.")
        sm = torch.jit.trace(model, torch.from_numpy(x)) if mode == "trace" else torch.jit.script(model)
        sm.save(str(d / f"{base}.torchscript.pt"))
        fx.add(f"{base}_torchscript", f"{base}.torchscript.pt", "torchscript", x, y, data=base,
               torchscript_mode=mode, layers=linear_layers(model), random_activation=act,
               notes=f"{desc}; torch.jit.{mode}.")
        # state_dict form as well (cheap, gives the state_dict importer unseen shapes)
        torch.save(model.state_dict(), d / f"{base}.state_dict.pt")
        fx.add(f"{base}_state_dict", f"{base}.state_dict.pt", "state_dict", x, y, data=base, activation=act,
               layers=linear_layers(model), keys=list(model.state_dict().keys()), notes=f"{desc}; state_dict.")


# ----------------------------------------------------------------------------------------------
# C) Hostile files
# ----------------------------------------------------------------------------------------------

class PickleBytes:
    """Tiny pickle opcode emitter, so hostile pickles are written byte by byte and never executed."""

    def __init__(self, proto=2):
        self.b = bytearray(b"\x80" + bytes([proto]))

    def op(self, raw):
        self.b += raw
        return self

    def global_(self, module, name):          # GLOBAL 'module name'
        return self.op(b"c" + module.encode() + b"\n" + name.encode() + b"\n")

    def stack_global(self, module, name):     # SHORT_BINUNICODE x2 + STACK_GLOBAL (protocol 4)
        return self.short_str(module).short_str(name).op(b"\x93")

    def short_str(self, s):                    # SHORT_BINUNICODE
        e = s.encode()
        return self.op(b"\x8c" + bytes([len(e)]) + e)

    def str_(self, s):                         # BINUNICODE
        e = s.encode()
        return self.op(b"X" + struct.pack("<I", len(e)) + e)

    def int_(self, v):
        if 0 <= v < 256:
            return self.op(b"K" + bytes([v]))              # BININT1
        return self.op(b"J" + struct.pack("<i", v))        # BININT

    def mark(self):
        return self.op(b"(")

    def tuple_(self):
        return self.op(b"t")

    def tuple1(self):
        return self.op(b"\x85")

    def tuple2(self):
        return self.op(b"\x86")

    def empty_tuple(self):
        return self.op(b")")

    def reduce(self):
        return self.op(b"R")

    def binpersid(self):
        return self.op(b"Q")

    def newfalse(self):
        return self.op(b"\x89")

    def setitems(self):
        return self.op(b"u")

    def stop(self):
        self.op(b".")
        data = bytes(self.b)
        list(pickletools.genops(data))  # structural validation only; does not execute anything
        return data


HARMLESS_CMD = "echo cimc-hostile-fixture-should-never-run"


def torch_zip(path, entries):
    """Write a torch.save-style archive: <stem>/data.pkl, <stem>/data/<key>, <stem>/version (stored)."""
    stem = path.stem
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        for rel, data in [("data.pkl", entries["data.pkl"])] + \
                         [(k, v) for k, v in entries.items() if k != "data.pkl"] + [("version", b"3\n")]:
            info = zipfile.ZipInfo(f"{stem}/{rel}", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            z.writestr(info, data)


def save_onnx_unchecked(model, path):
    with open(path, "wb") as f:
        f.write(model.SerializeToString())


def gemm_model(nodes, inits, in_dim, out_dim, name, extra_inputs=()):
    graph = helper.make_graph(nodes, name,
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", in_dim])]
                              + list(extra_inputs),
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", out_dim])],
                              inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="cimc-fixtures")


def make_hostile():
    h = HOSTILE_DIR
    h.mkdir(parents=True, exist_ok=True)
    items = []

    def reg(file, category, expected, what):
        items.append({"file": file, "category": category, "expected_error": expected, "description": what})

    # pickles calling os.system / builtins.eval
    os_sys = PickleBytes(2).global_("os", "system").str_(HARMLESS_CMD).tuple1().reduce().stop()
    torch_zip(h / "os_system.pt", {"data.pkl": os_sys})
    reg("os_system.pt", "pickle_forbidden_global", "UnsafePickle: global 'os.system' not allowed",
        "torch.save-style zip (os_system/data.pkl, os_system/version); data.pkl = PROTO 2, "
        "GLOBAL 'os system', BINUNICODE cmd, TUPLE1, REDUCE, STOP.")
    ev = PickleBytes(4).stack_global("builtins", "eval").short_str("__import__('os').system('" + HARMLESS_CMD + "')") \
        .tuple1().reduce().stop()
    torch_zip(h / "eval.pt", {"data.pkl": ev})
    reg("eval.pt", "pickle_forbidden_global", "UnsafePickle: global 'builtins.eval' not allowed",
        "torch.save-style zip; data.pkl = PROTO 4, SHORT_BINUNICODE 'builtins', SHORT_BINUNICODE 'eval', "
        "STACK_GLOBAL, string arg, TUPLE1, REDUCE, STOP.")
    with open(h / "os_system.pkl", "wb") as f:
        f.write(os_sys)
    reg("os_system.pkl", "pickle_forbidden_global",
        "UnsafePickle (or 'not a zip/torch archive' if raw legacy pickles are refused outright)",
        "Raw (non-zip) pickle, same bytes as os_system.pt's data.pkl.")

    # os.system hidden inside an otherwise normal-looking state_dict
    nested = (PickleBytes(2).global_("collections", "OrderedDict").empty_tuple().reduce().mark()
              .str_("0.weight").global_("torch._utils", "_rebuild_tensor_v2").mark()
              .mark().str_("storage").global_("torch", "FloatStorage").str_("0").str_("cpu").int_(4).tuple_()
              .binpersid().int_(0).int_(2).int_(2).tuple2().int_(2).int_(1).tuple2().newfalse()
              .global_("collections", "OrderedDict").empty_tuple().reduce().tuple_().reduce()
              .str_("0.bias").global_("os", "system").str_(HARMLESS_CMD).tuple1().reduce()
              .setitems().stop())
    torch_zip(h / "nested_os_system.pt", {"data.pkl": nested, "data/0": np.ones(4, np.float32).tobytes()})
    reg("nested_os_system.pt", "pickle_forbidden_global", "UnsafePickle: global 'os.system' not allowed",
        "Valid-looking state_dict OrderedDict whose first entry is a real 2x2 tensor and whose '0.bias' "
        "value is os.system(cmd) via GLOBAL+REDUCE. Must be rejected even though parsing starts normally.")

    unk = PickleBytes(2).global_("__main__", "EvilNet").empty_tuple().reduce().stop()
    torch_zip(h / "unknown_class.pt", {"data.pkl": unk})
    reg("unknown_class.pt", "pickle_forbidden_global", "UnsafePickle: global '__main__.EvilNet' not allowed",
        "Whole-module style archive whose data.pkl instantiates a user class __main__.EvilNet.")

    # huge tensor claim
    huge = (PickleBytes(2).global_("collections", "OrderedDict").empty_tuple().reduce().mark()
            .str_("0.weight").global_("torch._utils", "_rebuild_tensor_v2").mark()
            .mark().str_("storage").global_("torch", "FloatStorage").str_("0").str_("cpu").int_(4).tuple_()
            .binpersid().int_(0).int_(1000000).int_(1000000).tuple2().int_(1000000).int_(1).tuple2()
            .newfalse().global_("collections", "OrderedDict").empty_tuple().reduce().tuple_().reduce()
            .setitems().stop())
    torch_zip(h / "huge_tensor.pt", {"data.pkl": huge, "data/0": np.zeros(4, np.float32).tobytes()})
    reg("huge_tensor.pt", "tensor_too_large",
        "InvalidModel: tensor '0.weight' shape (1000000, 1000000) exceeds limits / storage has only 4 elements",
        "state_dict archive; '0.weight' rebuilt via _rebuild_tensor_v2 with size (1000000,1000000), "
        "stride (1000000,1), but storage '0' is declared with 4 elements and data/0 is 16 bytes. "
        "Must be rejected without allocating 4 TB.")

    # truncated / random / empty
    src_onnx = (FIXTURE_DIR / "onnx_linear_opset13.onnx").read_bytes()
    (h / "truncated.onnx").write_bytes(src_onnx[:len(src_onnx) // 2])
    reg("truncated.onnx", "malformed_onnx", "InvalidModel: failed to parse ONNX protobuf (truncated)",
        "onnx_linear_opset13.onnx cut to its first half.")
    src_pt = (FIXTURE_DIR / "sd_relu.pt").read_bytes()
    (h / "truncated.pt").write_bytes(src_pt[:len(src_pt) // 2])
    reg("truncated.pt", "malformed_torch", "InvalidModel: not a valid zip archive (no end of central directory)",
        "sd_relu.pt cut to its first half (the zip central directory is lost).")
    rb = np.random.default_rng(1234)
    (h / "random.onnx").write_bytes(rb.bytes(4096))
    reg("random.onnx", "malformed_onnx", "InvalidModel: failed to parse ONNX protobuf",
        "4096 random bytes (numpy default_rng(1234)); onnx.load raises DecodeError.")
    (h / "random.pt").write_bytes(rb.bytes(4096))
    reg("random.pt", "malformed_torch", "InvalidModel: not a zip archive / not a pickle",
        "4096 random bytes (same generator, next 4096 bytes).")
    (h / "empty.onnx").write_bytes(b"")
    reg("empty.onnx", "malformed_onnx", "InvalidModel: empty file / model has no graph",
        "0 bytes. Note: 0 bytes is a valid (empty) protobuf message, so a protobuf parser accepts it and "
        "yields a ModelProto with ir_version 0 and no graph; the importer must notice the missing graph.")
    (h / "empty.pt").write_bytes(b"")
    reg("empty.pt", "malformed_torch", "InvalidModel: empty file", "0 bytes.")

    r = np.random.default_rng(77)
    W = numpy_helper.from_array((r.standard_normal((4, 4)) * 0.5).astype(np.float32), "W")
    B = numpy_helper.from_array(np.zeros(4, np.float32), "B")

    # cycle
    nodes = [helper.make_node("Gemm", ["input", "W", "B"], ["g"], transB=1, name="gemm_0"),
             helper.make_node("Add", ["g", "relu_b_out"], ["s"], name="add_0"),
             helper.make_node("Relu", ["s"], ["relu_a_out"], name="relu_a"),
             helper.make_node("Relu", ["relu_a_out"], ["relu_b_out"], name="relu_b")]
    m = gemm_model(nodes, [W, B], 4, 4, "cycle")
    m.graph.output[0].name = "relu_a_out"
    save_onnx_unchecked(m, h / "cycle.onnx")
    # pure two-node cycle variant
    nodes = [helper.make_node("Gemm", ["input", "W", "B"], ["output"], transB=1, name="gemm_0"),
             helper.make_node("Relu", ["relu_b_out"], ["relu_a_out"], name="relu_a"),
             helper.make_node("Relu", ["relu_a_out"], ["relu_b_out"], name="relu_b")]
    g = gemm_model(nodes, [W, B], 4, 4, "cycle2")
    g.graph.output.append(helper.make_tensor_value_info("relu_b_out", TensorProto.FLOAT, ["batch", 4]))
    save_onnx_unchecked(g, h / "cycle_pure.onnx")
    reg("cycle.onnx", "graph_cycle", "InvalidModel: graph contains a cycle (relu_a -> relu_b -> add_0 -> relu_a)",
        "Gemm(input)->g; Add(g, relu_b_out)->s; Relu(s)->relu_a_out; Relu(relu_a_out)->relu_b_out; "
        "graph output relu_a_out. The two Relu nodes feed each other through the Add.")
    reg("cycle_pure.onnx", "graph_cycle", "InvalidModel: graph contains a cycle (relu_a <-> relu_b)",
        "relu_a consumes relu_b's output and vice versa (no other producer); a Gemm(input)->output sits "
        "beside them; graph outputs 'output' and 'relu_b_out'.")

    # dangling
    nodes = [helper.make_node("Gemm", ["input", "W", "B"], ["g"], transB=1, name="gemm_0"),
             helper.make_node("Add", ["g", "ghost_tensor"], ["output"], name="add_ghost")]
    save_onnx_unchecked(gemm_model(nodes, [W, B], 4, 4, "dangling"), h / "dangling.onnx")
    reg("dangling.onnx", "graph_dangling_input",
        "InvalidModel: node 'add_ghost' input 'ghost_tensor' is not a graph input, initializer or node output",
        "Add node consuming a tensor name nobody produces.")

    # external data
    for fname, loc, what in (("external_data.onnx", "weights.bin",
                              "Initializer W has data_location=EXTERNAL, location 'weights.bin' (file not shipped)."),
                             ("external_data_traversal.onnx", "../../../../../../../etc/passwd",
                              "Initializer W has data_location=EXTERNAL pointing at ../../../../../../../etc/passwd "
                              "(path traversal); must be refused without opening anything.")):
        Wext = TensorProto()
        Wext.name = "W"
        Wext.data_type = TensorProto.FLOAT
        Wext.dims.extend([4, 4])
        Wext.data_location = TensorProto.EXTERNAL
        for k, v in (("location", loc), ("offset", "0"), ("length", "64")):
            e = Wext.external_data.add()
            e.key, e.value = k, v
        nodes = [helper.make_node("Gemm", ["input", "W", "B"], ["output"], transB=1, name="gemm_0")]
        save_onnx_unchecked(gemm_model(nodes, [Wext, B], 4, 4, "external"), h / fname)
        reg(fname, "external_data", "Unsupported: external tensor data is not supported", what)

    # unsupported op (a transposed convolution: Conv itself is imported since issue 11)
    cw = numpy_helper.from_array((r.standard_normal((1, 4, 3, 3)) * 0.3).astype(np.float32), "conv_w")
    cb = numpy_helper.from_array(np.zeros(4, np.float32), "conv_b")
    fw = numpy_helper.from_array((r.standard_normal((10, 144)) * 0.1).astype(np.float32), "fc_w")
    fb = numpy_helper.from_array(np.zeros(10, np.float32), "fc_b")
    nodes = [helper.make_node("ConvTranspose", ["input", "conv_w", "conv_b"], ["c"], kernel_shape=[3, 3],
                              pads=[2, 2, 2, 2], name="conv_1"),
             helper.make_node("Relu", ["c"], ["cr"], name="relu_1"),
             helper.make_node("Flatten", ["cr"], ["f"], axis=1, name="flatten_1"),
             helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["output"], transB=1, name="gemm_1")]
    graph = helper.make_graph(nodes, "conv_net",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 1, 8, 8])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 10])],
                              [cw, cb, fw, fb])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="cimc-fixtures")
    onnx.checker.check_model(m)
    onnx.save(m, str(h / "unsupported_op.onnx"))
    reg("unsupported_op.onnx", "unsupported_op", "Unsupported: operator 'ConvTranspose' (node 'conv_1')",
        "Valid ONNX (passes onnx.checker): ConvTranspose 'conv_1' -> Relu -> Flatten -> Gemm, input [N,1,8,8].")

    # huge dims
    Wh = TensorProto()
    Wh.name = "W"
    Wh.data_type = TensorProto.FLOAT
    Wh.dims.extend([1000000, 1000000])
    Wh.raw_data = np.zeros(4, np.float32).tobytes()
    Bh = numpy_helper.from_array(np.zeros(4, np.float32), "B")
    nodes = [helper.make_node("Gemm", ["input", "W", "B"], ["output"], transB=1, name="gemm_0")]
    save_onnx_unchecked(gemm_model(nodes, [Wh, Bh], 1000000, 1000000, "huge"), h / "huge_dims.onnx")
    reg("huge_dims.onnx", "tensor_too_large",
        "InvalidModel: initializer 'W' dims [1000000,1000000] exceed limits / raw_data has 16 bytes, "
        "expected 4e12",
        "Initializer W declares dims [1000000, 1000000] but raw_data holds 16 bytes; graph input "
        "[batch, 1000000]. onnx 1.12's checker accepts this file, so the importer must check sizes itself.")

    # shape mismatch between layers
    W1 = numpy_helper.from_array((r.standard_normal((16, 8)) * 0.3).astype(np.float32), "W1")
    B1 = numpy_helper.from_array(np.zeros(16, np.float32), "B1")
    W2 = numpy_helper.from_array((r.standard_normal((4, 10)) * 0.3).astype(np.float32), "W2")
    B2 = numpy_helper.from_array(np.zeros(4, np.float32), "B2")
    nodes = [helper.make_node("Gemm", ["input", "W1", "B1"], ["h"], transB=1, name="gemm_1"),
             helper.make_node("Relu", ["h"], ["hr"], name="relu_1"),
             helper.make_node("Gemm", ["hr", "W2", "B2"], ["output"], transB=1, name="gemm_2")]
    save_onnx_unchecked(gemm_model(nodes, [W1, B1, W2, B2], 8, 4, "mismatch"), h / "shape_mismatch.onnx")
    reg("shape_mismatch.onnx", "shape_mismatch",
        "InvalidModel: gemm_2 expects 10 inputs but previous layer produces 16",
        "Gemm 8->16, Relu, then Gemm whose weight is [4,10] (in-features 10 != 16). Passes onnx.checker.")

    # NaN / Inf weights
    wn = (r.standard_normal((4, 4)) * 0.5).astype(np.float32)
    wn[1, 2] = np.nan
    wn[3, 0] = np.inf
    nodes = [helper.make_node("Gemm", ["input", "W", "B"], ["output"], transB=1, name="gemm_0")]
    m = gemm_model(nodes, [numpy_helper.from_array(wn, "W"), B], 4, 4, "nan")
    onnx.checker.check_model(m)
    save_onnx_unchecked(m, h / "nan_weights.onnx")
    reg("nan_weights.onnx", "non_finite_weights", "InvalidModel: initializer 'W' contains NaN/Inf",
        "Valid ONNX whose weight W has a NaN at [1,2] and +Inf at [3,0].")

    # sanity: the pickles are recognised by torch's *safe* loader as forbidden (never the unsafe one)
    for f in ("os_system.pt", "eval.pt", "nested_os_system.pt", "unknown_class.pt"):
        try:
            torch.load(h / f, weights_only=True)
            raise AssertionError(f"{f} unexpectedly loaded")
        except pickle_errors() as e:
            assert "Unsupported" in str(e) or "global" in str(e).lower(), (f, e)
    try:
        torch.load(h / "huge_tensor.pt", weights_only=True)
        raise AssertionError("huge_tensor.pt unexpectedly loaded")
    except pickle_errors() as e:   # torch 1.13: "... Trying to resize storage that is not resizable"
        assert "storage" in str(e).lower(), e

    with open(h / "manifest.json", "w") as f:
        json.dump({"description": "Hostile / malformed inputs; every file must be rejected with a clear error "
                                  "and without executing code or allocating huge buffers.",
                   "files": items}, f, indent=2)
        f.write("\n")
    write_hostile_readme(items)


def pickle_errors():
    import pickle
    return (pickle.UnpicklingError, RuntimeError)


def write_hostile_readme(items):
    lines = [
        "# Hostile fixtures",
        "",
        "Generated by `examples/make_fixtures.py` (`/usr/bin/python3 examples/make_fixtures.py --skip-fashion`).",
        "Every file here must be **rejected** by the importers with a clear, typed error, without executing",
        "code, touching the filesystem outside the model file, or allocating huge buffers. The pickles were",
        "written opcode by opcode and never unpickled; the only command they reference is the harmless",
        f"`{HARMLESS_CMD}`. `manifest.json` holds the same table in machine-readable form.",
        "",
        "| File | Category | Expected error | Description |",
        "|---|---|---|---|",
    ]
    for it in items:
        lines.append(f"| `{it['file']}` | {it['category']} | {it['expected_error']} | {it['description']} |")
    lines += [
        "",
        "Expected-error wording is indicative; tests should check the error category (for example an",
        "unsafe-pickle error vs. a parse error), not the exact text.",
        "",
        "torch-style archives follow torch 1.13's `torch.save` layout: a single top folder named after the",
        "file stem (`os_system/data.pkl`, `os_system/version` = `3\\n`, tensor bytes in `<stem>/data/<key>`),",
        "all entries stored uncompressed.",
        "",
    ]
    (HOSTILE_DIR / "README.md").write_text("\n".join(lines))


# ----------------------------------------------------------------------------------------------
# Verification helpers
# ----------------------------------------------------------------------------------------------

def np_eval_onnx(model, x):
    """Minimal numpy ONNX evaluator for the op subset used by the fixtures (topologically sorted graphs)."""
    opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=13)
    env = {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}
    inputs = [i.name for i in model.graph.input if i.name not in env]
    env[inputs[0]] = x
    for node in model.graph.node:
        ins = [env[n] if n else None for n in node.input]
        a = {at.name: helper.get_attribute_value(at) for at in node.attribute}
        op = node.op_type
        if op == "Gemm":
            A, B = ins[0], ins[1]
            if a.get("transA", 0):
                A = A.T
            if a.get("transB", 0):
                B = B.T
            y = a.get("alpha", 1.0) * (A @ B)
            if len(ins) > 2 and ins[2] is not None:
                y = y + a.get("beta", 1.0) * ins[2]
            y = y.astype(A.dtype)
        elif op == "MatMul":
            y = ins[0] @ ins[1]
        elif op == "Add":
            y = ins[0] + ins[1]
        elif op == "Relu":
            y = np.maximum(ins[0], 0)
        elif op == "Sigmoid":
            y = (1 / (1 + np.exp(-ins[0]))).astype(ins[0].dtype)
        elif op == "Tanh":
            y = np.tanh(ins[0])
        elif op == "LeakyRelu":
            al = a.get("alpha", 0.01)
            y = np.where(ins[0] >= 0, ins[0], ins[0] * np.asarray(al, ins[0].dtype))
        elif op == "Softmax":
            axis = a.get("axis", -1 if opset >= 13 else 1)
            z = ins[0] - ins[0].max(axis=axis, keepdims=True)
            e = np.exp(z)
            y = e / e.sum(axis=axis, keepdims=True)
        elif op == "Flatten":
            axis = a.get("axis", 1)
            y = ins[0].reshape(int(np.prod(ins[0].shape[:axis])), -1)
        elif op == "Reshape":
            shape = [ins[0].shape[i] if s == 0 else int(s) for i, s in enumerate(ins[1])]
            y = ins[0].reshape(shape)
        elif op == "Constant":
            y = numpy_helper.to_array(a["value"])
        elif op == "Cast":
            y = ins[0].astype(onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[a["to"]])
        elif op in ("Identity", "Dropout"):
            y = ins[0]
        else:
            raise NotImplementedError(f"np_eval_onnx: op {op}")
        env[node.output[0]] = y
    return env[model.graph.output[0].name]


ACT_FN = {"relu": lambda v: np.maximum(v, 0), "sigmoid": lambda v: 1 / (1 + np.exp(-v)), "tanh": np.tanh,
          "none": lambda v: v, None: lambda v: v}


def eval_state_dict(sd, x, activation):
    """Generic importer-style evaluation: group '<prefix>.weight'/'<prefix>.bias' in key order."""
    layers = collections.OrderedDict()
    for k, v in sd.items():
        prefix, _, kind = k.rpartition(".")
        layers.setdefault(prefix, {})[kind] = v.detach().double().numpy()
    h = x.astype(np.float64)
    items = list(layers.values())
    for i, l in enumerate(items):
        h = h @ l["weight"].T + (l["bias"] if "bias" in l else 0)
        if i < len(items) - 1:
            h = ACT_FN[activation](h)
    return h


def verify_fixtures(entries):
    for e in entries:
        path = FIXTURE_DIR / e["file"]
        x = np.load(FIXTURE_DIR / e["input"])
        y = np.load(FIXTURE_DIR / e["expected"])
        assert x.dtype == (np.float64 if "float64" in e["name"] else np.float32), e["name"]
        if e["format"] == "onnx":
            m = onnx.load(str(path))
            onnx.checker.check_model(m)
            out = np_eval_onnx(m, x)
            assert out.dtype == y.dtype, (e["name"], out.dtype, y.dtype)
        elif e["format"] == "torchscript":
            with torch.no_grad():
                out = torch.jit.load(str(path))(torch.from_numpy(x)).numpy()
        elif e["format"] == "state_dict":
            out = eval_state_dict(torch.load(path), x, e["activation"])
        elif e["format"] == "module":
            with torch.no_grad():
                out = torch.load(path)(torch.from_numpy(x)).numpy()
        else:
            raise ValueError(e["format"])
        if not np.allclose(out, y, rtol=1e-4, atol=1e-5):
            raise AssertionError(f"{e['name']}: max abs diff {np.abs(out - y).max()}")


# ----------------------------------------------------------------------------------------------
# Inspection (report)
# ----------------------------------------------------------------------------------------------

def inspect():
    print("== ONNX files: opset, ops ==")
    for p in sorted(list(FIXTURE_DIR.glob("*.onnx")) + list(EXAMPLE_DIR.glob("*.onnx"))):
        m = onnx.load(str(p))
        ops = ",".join(f"{o.domain or 'ai.onnx'}:{o.version}" for o in m.opset_import)
        inits = {i.name: (TensorProto.DataType.Name(i.data_type), list(i.dims),
                          "raw" if i.HasField("raw_data") else "typed") for i in m.graph.initializer}
        dims = [[d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim] for i in m.graph.input]
        print(f"{p.relative_to(ROOT)}  opset {ops}  ir {m.ir_version}  input {dims}")
        for n in m.graph.node:
            attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
            attrs = {k: (v if not isinstance(v, TensorProto) else f"tensor{list(v.dims)}={numpy_helper.to_array(v).tolist()}")
                     for k, v in attrs.items()}
            print(f"    {n.op_type:10s} {list(n.input)} -> {list(n.output)} {attrs if attrs else ''}")
        print(f"    initializers: {inits}")
    print()
    print("== TorchScript archives ==")
    for p in sorted(list(FIXTURE_DIR.glob("ts_*.pt")) + list(FIXTURE_DIR.glob("random_*.torchscript.pt"))
                    + [EXAMPLE_DIR / "mlp.torchscript.pt"]):
        if not p.exists():
            continue
        z = zipfile.ZipFile(p)
        print(f"{p.relative_to(ROOT)}: " + ", ".join(
            f"{i.filename}{'(deflate)' if i.compress_type == zipfile.ZIP_DEFLATED else ''}" for i in z.infolist()))
    for p in (FIXTURE_DIR / "ts_seq_trace.pt", FIXTURE_DIR / "ts_seq_script.pt",
              FIXTURE_DIR / "ts_func_trace.pt", FIXTURE_DIR / "ts_func_script.pt"):
        z = zipfile.ZipFile(p)
        print(f"\n---- {p.name} code/ ----")
        for i in z.infolist():
            if "/code/" in i.filename and i.filename.endswith(".py"):
                print(f"## {i.filename}\n{z.read(i).decode()}")
    print("\n== pickle disassembly (pickletools.dis; nothing is unpickled) ==")
    for p in (FIXTURE_DIR / "ts_seq_trace.pt", FIXTURE_DIR / "module_relu.pt", FIXTURE_DIR / "sd_nobias.pt"):
        z = zipfile.ZipFile(p)
        for i in z.infolist():
            if i.filename.endswith("/data.pkl") or i.filename.endswith("/constants.pkl"):
                print(f"\n---- {p.name}: {i.filename} ----")
                pickletools.dis(z.read(i), out=sys.stdout)


# ----------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--skip-fashion", action="store_true", help="do not (re)train the Fashion-MNIST example")
    ap.add_argument("--epochs", type=int, default=15, help="Fashion-MNIST training epochs (default 15)")
    ap.add_argument("--conv-only", action="store_true",
                    help="only (re)train the convolutional examples (lenet.*, resnet.*)")
    ap.add_argument("--conv-epochs", type=int, default=2, help="epochs of the convolutional examples (default 2)")
    ap.add_argument("--inspect", action="store_true", help="only print a description of the existing files")
    args = ap.parse_args()
    if args.inspect:
        inspect()
        return
    t0 = time.time()
    if args.conv_only:
        print("A2) Fashion-MNIST convolutional examples", flush=True)
        make_fashion_conv(args.conv_epochs)
        print(f"done in {time.time() - t0:.0f}s")
        return
    # Fixtures first, the Fashion-MNIST example last: TorchScript mangles class names with a
    # process-wide counter (___torch_mangle_N), so this order makes the fixture bytes identical
    # with and without --skip-fashion.
    print("B) model fixtures", flush=True)
    FIXTURE_DIR.mkdir(parents=True, exist_ok=True)
    # remove only what the previous run listed in manifest.json; other files/folders are left alone
    for old in previous_outputs():
        old.unlink()
    fx = Fixtures(FIXTURE_DIR)
    make_onnx_fixtures(fx)
    make_torchscript_fixtures(fx)
    make_state_dict_fixtures(fx)
    make_module_fixtures(fx)
    make_random_fixtures(fx)
    verify_fixtures(fx.entries)
    with open(FIXTURE_DIR / "manifest.json", "w") as f:
        json.dump({"generator": "examples/make_fixtures.py",
                   "torch_version": torch.__version__.split("+")[0], "onnx_version": onnx.__version__,
                   "fixtures": fx.entries}, f, indent=2)
        f.write("\n")
    print(f"  {len(fx.entries)} model fixtures written and verified", flush=True)
    print("C) hostile files", flush=True)
    for old in previous_outputs(HOSTILE_DIR):
        old.unlink()
    make_hostile()
    if not args.skip_fashion:
        print("A) Fashion-MNIST example", flush=True)
        make_fashion(args.epochs)
        print("A2) Fashion-MNIST convolutional examples", flush=True)
        make_fashion_conv(args.conv_epochs)
    print(f"done in {time.time() - t0:.0f}s")


def previous_outputs(directory=FIXTURE_DIR):
    """Files named by directory/manifest.json from the last run; nothing else is ever deleted."""
    path = directory / "manifest.json"
    if not path.exists():
        return []
    names, m = set(), json.loads(path.read_text())
    for e in m.get("fixtures", []) + m.get("files", []):
        names.update(e[k] for k in ("file", "input", "expected") if k in e)
    return [directory / n for n in sorted(names)
            if "/" not in n and "\\" not in n and (directory / n).is_file()]


if __name__ == "__main__":
    main()
