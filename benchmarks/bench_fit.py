"""Whole training runs side by side: `minirnn.train.fit` against a plain PyTorch loop, on the
tasks shipped with the package, float32 and float64. The guard of issue 14.

Both sides train the same model from the same initial weights on the same batches in the same
order, with the same optimizer (Adam: lr, betas, eps) and the same gradient clipping by global
norm. Per task and dtype the report gives the wall time per epoch of each side (median over the
timed epochs, after a warm-up epoch; the first batch before it compiles the kernels or loads them
from Numba's cache), the ratio minirnn/torch, and how minirnn's epoch splits:

  * kernels: inside the cells' compiled sequence functions (forward and BPTT of one layer and
    direction: `get_cell(c).sequence_functions("numba")`);
  * stack:   inside `StackedRNN.forward` and `.backward` but not in a kernel (argument checks,
    the cache's copies, routing between layers, the last-step summary);
  * outside: everything else (Embedding, Dense, the loss, the gradient norms, clipping, Adam,
    batching, Python).

minirnn trains in one `fit` call; its epochs are timed where fit opens and closes its progress
bar (`minirnn.train.progress_bar` is replaced by a clock for that call: fit has no per-epoch
callback). The split comes from timing wrappers around `StackedRNN.forward`,
`StackedRNN.backward` and `CellSpec.sequence_functions`. Both are monkeypatched here, in this
process only; nothing in minirnn changes. Before training, both sides run the first batch from
the same weights and the losses (and gradient norms) are compared; the mean training losses of
the first and last epochs and the parameters after the warm-up epoch and at the end are compared
too (loosely in float32: the two Adams round differently, minirnn keeps its moments in float64).

The tasks (demos/ and minirnn.data):
  vowels     JapaneseVowels, GRU [32, 32] -> Dense(9), padded batches with masks, each sequence
             read to its true end and its final state classified (torch: pack_padded_sequence).
             dropout 0 (the demo uses 0.2; random masks would make the two runs differ).
  airline    airline passengers, the demo's 24-month windows, LSTM [16, 16] -> Dense(1) at
             every step, MSE.
  sentiment  movie-review sentences, Embedding(32) -> SimpleRNN [5, 5] -> Dense(1), masks,
             binary cross-entropy (demos/sentiment.py build('rnn', 2, ...)).
  synthetic  two_timescale(kind="ar"), T=200: an LSTM [64, 64] -> Dense(1) reads the noisy sum
             and regresses its slow (low-pass) part at every step; 256 sequences, batch 32.

Batch order: the training set is permuted once by a seeded rng and both sides get the permuted
copy; fit runs with shuffle=False (each epoch takes consecutive batches of it) and the torch loop
takes its batches from `minirnn.train.batches`, the function fit uses, so both see the same
batches in the same order every epoch. No validation set, no metric.

The parametrisation must match too. torch's RNN/LSTM/GRU carry two biases per gate block;
minirnn folds them into one (the GRU keeps the candidate's recurrent bias bhn apart). Trained
as they stand, torch's two biases get the same gradient and Adam moves their sum twice as far,
and the global norm counts that gradient twice: another training run. So bias_hh is frozen at
zero (RNN, LSTM) or its r and z blocks are masked to zero gradient (GRU), which trains exactly
minirnn's parameters. torch runs with its default threads (set_num_threads is not called).

    python benchmarks/bench_fit.py                 # all tasks, both dtypes -> results-fit.md
    python benchmarks/bench_fit.py --quick         # smoke test, small data, prints only
    python benchmarks/bench_fit.py --tasks vowels,airline --dtypes float32 --epochs 10
    python benchmarks/bench_fit.py --tasks vowels,airline --profile 25   # + cProfile of fit

Run it on a quiet machine: other processes on the same cores change every number.
"""
import argparse
import cProfile
import datetime
import functools
import os
import pstats
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout
sys.path.insert(0, str(ROOT / "demos"))  # the demos' data loaders
sys.path.insert(0, str(ROOT / "benchmarks"))  # machine_description

import torch  # noqa: E402
from torch import nn  # noqa: E402

