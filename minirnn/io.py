"""save / load a model (a bare StackedRNN or a Sequential) as one .npz file.

The file is a zip archive written by numpy with

    "__minirnn__"          a JSON string: {"format": "minirnn-model", "format_version": 1,
                           "minirnn_version", "model": {"type", "config"}, "params": [names]}
    "params/<name>"        every parameter array, stored exactly (dtype and bytes)

A loaded model has the same config and bit-for-bit the same parameters.

Saving is atomic: the file is written beside the target under a temporary name and renamed over
it only once complete, so a failed write (disk full, file-size limit, an interrupt) leaves any
older file at that path as it was, and no temporary file behind.

Loading reads every entry in full, so each one's CRC-32 is checked, and decodes the arrays with
allow_pickle=False: no Python objects are ever unpickled. A missing path raises FileNotFoundError
and a directory IsADirectoryError (from opening it). Everything else is a ValueError naming the
path and saying which: a truncated or corrupt file, a file that is not a minirnn model, one
written by another format version, or a header whose model description has an unknown, missing
or invalid key or value.
"""
import inspect
import json
import os
import secrets
import stat
import zipfile
import zlib
from contextlib import suppress
from io import BytesIO

import numpy as np

from .layers import Dense, Embedding
from .model import Recurrent, Sequential
from .stack import StackedRNN

FORMAT = "minirnn-model"
FORMAT_VERSION = 1
HEADER = "__minirnn__"
PREFIX = "params/"
# the class whose constructor takes a stored layer's config (a Recurrent's: its net's)
LAYER_MAKERS = {"Embedding": Embedding, "Dense": Dense, "Recurrent": StackedRNN}
# What a damaged archive raises while zipfile, zlib/bz2 and numpy's .npy reader parse and
# decompress it (each seen when flipping single bytes of a saved file: a bad CRC or header, an
# undecodable stream, a size that seeks before the start (ValueError, as is UnicodeDecodeError),
# a flipped compression method, version or encryption flag); `read_entries` makes each a ValueError.
DECODING_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError,
                   NotImplementedError, RuntimeError)


def describe(model):
    """{"type", "config"} for a StackedRNN or a Sequential."""
    if isinstance(model, StackedRNN):
        return {"type": "StackedRNN", "config": model.config}
    if isinstance(model, Sequential):
        return {"type": "Sequential", "config": model.config}
    raise TypeError(f"model must be a StackedRNN or a Sequential; got {type(model).__name__}")


def build(description, backend=None):
    """The model a `describe` dict describes, with freshly initialised parameters. A ValueError
    names any unknown, missing or invalid key or value."""
    check_keys("the model description", description, required=("type", "config"))
    kind, config = description["type"], description["config"]
    if kind == "StackedRNN":
        return construct("the StackedRNN", StackedRNN, config, backend=backend)
    if kind == "Sequential":
        check_keys("the Sequential config", config, required=("layers",), allowed=("layers",))
        if not isinstance(config["layers"], list):
            raise ValueError(f"the Sequential config's 'layers' must be a list of layer entries; "
                             f"got {type(config['layers']).__name__}")
        layers = [build_layer(entry, backend) for entry in config["layers"]]
        return construct("the Sequential", Sequential, {"layers": layers})
    raise ValueError(f"unknown model type {kind!r}; known: StackedRNN, Sequential")


def build_layer(entry, backend):
    """(name, layer) for one entry {"name", "type", "config"} of a Sequential's config."""
    check_keys("a Sequential layer entry", entry, required=("name", "type", "config"),
               allowed=("name", "type", "config"))
    kind = entry["type"]
    if kind not in LAYER_MAKERS:
        raise ValueError(f"unknown layer type {kind!r}; known: {sorted(LAYER_MAKERS)}")
    what = f"layer {entry['name']!r} ({kind})"
    if kind == "Recurrent":
        return entry["name"], Recurrent(construct(what, StackedRNN, entry["config"],
                                                  backend=backend))
    return entry["name"], construct(what, LAYER_MAKERS[kind], entry["config"])


