"""save / load: bit-for-bit round trips, atomic saves and clear errors for bad files."""
import errno
import json
import os
import stat
import subprocess
import sys

import numpy as np
import pytest

from minirnn import StackedRNN
from minirnn.io import load, save
from minirnn.layers import Dense, Embedding
from minirnn.model import Recurrent, Sequential


def assert_same_params(a, b):
    assert list(a.params) == list(b.params)
    for name in a.params:
        x, y = a.params[name], b.params[name]
        assert x.dtype == y.dtype and x.shape == y.shape, name
        assert x.tobytes() == y.tobytes(), name  # bit for bit


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_stacked_rnn_round_trip(tmp_path, cell, dtype):
    net = StackedRNN(cell, 3, [4, 4, 2], bidirectional=True, skip=[(1, 3)], return_sequences=False,
                     dtype=dtype, seed=5, init="orthogonal", forget_bias=1.0, backend="numpy")
    rng = np.random.default_rng(0)
    for p in net.params.values():  # values no initialiser would produce, incl. tiny and huge ones
        p[...] = (rng.standard_normal(p.shape) * 10.0 ** rng.integers(-30, 30, p.shape)).astype(dtype)
    path = tmp_path / "net.npz"
    save(net, path)
    loaded = load(path, backend="numpy")
    assert isinstance(loaded, StackedRNN) and loaded.config == net.config
    assert loaded.skip_edges == [(1, 3)] and loaded.dtype == np.dtype(dtype)
    assert_same_params(net, loaded)
    x = rng.standard_normal((2, 5, 3)).astype(dtype)
    np.testing.assert_array_equal(net.forward(x)[0], loaded.forward(x)[0])


def test_sequential_round_trip_keeps_names_and_outputs(tmp_path):
    net = StackedRNN("gru", 4, [3, 3], return_sequences=False, dtype=np.float32, backend="numpy")
    model = Sequential([("embed", Embedding(9, 4, padding_idx=0, dtype=np.float32)),
                        ("rnn", Recurrent(net)), ("head", Dense(3, 2, activation="tanh",
                                                                dtype=np.float32))])
    model.params["head.b"][:] = [np.float32(1 / 3), np.float32(-7e-20)]
    path = tmp_path / "model.weights"  # any name: no suffix is added
    save(model, path)
    assert path.exists()
    loaded = load(path, backend="numpy")
    assert list(loaded.layers) == ["embed", "rnn", "head"]
    assert loaded.layers["embed"].padding_idx == 0 and loaded.layers["head"].activation == "tanh"
    assert loaded.config == model.config
    assert_same_params(model, loaded)
    ids = np.array([[1, 2, 0], [8, 8, 8]])
    np.testing.assert_array_equal(model.forward(ids)[0], loaded.forward(ids)[0])
    # the loaded arrays belong to the loaded layers (the optimizer's in-place updates reach them)
    loaded.params["rnn.layers.1.fwd.Wx"][0, 0] = 5.0
    assert loaded.layers["rnn"].net.params["layers.1.fwd.Wx"][0, 0] == 5.0


def test_truncated_file_is_a_clear_error(tmp_path):
    path = tmp_path / "net.npz"
    save(StackedRNN("lstm", 2, [3]), path)
    data = path.read_bytes()
    cut = tmp_path / "cut.npz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated, corrupt"):
        load(cut)
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="truncated, corrupt"):
        load(empty)


def test_foreign_files_are_rejected(tmp_path):
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, W=np.ones(3))
    with pytest.raises(ValueError, match="not a minirnn model file"):
        load(foreign)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not a readable .npz"):
        load(text)
    other = tmp_path / "other.npz"
    np.savez(other, __minirnn__=np.array(json.dumps({"format": "something-else"})))
    with pytest.raises(ValueError, match="not a minirnn model file"):
        load(other)


def rewrite_header(src, dst, change):
    with np.load(src, allow_pickle=False) as archive:
        entries = {k: archive[k] for k in archive.files}
    header = json.loads(str(entries["__minirnn__"]))
    change(header, entries)
    entries["__minirnn__"] = np.array(json.dumps(header))
    with open(dst, "wb") as f:
        np.savez(f, **entries)


def test_version_mismatch_and_inconsistent_files(tmp_path):
    path = tmp_path / "net.npz"
    save(StackedRNN("gru", 2, [3]), path)
    newer = tmp_path / "newer.npz"
    rewrite_header(path, newer, lambda h, e: h.update(format_version=2))
    with pytest.raises(ValueError, match="format version 2"):
        load(newer)
    missing = tmp_path / "missing.npz"
    rewrite_header(path, missing, lambda h, e: e.pop("params/layers.1.fwd.bhn"))
    with pytest.raises(ValueError, match="incomplete"):
        load(missing)
    reshaped = tmp_path / "reshaped.npz"
    rewrite_header(path, reshaped, lambda h, e: e.update({"params/layers.1.fwd.b": np.ones(4)}))
    with pytest.raises(ValueError, match="layers.1.fwd.b"):
        load(reshaped)
    with pytest.raises(TypeError, match="StackedRNN or a Sequential"):
        save(Dense(2, 2), tmp_path / "dense.npz")