from minirnn import StackedRNN, data  # noqa: E402
from minirnn.allocator import keep_freed_memory  # noqa: E402
from minirnn.cells.spec import CellSpec  # noqa: E402
from minirnn.interop import from_state_dict, to_torch_module  # noqa: E402
from minirnn.layers import Dense, Embedding  # noqa: E402
from minirnn.losses import LOSSES  # noqa: E402
from minirnn.model import Recurrent, Sequential  # noqa: E402
from minirnn.optim import Adam, global_norm  # noqa: E402
from minirnn import train as train_module  # noqa: E402
from minirnn.train import batches, fit  # noqa: E402

DTYPES = {"float32": np.float32, "float64": np.float64}
TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64}
LOSS_TOLERANCE = {"float32": 1e-5, "float64": 1e-10}  # |loss difference| / max(1, |loss|)


# ---- timing minirnn's recurrent part ----------------------------------------------------------
class RecurrentTimer:
    """Seconds spent inside StackedRNN.forward/backward (`stack`) and, nested in them, inside the
    cells' sequence functions (`kernels`), accumulated since the last `reset()`."""

    def __init__(self):
        self.stack = self.kernels = 0.0

    def reset(self):
        self.stack = self.kernels = 0.0

    def install(self):
        """Wrap StackedRNN.forward, StackedRNN.backward and CellSpec.sequence_functions (the
        wrappers add under a microsecond per call)."""
        def timed(function, attribute):
            @functools.wraps(function)
            def wrapper(*args, **kwargs):
                start = time.perf_counter()
                try:
                    return function(*args, **kwargs)
                finally:
                    setattr(self, attribute, getattr(self, attribute) + time.perf_counter() - start)
            return wrapper

        StackedRNN.forward = timed(StackedRNN.forward, "stack")
        StackedRNN.backward = timed(StackedRNN.backward, "stack")
        sequence_functions, wrapped = CellSpec.sequence_functions, {}

        @functools.wraps(sequence_functions)
        def timed_sequence_functions(spec, backend=None):
            forward, backward = sequence_functions(spec, backend)
            key = (forward, backward)
            if key not in wrapped:  # the numba pair is the same objects every call
                wrapped[key] = (timed(forward, "kernels"), timed(backward, "kernels"))
            return wrapped[key]

        CellSpec.sequence_functions = timed_sequence_functions


TIMER = RecurrentTimer()


# ---- the tasks ----------------------------------------------------------------------------------
@dataclass
class Task:
    """A training problem: data, a minirnn model builder and the training settings of its demo."""
    name: str
    about: str
    x: np.ndarray                # (N, T, D) features or (N, T) token ids
    y: np.ndarray                # targets
    mask: object                 # None or (N, T) bool, True on real steps (right-padded)
    build: object                # dtype -> Sequential
    loss: str                    # a key of minirnn.losses.LOSSES
    lr: float
    batch_size: int
    clip_norm: float
    epochs: int                  # timed epochs at default settings
    notes: list = field(default_factory=list)


def vowels_task(quick):
    import vowels
    x, y, mask = vowels.load()["train"]
    if quick:
        x, y, mask = x[:64], y[:64], mask[:64]

    def build(dtype):
        net = StackedRNN("gru", 12, vowels.HIDDEN, return_sequences=False, dtype=dtype, seed=0)
        head = Dense(vowels.HIDDEN[-1], vowels.SPEAKERS, seed=0, dtype=dtype)
        return Sequential([("gru", Recurrent(net)), ("dense", head)])
    return Task("vowels", f"GRU {vowels.HIDDEN} -> Dense({vowels.SPEAKERS}), masks, "
                f"N={len(x)}, T={x.shape[1]}, batch 32, Adam lr 0.005, clip 5",
                x, y.astype(np.int64), mask, build, "softmax_cross_entropy", 0.005, 32, 5.0, 30,
                ["dropout 0 instead of the demo's 0.2"])