def construct(what, maker, config, **given):
    """maker(**config, **given), once config's keys are checked against maker's arguments (those
    without a default are required); an error maker raises on a value becomes a ValueError."""
    arguments = {name: p for name, p in inspect.signature(maker).parameters.items()
                 if name not in given}
    required = [name for name, p in arguments.items() if p.default is p.empty]
    check_keys(f"the config of {what}", config, required, allowed=arguments)
    try:
        return maker(**config, **given)
    except (TypeError, ValueError) as error:
        raise ValueError(f"the config of {what} holds an invalid value: {error}") from error


def check_keys(what, value, required, allowed=None):
    """`value` must be a dict with every `required` key and, if `allowed` is given, no other."""
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a dict; got {type(value).__name__} {value!r:.80}")
    missing = [key for key in required if key not in value]
    unknown = [] if allowed is None else sorted(set(value) - set(allowed), key=str)
    if missing or unknown:
        problems = ([f"is missing {missing}"] if missing else []) + \
                   ([f"has unknown keys {unknown}"] if unknown else [])
        keys = f"expected keys: {list(allowed)}" if allowed is not None else \
            f"required keys: {list(required)}"
        raise ValueError(f"{what} {' and '.join(problems)}; {keys}")


def save(model, path):
    """Write model (a StackedRNN or a Sequential) to `path` (exactly that name; no suffix
    added), atomically: an existing file there is replaced only by a complete new one."""
    from . import __version__
    params = model.params
    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "minirnn_version": __version__,
              "model": describe(model), "params": list(params)}
    entries = {HEADER: np.array(json.dumps(header)),
               **{PREFIX + name: value for name, value in params.items()}}
    # through a symbolic link to the file it names, as writing in place did
    write_atomically(os.path.realpath(path), lambda f: np.savez_compressed(f, **entries))


def write_atomically(path, write):
    """Call write(f) on a new file beside `path`, then rename it to `path` (os.replace is atomic
    within a folder). On any failure the new file is removed and `path` is left as it was. The
    file gets the mode of the file it replaces, or the usual 0o666 less the umask."""
    temporary = f"{path}.{secrets.token_hex(4)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)  # O_BINARY: Windows
    f = os.fdopen(os.open(temporary, flags, 0o666), "wb")
    try:
        with f:
            if os.path.isfile(path):
                os.chmod(temporary, stat.S_IMODE(os.stat(path).st_mode))
            write(f)
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the name points at them
        os.replace(temporary, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def load(path, backend=None):
    """Read a model written by `save`. backend: for the recurrent layers (default: the usual)."""
    entries = read_entries(path)
    header = read_header(path, entries)
    missing = [name for name in header["params"] if PREFIX + name not in entries]
    if missing:
        raise ValueError(f"{path} is incomplete: parameters {missing} are listed but not stored")
    try:
        model = build(header["model"], backend)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error
    assign(model, {name: entries[PREFIX + name] for name in header["params"]}, path)
    return model


def read_entries(path):
    """{entry name: array} of the .npz file at `path`: every entry read in full (which checks its
    CRC-32) and decoded without unpickling."""
    with open(path, "rb") as f:  # a missing path or a directory: the OSError says which
        data = f.read()
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            return {name.removesuffix(".npy"): np.lib.format.read_array(
                        BytesIO(archive.read(name)), allow_pickle=False)
                    for name in archive.namelist()}
    except DECODING_ERRORS as error:
        raise ValueError(f"{path} is not a readable .npz file (truncated, corrupt, or not an npz "
                         f"archive): {type(error).__name__}: {error}") from error


def read_header(path, entries):
    """The parsed header, checked for the format name, the version and its layout."""
    if HEADER not in entries:
        raise ValueError(f"{path} is not a minirnn model file: it has no {HEADER!r} entry "
                         f"(entries: {sorted(entries)[:5]})")
    try:
        header = json.loads(str(entries[HEADER]))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: the {HEADER!r} entry is not valid JSON: {error}") from error
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{path} is not a minirnn model file (format "
                         f"{header.get('format') if isinstance(header, dict) else None!r})")
    if header.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path} has format version {header.get('format_version')!r} (written by "
                         f"minirnn {header.get('minirnn_version')}); this minirnn reads version "
                         f"{FORMAT_VERSION}")
    check_keys(f"{path}: the header", header, required=("model", "params"))
    names = header["params"]
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise ValueError(f"{path}: the header's 'params' must be a list of parameter names; "
                         f"got {names!r:.80}")
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
