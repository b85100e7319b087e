"""The hand-built networks, each checked exhaustively against a direct computation."""
import numpy as np
import pytest

from minirnn.analysis import probe_layer
from minirnn.constructions import (balanced_brackets, brackets_to_symbols, majority,
                                   parity_tree)


def all_bit_strings(T):
    """(2^T, T) every bit string of length T."""
    return (np.arange(2 ** T)[:, None] >> np.arange(T)[::-1]) & 1


@pytest.mark.parametrize("T", [8, 16])
def test_parity_tree_is_right_on_every_input(T):
    bits = all_bit_strings(T)
    construction = parity_tree(T)
    assert construction.net.num_layers == int(np.log2(T)) + 1
    assert construction.net.clock_periods == [2 ** k for k in range(construction.net.num_layers)]
    np.testing.assert_array_equal(construction.predict(bits), bits.sum(axis=1) % 2)


def test_parity_tree_needs_a_power_of_two():
    with pytest.raises(ValueError, match="power of two"):
        parity_tree(12)


def test_majority_is_exact_on_every_input_of_length_8_to_16():
    construction = majority()
    assert construction.net.num_layers == 1 and construction.net.hidden_sizes == [1]
    for T in range(8, 17):
        bits = all_bit_strings(T)
        expected = bits.sum(axis=1) > T / 2  # strictly more ones than zeros
        np.testing.assert_array_equal(construction.predict(bits), expected, err_msg=f"T={T}")


def is_balanced(symbols):
    depth = np.cumsum(symbols, axis=1)
    return (depth.min(axis=1) >= 0) & (depth[:, -1] == 0)


def test_balanced_brackets_on_every_string_up_to_length_16():
    construction = balanced_brackets()
    for T in range(1, 17):
        symbols = 1 - 2 * all_bit_strings(T)  # bit 0 -> '(' (+1), bit 1 -> ')' (-1)
        expected = is_balanced(symbols)
        np.testing.assert_array_equal(construction.predict(symbols), expected, err_msg=f"T={T}")
    assert construction.predict(brackets_to_symbols(["(()())", "())(()"])).tolist() == [True, False]


def random_dyck_words(count, T, rng):
    """Random balanced strings of even length T (+1 / -1), by rejection-free shuffling of a
    random walk: reflect the prefix up to the first dip (the cycle lemma variant)."""
    words = []
    for _ in range(count):
        steps = rng.permutation([1] * (T // 2) + [-1] * (T // 2))
        depth = np.cumsum(steps)
        cut = int(np.argmin(depth)) + 1  # rotate after the lowest point: never negative
        words.append(np.concatenate([steps[cut:], steps[:cut]]))
    return np.array(words)


def test_balanced_brackets_on_long_random_strings(rng):
    construction = balanced_brackets()
    T = 1000
    balanced = random_dyck_words(20, T, rng)
    assert is_balanced(balanced).all()
    broken = balanced.copy()
    for row in broken:  # one swap of an adjacent '(' ')' pair at a depth-0 point breaks it
        zeros = np.nonzero(np.cumsum(row)[:-1] == 0)[0]
        i = int(rng.choice(zeros)) + 1 if zeros.size else 0
        row[i], row[i + 1] = -1, 1
    flipped = balanced.copy()
    flipped[:, T // 2] *= -1  # ends at depth +-2
    noise = rng.choice([-1, 1], size=(20, T))
    symbols = np.concatenate([balanced, broken, flipped, noise])
    expected = is_balanced(symbols)
    assert expected.sum() == 20 and not is_balanced(broken).any()
    np.testing.assert_array_equal(construction.predict(symbols), expected)
    for T in (1, 7, 333, 999):
        short = rng.choice([-1, 1], size=(50, T))
        np.testing.assert_array_equal(construction.predict(short), is_balanced(short))


def test_layer_2_cell_state_is_a_linear_depth_counter(rng):
    construction = balanced_brackets()
    symbols = np.concatenate([random_dyck_words(30, 200, rng), rng.choice([-1, 1], (30, 200))])
    depth = np.cumsum(symbols, axis=1)
    x = construction.encode(symbols)
    probe = probe_layer(construction.net, x, depth, layer=2, state="c")
    assert probe.r2_test > 0.99
    assert probe.weights[0, 0] == pytest.approx(1 / construction.depth_scale, rel=1e-9)
    _, _, cache = construction.net.forward(x)
    np.testing.assert_allclose(cache.layers[2]["fwd"]["c"][..., 0],
                               construction.depth_scale * depth, atol=1e-9)