def airline_task(quick):
    import airline
    _, passengers = data.load_airline()
    growth = np.log(passengers[airline.SEASON:]) - np.log(passengers[:-airline.SEASON])
    known = growth[:airline.HISTORY - airline.SEASON]
    z = (known - known.mean()) / known.std()
    x, y = airline.windows(z, 0, len(z) - airline.SEASON - 1)  # the demo's training windows

    def build(dtype):
        net = StackedRNN("lstm", 1, airline.HIDDEN, dtype=dtype, seed=0)
        return Sequential([("lstm", Recurrent(net)),
                           ("dense", Dense(airline.HIDDEN[-1], 1, seed=0, dtype=dtype))])
    return Task("airline", f"LSTM {airline.HIDDEN} -> Dense(1) every step, N={len(x)}, "
                f"T={x.shape[1]}, batch 16, Adam lr 0.003, clip 1", x, y, None, build, "mse",
                0.003, 16, 1.0, 50)


def sentiment_task(quick):
    import sentiment
    split, vocab_size = sentiment.load(0)
    x, y, mask = split["train"]
    if quick:
        x, y, mask = x[:512], y[:512], mask[:512]

    def build(dtype):
        model = sentiment.build("rnn", 2, vocab_size, 0)
        return cast_model(model, dtype)
    return Task("sentiment", f"Embedding({vocab_size}, {sentiment.EMBED}) -> SimpleRNN "
                f"[{sentiment.UNITS}, {sentiment.UNITS}] -> Dense(1), masks, N={len(x)}, "
                f"T={x.shape[1]}, batch 64, Adam lr 0.003, clip 5", x, y, mask, build,
                "binary_cross_entropy", 0.003, 64, 5.0, 5)


def synthetic_task(quick):
    task = data.two_timescale(64 if quick else 256, T=200, kind="ar", seed=0)
    x, y = task["x"], task["slow"][..., None]  # the slow AR(1) part: a low-pass readout

    def build(dtype):
        net = StackedRNN("lstm", 1, [64, 64], dtype=dtype, seed=0)
        return Sequential([("lstm", Recurrent(net)), ("dense", Dense(64, 1, seed=0, dtype=dtype))])
    return Task("synthetic", f"LSTM [64, 64] -> Dense(1) every step, N={len(x)}, T=200, "
                "batch 32, Adam lr 0.003, clip 1", x, y, None, build, "mse", 0.003, 32, 1.0, 6)


TASKS = {"vowels": vowels_task, "airline": airline_task, "sentiment": sentiment_task,
         "synthetic": synthetic_task}


def cast_model(model, dtype):
    """The same Sequential with every parameter in `dtype` (the demos build float64 models)."""
    layers = []
    for name, layer in model.layers.items():
        if isinstance(layer, Recurrent):
            layers.append((name, Recurrent(layer.net.astype(dtype))))
        else:
            copy = type(layer)(**{**layer.config, "dtype": dtype})
            copy.params = {k: v.astype(dtype) for k, v in layer.params.items()}
            layers.append((name, copy))
    return Sequential(layers)


# ---- the same model in torch --------------------------------------------------------------------
class TorchSequential(nn.Module):
    """Embedding / RNN|LSTM|GRU / Linear in the order of a minirnn Sequential. A recurrent layer
    with return_sequences=False hands on the top layer's final state; given the sequence lengths,
    it reads a packed batch, so the state is the one at each sequence's true end."""

    def __init__(self, parts):
        super().__init__()
        self.kinds = [kind for kind, _ in parts]
        self.parts = nn.ModuleList(module for _, module in parts)

    def forward(self, x, lengths=None):
        for kind, module in zip(self.kinds, self.parts):
            if kind == "sequence":
                x, _ = module(x)
            elif kind == "summary":
                if lengths is not None:
                    x = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True,
                                                          enforce_sorted=False)
                _, states = module(x)
                h = states[0] if isinstance(states, tuple) else states  # LSTM: (h_n, c_n)
                x = h[-1]  # (N, H): the top layer's final state
            else:
                x = module(x)
        return x


