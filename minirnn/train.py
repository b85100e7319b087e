"""The training loop: fit, evaluate, predict, early stopping and metrics.

Shape legend: N sequences, T time steps, D input features, K outputs, C classes.

Data sets are tuples (x, y) or (x, y, mask): x is (N, T) token ids or (N, T, D) features, y the
targets (N, ...) and mask an optional (N, T) bool array (True = real step, False = padding) that
goes to the model and, while the model's output is still a sequence, to the loss and the metric.

One update of `fit`, in the order STYLE.md asks for (backward returns exact gradients; the loop
clips and steps):

    out, cache = model.forward(x_batch, mask, train=True, rng=rng)
    loss, dout = loss_fn(out, y_batch, cache.output_mask)
    penalties, dlayers, dgates, reg_grads = apply_regularisers(regularisers, cache)
    _, grads   = model.backward(dout, cache, dlayers=dlayers, dgates=dgates)
    grads.update(reg_grads)
    norm = sqrt(sum of squared_norms(grads))                # recorded in the history
    optimizer.step(model.params + the regularisers' params, grads,
                   scale=clip_scale(norm, clip_norm))       # if clip_norm is given, else 1

Regularisers (opt-in, `regularisers=[(reg, weight), ...]`, regularisers.py) read the cache of a
recurrent layer; their weighted penalties join the training loss and their gradients join the one
backward pass, injected inside the stack. Without regularisers fit calls plain
`model.backward(dout, cache)`, so any model with the forward/backward protocol of `Sequential`
(a `GraphRNN`, a predictive-coding `Learner`) trains unchanged.

Truncated BPTT (opt-in, `truncate_bptt=k`): each batch of sequences is cut into time windows of
k steps, and each window starts from the previous window's final states, carried as plain
arrays: the forward pass sees the whole history, the gradient flows back at most k steps.
Full BPTT (over the whole sequence) is the default.
"""
import math

import numpy as np

from .allocator import keep_freed_memory
from .cells.masking import check_mask
from .losses import LOSSES
from .model import LAYER_TYPES
from .optim import Adam, clip_scale, squared_norms
from .regularisers import apply_regularisers, check_regularisers, regulariser_params
from .stack import StackedRNN
from .threads import resolve_num_threads, thread_limit
from .validation import check_int, shape_str


# ---- metrics: (out, target, mask=None) -> float ---------------------------------------------------
def masked_mean(values, mask):
    """Mean of values (...) over the True entries of mask (the leading axes), or of all."""
    if mask is None:
        return float(np.mean(values))
    mask = np.asarray(mask, bool).reshape(np.shape(mask) + (1,) * (values.ndim - np.ndim(mask)))
    mask = np.broadcast_to(mask, values.shape)
    return float(values[mask].mean()) if mask.any() else 0.0


def accuracy(logits, labels, mask=None):
    """Fraction of items whose largest logit is the label. logits: (..., C); labels: (...)."""
    return masked_mean((np.argmax(logits, axis=-1) == np.asarray(labels)).astype(float), mask)


def binary_accuracy(logits, target, mask=None):
    """Fraction of items with (logit > 0) == (target > 0.5). logits: (..., 1) or (...)."""
    target = np.asarray(target)
    if target.shape == logits.shape[:-1] and logits.shape[-1:] == (1,):
        target = target[..., None]
    return masked_mean(((logits > 0) == (target > 0.5)).astype(float), mask)


def mean_absolute_error(pred, target, mask=None):
    """mean |pred - target| (target may lack pred's trailing axis of size 1)."""
    target = np.asarray(target, dtype=float)
    if target.shape == pred.shape[:-1] and pred.shape[-1:] == (1,):
        target = target[..., None]
    return masked_mean(np.abs(pred - target), mask)


METRICS = {"accuracy": accuracy, "binary_accuracy": binary_accuracy, "mae": mean_absolute_error}


class EarlyStopping:
    """Stop when the monitored value has not improved by more than min_delta for `patience`
    epochs in a row. monitor: a history key, "val_loss" (default), "train_loss", "val_metric"
    or "train_metric"; mode: "min" (a loss, an error) or "max" (an accuracy).

        stop = early.update(epoch, value)     # True once patience is used up
        early.best, early.best_epoch          # the best value so far and its epoch
    """

    def __init__(self, patience=5, min_delta=0.0, monitor="val_loss", mode="min"):
        if int(patience) < 1:
            raise ValueError(f"patience must be a positive int; got {patience!r}")
        if monitor not in ("val_loss", "train_loss", "val_metric", "train_metric"):
            raise ValueError(f"monitor must be 'val_loss', 'train_loss', 'val_metric' or "
                             f"'train_metric'; got {monitor!r}")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max'; got {mode!r}")
        self.patience, self.min_delta, self.monitor = int(patience), float(min_delta), monitor
        self.sign = 1.0 if mode == "min" else -1.0  # compare sign * value, always minimising
        self.best, self.best_epoch, self.wait = self.sign * np.inf, None, 0

    def update(self, epoch, value):
        """Record the value of `epoch`; True if training should stop now."""
        if self.sign * value < self.sign * self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            return False
        self.wait += 1
        return self.wait >= self.patience