def test_a_failed_save_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "net.npz"
    save(StackedRNN("lstm", 2, [3], seed=1), path)
    old = path.read_bytes()

    def disk_full_midway(f, **arrays):
        f.write(old[:100])  # some bytes are out before the disk fills
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez_compressed", disk_full_midway)
    with pytest.raises(OSError, match="No space left"):
        save(StackedRNN("lstm", 2, [3], seed=2), path)
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["net.npz"]  # no temporary file left behind
    monkeypatch.undo()
    save(StackedRNN("lstm", 2, [3], seed=2), path)  # a save that succeeds replaces it
    assert path.read_bytes() != old and os.listdir(tmp_path) == ["net.npz"]


FILE_SIZE_LIMIT = """
import resource, sys
from minirnn import StackedRNN
from minirnn.io import save
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))  # Python ignores SIGXFSZ: writes fail
try:
    save(StackedRNN("lstm", 8, [64, 64], seed=1), sys.argv[1])  # about 400 kB
except OSError as error:
    print("errno", error.errno)
"""


def test_a_save_over_the_file_size_limit_leaves_the_old_file_intact(tmp_path):
    pytest.importorskip("resource")
    path = tmp_path / "net.npz"
    save(StackedRNN("lstm", 2, [3]), path)
    old = path.read_bytes()
    result = subprocess.run([sys.executable, "-c", FILE_SIZE_LIMIT, str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == f"errno {errno.EFBIG}", result.stderr
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["net.npz"]


def test_save_keeps_the_file_mode_and_writes_through_a_link(tmp_path):
    target = tmp_path / "net.npz"
    save(StackedRNN("rnn", 2, [3]), target)
    os.chmod(target, 0o640)
    link = tmp_path / "latest.npz"
    link.symlink_to(target)
    save(StackedRNN("rnn", 2, [3], seed=7), link)
    assert link.is_symlink() and stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert load(target).params["layers.1.fwd.Wx"].tobytes() == \
        StackedRNN("rnn", 2, [3], seed=7).params["layers.1.fwd.Wx"].tobytes()


def test_missing_paths_and_folders_say_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="No such file.*nothing.npz"):
        load(tmp_path / "nothing.npz")
    with pytest.raises(IsADirectoryError, match="Is a directory"):
        load(tmp_path)


def test_every_single_byte_corruption_is_caught_or_harmless(tmp_path):
    net = StackedRNN("gru", 2, [2], backend="numpy")
    path = tmp_path / "net.npz"
    save(net, path)
    data = path.read_bytes()
    corrupt = tmp_path / "corrupt.npz"
    harmless = 0
    for position in range(len(data)):  # about 1.9 kB, all of them
        flipped = bytearray(data)
        flipped[position] ^= 0xFF
        corrupt.write_bytes(bytes(flipped))
        try:
            loaded = load(corrupt, backend="numpy")
        except ValueError as error:
            assert str(corrupt) in str(error)
            continue
        assert_same_params(net, loaded)  # the byte was zip metadata nobody reads
        harmless += 1
    assert 0 < harmless < len(data) // 3


def test_hand_made_headers_name_the_bad_key_or_value(tmp_path):
    path = tmp_path / "net.npz"
    save(StackedRNN("gru", 2, [3]), path)
    def config(header):
        return header["model"]["config"]

    cases = [
        (lambda h: config(h).update(colour="red"), r"StackedRNN has unknown keys \['colour'\]"),
        (lambda h: config(h).pop("cell"), r"StackedRNN is missing \['cell'\]"),
        (lambda h: h["model"].update(config=[1, 2]), "StackedRNN must be a dict; got list"),
        (lambda h: h.update(params={"layers.1.fwd.Wx": 1}), "'params' must be a list of"),
        (lambda h: h.pop("model"), r"the header is missing \['model'\]"),
        (lambda h: h["model"].pop("type"), r"model description is missing \['type'\]"),
        (lambda h: h["model"].update(type="Transformer"), "unknown model type 'Transformer'"),
        (lambda h: config(h).update(hidden_sizes="three"), "invalid value: hidden_sizes must be"),
        (lambda h: config(h).update(cell=None), "invalid value: cell must be one of"),
    ]
    for k, (change, message) in enumerate(cases):
        edited = tmp_path / f"edited{k}.npz"
        rewrite_header(path, edited, lambda h, e: change(h))
        with pytest.raises(ValueError, match=message):
            load(edited)


def test_hand_made_sequential_headers_name_the_bad_layer(tmp_path):
    path = tmp_path / "model.npz"
    save(Sequential([("embed", Embedding(5, 2)), ("head", Dense(2, 1))]), path)
    cases = [
        (lambda layers: layers[1]["config"].update(units=3),
         r"layer 'head' \(Dense\) has unknown keys \['units'\]"),
        (lambda layers: layers[0].update(type="Conv"), "unknown layer type 'Conv'"),
        (lambda layers: layers[0].pop("name"), r"layer entry is missing \['name'\]"),
        (lambda layers: layers[1].update(name="embed"), "layer names must be unique"),
    ]
    for k, (change, message) in enumerate(cases):
        edited = tmp_path / f"edited{k}.npz"
        rewrite_header(path, edited, lambda h, e: change(h["model"]["config"]["layers"]))
        with pytest.raises(ValueError, match=message):
            load(edited)