def torch_model(model, dtype_name):
    """A TorchSequential with model's weights: recurrent layers through to_torch_module, Dense
    and Embedding copied by hand (nn.Linear keeps W transposed)."""
    tdtype = TORCH_DTYPES[dtype_name]
    parts = []
    for layer in model.layers.values():
        if isinstance(layer, Embedding):
            module = nn.Embedding(layer.vocab_size, layer.dim, padding_idx=layer.padding_idx,
                                  dtype=tdtype)
            with torch.no_grad():
                module.weight.copy_(torch.from_numpy(layer.params["W"]))
            parts.append(("embedding", module))
        elif isinstance(layer, Dense):
            if layer.activation is not None:
                raise ValueError("only Dense heads without activation (logits) are mirrored")
            module = nn.Linear(layer.in_features, layer.out_features, dtype=tdtype)
            with torch.no_grad():
                module.weight.copy_(torch.from_numpy(layer.params["W"].T))
                module.bias.copy_(torch.from_numpy(layer.params["b"]))
            parts.append(("dense", module))
        else:
            net = layer.net
            if net.bidirectional:
                raise ValueError("only unidirectional stacks are mirrored")
            module = to_torch_module(net, batch_first=True).to(tdtype)
            tie_recurrent_biases(module, net)
            parts.append(("sequence" if net.return_sequences else "summary", module))
    return TorchSequential(parts)


def tie_recurrent_biases(module, net):
    """Train torch's bias_hh only where minirnn has a recurrent bias (the GRU's bhn block): frozen
    at zero for RNN and LSTM, its other blocks' gradient masked to zero for the GRU (Adam then
    leaves them at zero). to_torch put the folded bias in bias_ih and zeros there."""
    H = net.hidden_sizes[0]
    keep = np.zeros(net.spec.gates * H)
    for block in net.spec.recurrent_biases.values():
        keep[block * H:(block + 1) * H] = 1.0
    for name, parameter in module.named_parameters():
        if name.startswith("bias_hh"):
            if not keep.any():
                parameter.requires_grad_(False)
            else:
                scale = torch.from_numpy(keep).to(parameter.dtype)
                parameter.register_hook(lambda g, scale=scale: g * scale)


def torch_params_as_minirnn(tmodel, model):
    """The torch model's parameters under minirnn's names and layout (float64 arrays)."""
    values = {}
    for (name, layer), module in zip(model.layers.items(), tmodel.parts):
        if isinstance(layer, Recurrent):
            state_dict = {k: v.detach().double() for k, v in module.state_dict().items()}
            net = from_state_dict(state_dict, layer.net.cell, dtype=np.float64)
            values.update({f"{name}.{k}": v for k, v in net.params.items()})
        elif isinstance(layer, Dense):
            values[f"{name}.W"] = module.weight.detach().double().numpy().T.copy()
            values[f"{name}.b"] = module.bias.detach().double().numpy().copy()
        else:
            values[f"{name}.W"] = module.weight.detach().double().numpy().copy()
    return values


def torch_loss(name):
    """The torch loss matching minirnn.losses.LOSSES[name] (both means over the items)."""
    import torch.nn.functional as F
    if name == "softmax_cross_entropy":
        return F.cross_entropy
    if name == "mse":
        return lambda out, y: F.mse_loss(out, y.view_as(out))
    if name == "binary_cross_entropy":
        return lambda out, y: F.binary_cross_entropy_with_logits(out, y.view_as(out))
    raise ValueError(f"no torch loss for {name!r}")


# ---- the two training loops ---------------------------------------------------------------------
@dataclass
class TrainingSet:
    """The permuted training set, as arrays for fit and as tensors for the torch loop."""
    x: np.ndarray
    y: np.ndarray
    mask: object
    tx: torch.Tensor
    ty: torch.Tensor
    lengths: object              # None or (N,) int64 tensor of true lengths


def training_set(task, order, dtype_name):
    """task's data in the order `order`, features and float targets in the run's dtype."""
    x = task.x[order]
    x = x.astype(DTYPES[dtype_name]) if np.issubdtype(x.dtype, np.floating) else x.astype(np.int64)
    y = task.y[order]
    if task.loss != "softmax_cross_entropy":
        y = y.astype(DTYPES[dtype_name])
    mask = None if task.mask is None else task.mask[order]
    lengths = None
    if mask is not None:
        lengths = mask.sum(axis=1)
        if not np.array_equal(mask, np.arange(mask.shape[1])[None, :] < lengths[:, None]):
            raise ValueError(f"{task.name}: masks must be right-padded to pack the sequences")
        lengths = torch.from_numpy(lengths.astype(np.int64))
    return TrainingSet(x, y, mask, torch.from_numpy(x), torch.from_numpy(y), lengths)