# ---- helpers ----------------------------------------------------------------------------------------
def unpack(name, data):
    """(x, y, mask) from a data tuple (x, y) or (x, y, mask), with matching first axes and at
    least one sequence of at least one step."""
    if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
        raise ValueError(f"{name} must be a tuple (x, y) or (x, y, mask); got {type(data).__name__}")
    x, y, mask = (*data, None) if len(data) == 2 else data
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim < 2 or y.shape[:1] != x.shape[:1]:
        raise ValueError(f"{name}: x must be (N, T) or (N, T, D) and y must have the same N; got "
                         f"x {x.shape} and y {y.shape}")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{name} must hold at least one sequence of at least one step; got x of "
                         f"shape {shape_str(x.shape)}")
    return x, y, check_mask(mask, x, name=f"{name} mask")


def check_val(train, val):
    """val must fit what trains on `train`: x with the same shape past (N, T) (the same D, or
    token ids for both) and, when its sequences have train's length T, y with the same shape
    past N, a trailing axis of 1 aside (the losses take targets with or without it). Checked
    before the first epoch, so a bad val set fails now, not after an epoch of training."""
    (x, y, _), (val_x, val_y, _) = train, val
    if val_x.shape[2:] != x.shape[2:]:
        raise ValueError(f"val x must have shape {shape_str(('N', 'T') + x.shape[2:])} like train "
                         f"x; got shape {shape_str(val_x.shape)}")
    if val_x.shape[1] == x.shape[1] and target_shape(val_y) != target_shape(y):
        raise ValueError(f"val y must have shape {shape_str(('N',) + y.shape[1:])} like train y; "
                         f"got shape {shape_str(val_y.shape)}")


def target_shape(y):
    """The shape of one target, y.shape[1:], without a trailing axis of 1."""
    shape = y.shape[1:]
    return shape[:-1] if shape[-1:] == (1,) else shape


def check_model(model):
    """fit, evaluate and predict take a Sequential: a bare StackedRNN or layer is a TypeError that
    shows how to wrap it."""
    if isinstance(model, StackedRNN):
        raise TypeError("model must be a Sequential; got a bare StackedRNN: wrap it, "
                        "model = minirnn.Sequential([minirnn.Recurrent(net)]) (add a Dense "
                        "head if the targets need one)")
    if isinstance(model, tuple(LAYER_TYPES.values())):
        raise TypeError(f"model must be a Sequential; got a bare {type(model).__name__} layer: "
                        f"wrap it, model = minirnn.Sequential([layer])")


def resolve(kind, value, table):
    """A callable from a callable or a name in `table`."""
    if callable(value):
        return value
    if value not in table:
        raise ValueError(f"{kind} must be a callable or one of {sorted(table)}; got {value!r}")
    return table[value]


def parameter_group(name):
    """The layer a parameter belongs to: its name without the last part and without a
    direction, e.g. "rnn.layers.2.fwd.Wh" -> "rnn.layers.2", "head.W" -> "head"."""
    parts = name.split(".")[:-1]
    if parts and parts[-1] in ("fwd", "bwd"):
        parts = parts[:-1]
    return ".".join(parts) or name


def group_norms(squares):
    """{layer: norm of all that layer's gradients}, from `optim.squared_norms(grads)`."""
    groups = {}
    for name, square in squares.items():
        group = parameter_group(name)
        groups[group] = groups.get(group, 0.0) + square
    return {group: math.sqrt(total) for group, total in groups.items()}


def batches(N, batch_size, rng=None):
    """Index arrays of consecutive batches over range(N), in a permuted order if rng is given."""
    order = rng.permutation(N) if rng is not None else np.arange(N)
    return [order[s:s + batch_size] for s in range(0, N, batch_size)]


def time_windows(T, length):
    """[slice(0, k), slice(k, 2k), ...] covering T steps; one window for length None."""
    length = T if length is None else length
    return [slice(s, min(s + length, T)) for s in range(0, T, length)]


