"""save / load a model (a bare StackedRNN or a Sequential) as one .npz file.

The file is a zip archive written by numpy with

    "__minirnn__"          a JSON string: {"format": "minirnn-model", "format_version": 1,
                           "minirnn_version", "model": {"type", "config"}, "params": [names]}
    "params/<name>"        every parameter array, stored exactly (dtype and bytes)

and is read back with np.load(..., allow_pickle=False): no Python objects are ever unpickled.
A loaded model has the same config and bit-for-bit the same parameters. A truncated or corrupt
file, a file that is not a minirnn model, or one written by another format version raises a
ValueError that says which.
"""
import json
import zipfile

import numpy as np

from .layers import Dense, Embedding
from .model import Recurrent, Sequential
from .stack import StackedRNN

FORMAT = "minirnn-model"
FORMAT_VERSION = 1
HEADER = "__minirnn__"
PREFIX = "params/"


def describe(model):
    """{"type", "config"} for a StackedRNN or a Sequential."""
    if isinstance(model, StackedRNN):
        return {"type": "StackedRNN", "config": model.config}
    if isinstance(model, Sequential):
        return {"type": "Sequential", "config": model.config}
    raise TypeError(f"model must be a StackedRNN or a Sequential; got {type(model).__name__}")


def build(description, backend=None):
    """The model a `describe` dict describes, with freshly initialised parameters."""
    kind, config = description["type"], description["config"]
    if kind == "StackedRNN":
        return StackedRNN(**config, backend=backend)
    if kind == "Sequential":
        makers = {"Embedding": Embedding, "Dense": Dense,
                  "Recurrent": lambda **c: Recurrent(StackedRNN(**c, backend=backend))}
        for layer in config["layers"]:
            if layer["type"] not in makers:
                raise ValueError(f"unknown layer type {layer['type']!r} in the file; "
                                 f"known: {sorted(makers)}")
        return Sequential([(layer["name"], makers[layer["type"]](**layer["config"]))
                           for layer in config["layers"]])
    raise ValueError(f"unknown model type {kind!r} in the file; known: StackedRNN, Sequential")


def save(model, path):
    """Write model (a StackedRNN or a Sequential) to `path` (exactly that name; no suffix added)."""
    from . import __version__
    params = model.params
    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "minirnn_version": __version__,
              "model": describe(model), "params": list(params)}
    arrays = {PREFIX + name: value for name, value in params.items()}
    with open(path, "wb") as f:
        np.savez_compressed(f, **{HEADER: np.array(json.dumps(header))}, **arrays)


def load(path, backend=None):
    """Read a model written by `save`. backend: for the recurrent layers (default: the usual)."""
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a readable .npz file (truncated, corrupt, or not an npz "
                         f"archive)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if HEADER not in archive.files:
                raise ValueError(f"{path} is not a minirnn model file: it has no {HEADER!r} entry "
                                 f"(entries: {sorted(archive.files)[:5]})")
            header = read_header(path, str(archive[HEADER]))
            arrays = {name: archive[PREFIX + name] for name in header["params"]
                      if PREFIX + name in archive.files}
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise ValueError(f"{path} is not a readable .npz file (truncated, corrupt, or not an "
                         f"npz archive): {error}") from error
    missing = [name for name in header["params"] if name not in arrays]
    if missing:
        raise ValueError(f"{path} is incomplete: parameters {missing} are listed but not stored")
    model = build(header["model"], backend)
    assign(model, arrays, path)
    return model


def read_header(path, text):
    """The parsed header, checked for the format name and version."""
    try:
        header = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: the {HEADER!r} entry is not valid JSON: {error}") from error
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{path} is not a minirnn model file (format "
                         f"{header.get('format') if isinstance(header, dict) else None!r})")
    if header.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path} has format version {header.get('format_version')!r} (written by "
                         f"minirnn {header.get('minirnn_version')}); this minirnn reads version "
                         f"{FORMAT_VERSION}")
    return header


def assign(model, arrays, path):
    """Put the stored arrays into the freshly built model, checking names, shapes and dtypes."""
    expected = model.params
    if set(arrays) != set(expected):
        raise ValueError(f"{path}: stored parameters do not match the stored config; missing "
                         f"{sorted(set(expected) - set(arrays))}, extra {sorted(set(arrays) - set(expected))}")
    for name, value in arrays.items():
        if value.shape != expected[name].shape or value.dtype != expected[name].dtype:
            raise ValueError(f"{path}: parameter {name!r} is {value.dtype}{value.shape}; the config "
                             f"expects {expected[name].dtype}{expected[name].shape}")
    owners = {"": model} if isinstance(model, StackedRNN) else {f"{n}.": l for n, l in model.layers.items()}
    for prefix, owner in owners.items():
        for key in owner.params:
            owner.params[key] = arrays[prefix + key]