class EpochClock:
    """Stands in for fit's progress bar (`minirnn.train.progress_bar`, which fit calls at the
    start of every epoch and closes at its end) to time each epoch of one fit call, with the
    recurrent split from TIMER, and to copy the parameters after the first epoch."""

    def __init__(self, model):
        self.model, self.seconds, self.stack, self.kernels = model, [], [], []
        self.after_first = None
        self.start = None

    def __call__(self, total, description):
        TIMER.reset()
        self.start = time.perf_counter()
        return self

    def update(self, n=1):
        pass

    def set_postfix(self, *args, **kwargs):
        pass

    def close(self):
        self.seconds.append(time.perf_counter() - self.start)
        self.stack.append(TIMER.stack)
        self.kernels.append(TIMER.kernels)
        if self.after_first is None:
            self.after_first = {k: v.astype(np.float64) for k, v in self.model.params.items()}


def minirnn_run(model, optimizer, task, d, epochs):
    """One fit call of `epochs` epochs (shuffle off: the batches of every epoch are consecutive
    slices of the permuted set); returns its EpochClock and history."""
    clock = EpochClock(model)
    original, train_module.progress_bar = train_module.progress_bar, clock
    try:
        history = fit(model, task.loss, (d.x, d.y) if d.mask is None else (d.x, d.y, d.mask),
                      optimizer=optimizer, epochs=epochs, batch_size=task.batch_size,
                      clip_norm=task.clip_norm, shuffle=False, progress=True)
    finally:
        train_module.progress_bar = original
    if len(clock.seconds) != epochs:
        raise RuntimeError(f"fit opened {len(clock.seconds)} progress bars for {epochs} epochs: "
                           f"the epoch clock (a stand-in for minirnn.train.progress_bar) no "
                           f"longer sees fit's epochs")
    return clock, history


def torch_epoch(tmodel, optimizer, parameters, loss_fn, task, d):
    """One epoch of the plain torch loop over the batches fit makes; (seconds, mean loss)."""
    start = time.perf_counter()
    total, count = 0.0, 0
    for idx in batches(len(d.x), task.batch_size):
        idx = torch.from_numpy(idx)
        optimizer.zero_grad(set_to_none=True)
        out = tmodel(d.tx[idx], None if d.lengths is None else d.lengths[idx])
        loss = loss_fn(out, d.ty[idx])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, task.clip_norm)
        optimizer.step()
        total += loss.item() * len(idx)
        count += len(idx)
    return time.perf_counter() - start, total / count


def first_batch_check(model, tmodel, task, d):
    """Loss and global gradient norm of the first batch from the initial weights, both sides
    (no update), and the seconds each took: minirnn's first forward and backward compile the
    kernels (or load them from Numba's cache)."""
    idx = batches(len(d.x), task.batch_size)[0]
    mb = None if d.mask is None else d.mask[idx]
    start = time.perf_counter()
    out, cache = model.forward(d.x[idx], mb)
    loss, dout = LOSSES[task.loss](out, d.y[idx], cache.output_mask)
    _, grads = model.backward(dout, cache)
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    tidx = torch.from_numpy(idx)
    tout = tmodel(d.tx[tidx], None if d.lengths is None else d.lengths[tidx])
    tloss = torch_loss(task.loss)(tout, d.ty[tidx])
    tmodel.zero_grad(set_to_none=True)
    tloss.backward()
    tseconds = time.perf_counter() - start
    tnorm = float(torch.sqrt(sum((p.grad.double() ** 2).sum() for p in tmodel.parameters()
                                 if p.grad is not None)))
    tmodel.zero_grad(set_to_none=True)
    return {"loss": loss, "torch loss": float(tloss.detach()), "grad norm": global_norm(grads),
            "torch grad norm": tnorm, "first batch": seconds, "torch first batch": tseconds}


def max_difference(ours, theirs):
    """(max |ours - theirs| over all parameters, the parameter holding it)."""
    diffs = {k: float(np.max(np.abs(v.astype(np.float64) - theirs[k]))) for k, v in ours.items()}
    worst = max(diffs, key=diffs.get)
    return diffs[worst], worst