# ---- predict / evaluate -----------------------------------------------------------------------------
def run(model, x, mask=None, batch_size=256):
    """Forward in evaluation mode over batches. Returns (out, output mask or None)."""
    check_model(model)
    batch_size = check_int("batch_size", batch_size)
    if len(x) == 0:
        raise ValueError(f"x must hold at least one sequence; got shape {shape_str(x.shape)}")
    outs, masks = [], []
    for idx in batches(len(x), batch_size):
        out, cache = model.forward(x[idx], None if mask is None else mask[idx])
        outs.append(out)
        masks.append(cache.output_mask)
    output_mask = None if masks[0] is None else np.concatenate(masks)
    return np.concatenate(outs), output_mask


def predict(model, x, mask=None, batch_size=256):
    """The model's outputs (logits for a classifier) for every row of x, in evaluation mode."""
    return run(model, np.asarray(x), mask, batch_size)[0]


def evaluate(model, loss, data, metric=None, batch_size=256):
    """{"loss": ..., "metric": ... (None without a metric)} over a whole data set."""
    x, y, mask = unpack("data", data)
    loss_fn = resolve("loss", loss, LOSSES)
    out, output_mask = run(model, x, mask, batch_size)
    value = loss_fn(out, y, output_mask)[0]
    metric_fn = None if metric is None else resolve("metric", metric, METRICS)
    return {"loss": value, "metric": None if metric_fn is None else metric_fn(out, y, output_mask)}