def run_task(task, dtype_name, epochs, pause, seed=0):
    """Train both sides for 1 warm-up + `epochs` timed epochs; returns the row of the table."""
    model = task.build(DTYPES[dtype_name])
    tmodel = torch_model(model, dtype_name)
    d = training_set(task, np.random.default_rng(seed).permutation(len(task.x)), dtype_name)
    check = first_batch_check(model, tmodel, task, d)
    optimizer = Adam(lr=task.lr)
    parameters = [p for p in tmodel.parameters() if p.requires_grad]
    toptimizer = torch.optim.Adam(parameters, lr=optimizer.lr,
                                  betas=(optimizer.beta1, optimizer.beta2), eps=optimizer.eps)
    loss_fn = torch_loss(task.loss)

    time.sleep(pause)
    clock, history = minirnn_run(model, optimizer, task, d, 1 + epochs)
    time.sleep(pause)
    ttimes, tlosses, tafter_first = [], [], None
    for _ in range(1 + epochs):
        seconds, loss = torch_epoch(tmodel, toptimizer, parameters, loss_fn, task, d)
        ttimes.append(seconds)
        tlosses.append(loss)
        tafter_first = tafter_first or torch_params_as_minirnn(tmodel, model)
    times = clock.seconds[1:]
    return {"task": task.name, "dtype": dtype_name, "about": task.about, "notes": task.notes,
            "N": len(task.x), "batches": len(batches(len(task.x), task.batch_size)),
            "epochs": epochs, **check,
            "warmup": clock.seconds[0], "torch warmup": ttimes[0],
            "minirnn": statistics.median(times), "torch": statistics.median(ttimes[1:]),
            "stack": statistics.median(clock.stack[1:]),
            "kernels": statistics.median(clock.kernels[1:]),
            "outside shares": [(t - s) / t for t, s in zip(times, clock.stack[1:])],
            "epoch 1 loss": history["train_loss"][0], "torch epoch 1 loss": tlosses[0],
            "last loss": history["train_loss"][-1], "torch last loss": tlosses[-1],
            "param diff 1": max_difference(clock.after_first, tafter_first),
            "param diff end": max_difference(model.params, torch_params_as_minirnn(tmodel, model)),
            "model": model, "optimizer": optimizer, "data": d}


def profile_epochs(row, task, top, epochs):
    """cProfile of one more fit call of `epochs` epochs: the top entries by
    own time and by cumulative time, in ms per epoch and as a share of the profiled epoch, as
    text. cProfile's own cost per Python call inflates the Python-heavy entries."""
    d = row["data"]
    profiler = cProfile.Profile()
    profiler.enable()
    start = time.perf_counter()
    fit(row["model"], task.loss, (d.x, d.y) if d.mask is None else (d.x, d.y, d.mask),
        optimizer=row["optimizer"], epochs=epochs, batch_size=task.batch_size,
        clip_norm=task.clip_norm, shuffle=False, progress=False)
    seconds = (time.perf_counter() - start) / epochs
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # {(file, line, name): (cc, ncalls, tottime, cumtime, _)}

    def where(key):
        file, line, name = key
        for prefix in (str(ROOT) + "/", "site-packages/"):
            file = file.split(prefix, 1)[-1]
        return f"{file}:{line}({name})" if line else name

    lines = [f"{epochs} epochs profiled, {seconds * 1e3:.1f} ms per epoch under the profiler "
             f"(unprofiled median {row['minirnn'] * 1e3:.1f} ms)"]
    for title, column in (("own time", 2), ("cumulative time", 3)):
        lines += ["", f"top {top} by {title}: ms per epoch, share of the profiled epoch, calls "
                      f"per epoch, function"]
        for key, value in sorted(stats.items(), key=lambda kv: -kv[1][column])[:top]:
            per_epoch = value[column] / epochs
            lines.append(f"{per_epoch * 1e3:9.3f} {per_epoch / seconds:6.1%} "
                         f"{value[1] / epochs:8.4g}  {where(key)}")
    return "\n".join(lines)


# ---- the report ---------------------------------------------------------------------------------
TABLE_HEADER = ("| task | dtype | batches x timed epochs | minirnn ms/epoch | torch ms/epoch "
                "| minirnn/torch | kernels ms (share) | stack ms (share) | outside ms (share) "
                "| first batch s, minirnn (compiles) / torch | warm-up epoch s, minirnn / torch |")
CHECK_HEADER = ("| task | dtype | first-batch loss minirnn / torch | loss diff | grad-norm rel "
                "diff | epoch-1 mean loss minirnn / torch | last-epoch mean loss minirnn / torch "
                "| max param diff after epoch 1 (where) | max param diff at the end (where) |")


def format_row(r):
    ms = lambda s: f"{s * 1e3:.1f}"  # noqa: E731
    share = lambda s: f"{s * 1e3:.1f} ({s / r['minirnn']:.0%})"  # noqa: E731
    # no kernel time at all: stack.py no longer asks CellSpec.sequence_functions on every call
    kernels = share(r["kernels"]) if r["kernels"] > 0 else "not seen"
    return (f"| {r['task']} | {r['dtype']} | {r['batches']} x {r['epochs']} | {ms(r['minirnn'])} "
            f"| {ms(r['torch'])} | {r['minirnn'] / r['torch']:.2f} | {kernels} "
            f"| {share(r['stack'] - r['kernels'])} | {share(r['minirnn'] - r['stack'])} "
            f"| {r['first batch']:.2f} / {r['torch first batch']:.2f} "
            f"| {r['warmup']:.2f} / {r['torch warmup']:.2f} |")


def format_check(r):
    loss_diff = abs(r["loss"] - r["torch loss"]) / max(1.0, abs(r["loss"]))
    ok = "ok" if loss_diff <= LOSS_TOLERANCE[r["dtype"]] else "TOO LARGE"
    grad_diff = abs(r["grad norm"] - r["torch grad norm"]) / max(r["grad norm"], 1e-300)
    where = lambda d: f"{d[0]:.1e} ({d[1]})"  # noqa: E731
    return (f"| {r['task']} | {r['dtype']} | {r['loss']:.6f} / {r['torch loss']:.6f} "
            f"| {loss_diff:.1e} {ok} | {grad_diff:.1e} "
            f"| {r['epoch 1 loss']:.5f} / {r['torch epoch 1 loss']:.5f} "
            f"| {r['last loss']:.5f} / {r['torch last loss']:.5f} "
            f"| {where(r['param diff 1'])} | {where(r['param diff end'])} |")


def target_lines(rows):
    """The issue's target: the work outside the kernels under 15% of an epoch (vowels, airline)."""
    lines = ["## Target: work outside the kernels under 15% of an epoch (vowels, airline)", ""]
    for r in rows:
        if r["task"] not in ("vowels", "airline"):
            continue
        outside_stack = (r["minirnn"] - r["stack"]) / r["minirnn"]
        outside_kernels = (r["minirnn"] - r["kernels"]) / r["minirnn"]
        lines.append(f"- {r['task']} {r['dtype']}: outside StackedRNN.forward/backward "
                     f"{outside_stack:.0%} ({'met' if outside_stack < 0.15 else 'missed'}; "
                     f"epochs from {min(r['outside shares']):.0%} to "
                     f"{max(r['outside shares']):.0%}); outside the compiled kernels "
                     f"{outside_kernels:.0%} ({'met' if outside_kernels < 0.15 else 'missed'})")
    return lines if len(lines) > 2 else []