# ---- fit ----------------------------------------------------------------------------------------------
def fit(model, loss, train, val=None, optimizer=None, epochs=10, batch_size=32, metric=None,
        clip_norm=None, early_stopping=None, restore_best=True, shuffle=True, seed=0,
        truncate_bptt=None, progress=True, num_threads=None, regularisers=None):
    """Train `model` (a Sequential; wrap a bare StackedRNN as Sequential([Recurrent(net)])) in
    place.

    loss: a callable (out, target, mask) -> (loss, dout) or a name in minirnn.losses.LOSSES.
    train, val: (x, y) or (x, y, mask), each with at least one sequence; val's x and y must fit
    the model like train's.  optimizer: default Adam(lr=1e-3).
    epochs: an int >= 0 (0 returns an empty history).  batch_size: a positive int.
    metric: None, a callable (out, target, mask) -> float, or 'accuracy', 'binary_accuracy', 'mae'.
    clip_norm: None or the max global gradient norm.  early_stopping: None or an EarlyStopping;
    with restore_best the parameters of its best epoch are put back at the end.
    shuffle, seed: the order of the sequences each epoch (and the dropout masks) come from
    np.random.default_rng(seed).  truncate_bptt: None (full BPTT) or a window length k >= 1.
    progress: a tqdm bar per epoch. num_threads: at most this many threads in the kernels' time
    loop and in OpenBLAS while fit runs (None: the MINIRNN_NUM_THREADS variable if set, else
    every core for the loop and OpenBLAS's own setting; see threads.py), the previous setting
    restored at the end (the loop's count never changes a result; OpenBLAS's can change the last
    bits of its large products). regularisers: None or a list of
    (regulariser, weight >= 0) pairs (regularisers.py): weight * its penalty joins the training
    loss, its gradients join the backward pass, and its own parameters, "reg.<name>.<param>",
    are stepped (and restored with the best epoch) like the model's. Before the first step, fit
    calls `allocator.keep_freed_memory()`, a process-wide malloc setting (see allocator.py).

    Returns the history: {"train_loss", "val_loss", "train_metric", "val_metric", "lr": lists
    per epoch; "grad_norm": {layer: per-epoch mean gradient norm before clipping}, "grad_norm_total";
    "best_epoch", "stopped_epoch" (None if it ran all epochs); "regularisers": {name: per-epoch
    mean of weight * penalty}}. The train loss (penalties included) and metric of an epoch are
    means over its batches (weighted by batch size), measured while training; the val loss is the
    loss alone.
    """
    check_model(model)
    epochs, batch_size = check_int("epochs", epochs, minimum=0), check_int("batch_size", batch_size)
    truncate_bptt = None if truncate_bptt is None else check_int("truncate_bptt", truncate_bptt)
    x, y, mask = unpack("train", train)
    val = None if val is None else unpack("val", val)
    if val is not None:
        check_val((x, y, mask), val)
    threads = resolve_num_threads(num_threads)
    regularisers = check_regularisers(regularisers, model)
    trained = dict(model.params, **regulariser_params(regularisers))  # the arrays themselves
    keep_freed_memory()  # reuse freed blocks: no page faults per step (allocator.py)
    loss_fn = resolve("loss", loss, LOSSES)
    metric_fn = None if metric is None else resolve("metric", metric, METRICS)
    optimizer = optimizer or Adam(lr=1e-3)
    if truncate_bptt is not None and (y.ndim < 2 or y.shape[1] != x.shape[1]):
        raise ValueError(f"truncate_bptt needs one target per step, y: (N, T, ...) with T = "
                         f"{x.shape[1]}; got y {y.shape}")
    if early_stopping is not None and early_stopping.monitor.startswith("val") and val is None:
        raise ValueError(f"early stopping on {early_stopping.monitor!r} needs a val set; pass val "
                         f"or monitor 'train_loss'")
    if early_stopping is not None and early_stopping.monitor.endswith("metric") and metric is None:
        raise ValueError(f"early stopping on {early_stopping.monitor!r} needs a metric")
    rng = np.random.default_rng(seed)
    history = {"train_loss": [], "val_loss": [], "train_metric": [], "val_metric": [], "lr": [],
               "grad_norm": {}, "grad_norm_total": [], "best_epoch": None, "stopped_epoch": None,
               "regularisers": {reg.name: [] for reg, _, _ in regularisers}}
    best_params = None
    with thread_limit(threads):  # the thread counts for this run only (threads.py)
        for epoch in range(epochs):
            sums, layer_norms, total_norms = {"loss": 0.0, "metric": 0.0, "count": 0}, [], []
            penalty_sums = dict.fromkeys(history["regularisers"], 0.0)
            history["lr"].append(optimizer.current_lr())
            steps = [(idx, window) for idx in batches(len(x), batch_size, rng if shuffle else None)
                     for window in time_windows(x.shape[1], truncate_bptt)]
            bar = progress_bar(len(steps), f"epoch {epoch + 1}/{epochs}") if progress else None
            carried = None
            for idx, window in steps:
                if window.start == 0:
                    carried = None  # a new batch of sequences starts from zero states
                xb, yb = x[idx][:, window], y[idx]
                yb = yb[:, window] if truncate_bptt is not None else yb
                mb = None if mask is None else mask[idx][:, window]
                out, cache = model.forward(xb, mb, initial_states=carried, train=True, rng=rng)
                carried = cache.final_states  # plain arrays: no gradient flows between windows
                batch_loss, dout = loss_fn(out, yb, cache.output_mask)
                penalties, dlayers, dgates, reg_grads = apply_regularisers(regularisers, cache)
                injected = {"dlayers": dlayers, "dgates": dgates} if regularisers else {}
                _, grads = model.backward(dout, cache, **injected)
                grads.update(reg_grads)
                squares = squared_norms(grads)  # before clipping: the true gradient
                layer_norms.append(group_norms(squares))
                total_norms.append(math.sqrt(sum(squares.values())))
                scale = 1.0 if clip_norm is None else clip_scale(total_norms[-1], clip_norm)
                optimizer.step(trained, grads, scale=scale)  # clipping folded into the step
                sums["loss"] += (batch_loss + sum(penalties.values())) * len(idx)
                for name, penalty in penalties.items():
                    penalty_sums[name] += penalty * len(idx)
                sums["count"] += len(idx)
                if metric_fn is not None:
                    sums["metric"] += metric_fn(out, yb, cache.output_mask) * len(idx)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{sums['loss'] / sums['count']:.4f}", refresh=False)
            history["train_loss"].append(sums["loss"] / sums["count"])
            history["train_metric"].append(sums["metric"] / sums["count"] if metric_fn else None)
            for name, total in penalty_sums.items():
                history["regularisers"][name].append(total / sums["count"])
            for group in layer_norms[0]:
                history["grad_norm"].setdefault(group, []).append(
                    float(np.mean([norms[group] for norms in layer_norms])))
            history["grad_norm_total"].append(float(np.mean(total_norms)))
            if val is not None:
                scores = evaluate(model, loss_fn, val, metric_fn, batch_size=max(batch_size, 256))
                history["val_loss"].append(scores["loss"])
                history["val_metric"].append(scores["metric"])
            if bar is not None:
                bar.set_postfix(epoch_summary(history))
                bar.close()
            if early_stopping is not None:
                stop = early_stopping.update(epoch, history[early_stopping.monitor][-1])
                if early_stopping.best_epoch == epoch:
                    best_params = {k: v.copy() for k, v in trained.items()}
                if stop:
                    history["stopped_epoch"] = epoch
                    break
    if early_stopping is not None:
        history["best_epoch"] = early_stopping.best_epoch
        if restore_best and best_params is not None:
            for name, p in trained.items():
                p[...] = best_params[name]
    return history


def epoch_summary(history):
    """The last epoch's numbers, formatted for the progress bar."""
    keys = ["train_loss", "val_loss", "train_metric", "val_metric"]
    return {k: f"{history[k][-1]:.4f}" for k in keys if history[k] and history[k][-1] is not None}


def progress_bar(total, description):
    """A tqdm bar for `total` updates (tqdm is imported only when a bar is wanted)."""
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=description, leave=True)