def report(args, rows, machine, seconds, profiles):
    lines = [f"# minirnn fit against a PyTorch loop ({datetime.date.today().isoformat()})", "",
             f"Command: `{' '.join(['python benchmarks/bench_fit.py', *sys.argv[1:]])}`", "",
             "## Machine", "", *machine,
             f"- torch {torch.__version__}: {torch.get_num_threads()} intra-op threads "
             f"(its default; set_num_threads not called), "
             f"{torch.get_num_interop_threads()} inter-op threads",
             f"- load average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}", "",
             "## Tasks", ""]
    seen = set()
    for r in rows:
        if r["task"] not in seen:
            seen.add(r["task"])
            notes = f" ({'; '.join(r['notes'])})" if r["notes"] else ""
            lines.append(f"- {r['task']}: {r['about']}{notes}")
    lines += ["", "## Time per epoch", "",
              "Both sides: the first batch's forward and backward (the check below; for minirnn "
              "it compiles the kernels or loads them from Numba's cache), one warm-up epoch, then "
              "the timed epochs; the median is reported. minirnn "
              "trains in one `fit` call, its epochs timed at fit's progress-bar calls; torch in "
              "a plain loop over the same batches. minirnn's epoch split: *kernels* = inside the "
              "cells' compiled sequence functions, *stack* = inside StackedRNN.forward/backward "
              "but not in a kernel (checks, copies, routing between layers), *outside* = "
              "everything else (Embedding, Dense, the loss, gradient norms, clipping, Adam, "
              "batching, Python).", "",
              TABLE_HEADER, "|" + "---|" * 11, *[format_row(r) for r in rows], "",
              "## Do both sides compute the same thing?", "",
              "The first batch's loss from the initial weights (|difference| / max(1, |loss|), "
              f"tolerance {LOSS_TOLERANCE['float32']:g} float32, {LOSS_TOLERANCE['float64']:g} "
              "float64) and its global gradient norm (relative difference); the mean training "
              "loss of the first and the last epoch; the largest parameter difference after the "
              "warm-up epoch and at the end (loose: the two Adams round differently, minirnn "
              "keeps its moments in float64, and float32 differences grow as training goes on).",
              "", CHECK_HEADER, "|" + "---|" * 9, *[format_check(r) for r in rows], ""]
    lines += target_lines(rows)
    for name, text in profiles.items():
        lines += ["", f"## cProfile of minirnn's epochs: {name}", "", "```", text.strip(), "```"]
    lines += ["", f"Total benchmark time: {seconds:.0f} s.", ""]
    return "\n".join(lines)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="smoke test: small data, 1 timed epoch after the warm-up; prints only "
                        "unless --output is given")
    p.add_argument("--tasks", default=",".join(TASKS))
    p.add_argument("--dtypes", default="float32,float64")
    p.add_argument("--epochs", type=int, default=None,
                   help="timed epochs after the warm-up (default per task: vowels 30, airline 50, "
                        "sentiment 5, synthetic 6)")
    p.add_argument("--pause", type=float, default=0.5,
                   help="seconds of sleep between the minirnn and the torch blocks, for the "
                        "thread pools of the other to go idle")
    p.add_argument("--profile", type=int, default=0,
                   help="print (and report) the top N cProfile entries of one more fit call "
                        "(as many epochs as were timed) per task and dtype")
    p.add_argument("--output", default=None,
                   help="markdown file to write (default: benchmarks/results-fit.md for a full "
                        "run, none with --quick)")
    args = p.parse_args(argv)
    unknown = set(args.tasks.split(",")) - set(TASKS)
    if unknown:
        p.error(f"--tasks must be among {list(TASKS)}; got {sorted(unknown)}")
    if args.quick and args.epochs is None:
        args.epochs = 1
    if args.output is None and not args.quick:
        args.output = str(Path(__file__).with_name("results-fit.md"))
    return args


def main(argv=None):
    args = parse_args(argv)
    from bench_cells import machine_description
    keep_freed_memory()  # as fit does (it calls this again, a no-op then)
    TIMER.install()
    start = time.perf_counter()
    machine = machine_description()
    print("\n".join(machine))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads (default)")
    print(TABLE_HEADER, flush=True)
    rows, profiles = [], {}
    for name in args.tasks.split(","):
        task = TASKS[name](args.quick)
        for dtype_name in args.dtypes.split(","):
            row = run_task(task, dtype_name, args.epochs or task.epochs, args.pause)
            rows.append(row)
            print(format_row(row), flush=True)
            if args.profile:
                profiles[f"{name} {dtype_name}"] = profile_epochs(row, task, args.profile,
                                                                  row["epochs"])
                print(profiles[f"{name} {dtype_name}"], flush=True)
    text = report(args, rows, machine, time.perf_counter() - start, profiles)
    print(text)
    if args.output:
        Path(args.output).write_text(text)
        print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
