"""exp, sigmoid and tanh as scalar functions that LLVM can vectorize inside a Numba loop.

Numba compiles `np.exp`/`np.tanh` on a scalar to a call into the C math library, one element at a
time (about 13 ns per tanh here), and that alone would cost more than the matrix products of a
small LSTM step. The functions below use only arithmetic, comparisons, a float -> int conversion
and a bit cast, so a loop over them compiles to SIMD code (about 1 ns per element in float64,
half that in float32). They follow the Cephes library (S. L. Moshier), in a float64 and a float32
version, each accurate to a few units in the last place of its type:

    exp(x)     = 2^k * exp(r),  k = round(x / ln 2),  r = x - k ln 2 (ln 2 split in two parts),
                 float64: exp(r) = 1 + 2 r P(r^2) / (Q(r^2) - r P(r^2))   (Pade form)
                 float32: exp(r) = 1 + r + r^2 P(r)                        (polynomial)
    tanh(x)    = x + x^3 P(x^2) [/ Q(x^2) in float64]                   for |x| < 0.625
               = sign(x) (1 - 2 / (exp(2|x|) + 1))                       otherwise
    sigmoid(x) = 1 / (1 + e)  for x >= 0,   e / (1 + e)  for x < 0,   with e = exp(-|x|) <= 1,
                 so no intermediate can overflow (the formula of cells/activations.py).

`exp`, `tanh` and `sigmoid` pick the version matching their argument's type when Numba compiles
the caller; constants of the other precision would silently widen float32 arithmetic to float64.
Every caller must be compiled with jit.py's options (they apply to these functions inlined into
it): error_model="numpy" keeps the loop free of zero-division branches, and FMA contraction
makes the polynomials 20-35% faster.
"""
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

from .jit import jit

f32 = np.float32


@intrinsic
def int64_bits_as_float64(typingctx, bits):
    """Reinterpret the 64 bits of an int64 as a float64 (a no-op for the CPU)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


@intrinsic
def int32_bits_as_float32(typingctx, bits):
    """Reinterpret the 32 bits of an int32 as a float32."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())
    return types.float32(types.int32), codegen


# ---- float64 ---------------------------------------------------------------------------------
@jit(inline="always")
def exp64(x):
    """e^x for x in [-708, 709] (clamped outside: the result stays a normal float64)."""
    x = min(max(x, -708.0), 709.0)
    k = np.floor(1.4426950408889634 * x + 0.5)  # round(x / ln 2)
    r = x - k * 6.93145751953125e-1 - k * 1.42860682030941723212e-6  # k * ln2_hi is exact
    rr = r * r
    p = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr
             + 9.99999999999999999910e-1)
    q = (((3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr
          + 2.27265548208155028766e-1) * rr + 2.00000000000000000009e0)
    two_to_k = int64_bits_as_float64((np.int64(k) + 1023) << 52)  # exponent field k + bias
    return (1.0 + 2.0 * p / (q - p)) * two_to_k


@jit(inline="always")
def tanh64(x):
    """tanh(x); both branches are computed and one is selected, which keeps the loop SIMD."""
    a = abs(x)
    s = exp64(2.0 * min(a, 22.0))  # tanh(22) rounds to 1
    large = 1.0 - 2.0 / (s + 1.0)
    z = a * a
    small = a + a * z * (((-9.64399179425052238628e-1 * z - 9.92877231001918586564e1) * z
                          - 1.61468768441708447952e3)
                         / (((z + 1.12811678491632931402e2) * z + 2.23548839060100448583e3) * z
                            + 4.84406305325125486048e3))
    t = large if a >= 0.625 else small
    return t if x >= 0.0 else -t


@jit(inline="always")
def sigmoid64(x):
    e = exp64(-abs(x))
    r = 1.0 / (1.0 + e)
    return r if x >= 0.0 else e * r


# ---- float32 ---------------------------------------------------------------------------------
@jit(inline="always")
def exp32(x):
    """e^x for x in [-87, 88] (clamped outside: the result stays a normal float32)."""
    x = min(max(x, f32(-87.0)), f32(88.0))
    k = np.floor(f32(1.44269504088896341) * x + f32(0.5))
    r = x - k * f32(0.693359375) + k * f32(2.12194440e-4)  # ln 2 = 0.693359375 - 2.12e-4
    p = (((((f32(1.9875691500e-4) * r + f32(1.3981999507e-3)) * r + f32(8.3334519073e-3)) * r
           + f32(4.1665795894e-2)) * r + f32(1.6666665459e-1)) * r + f32(5.0000001201e-1))
    two_to_k = int32_bits_as_float32(np.int32((np.int64(k) + 127) << 23))
    return (p * r * r + r + f32(1.0)) * two_to_k


@jit(inline="always")
def tanh32(x):
    a = abs(x)
    s = exp32(f32(2.0) * min(a, f32(10.0)))  # tanh(10) rounds to 1
    large = f32(1.0) - f32(2.0) / (s + f32(1.0))
    z = a * a
    small = a + a * z * ((((f32(-5.70498872745e-3) * z + f32(2.06390887954e-2)) * z
                           - f32(5.37397155531e-2)) * z + f32(1.33314422036e-1)) * z
                         - f32(3.33332819422e-1))
    t = large if a >= f32(0.625) else small
    return t if x >= f32(0.0) else -t


@jit(inline="always")
def sigmoid32(x):
    e = exp32(-abs(x))
    r = f32(1.0) / (f32(1.0) + e)
    return r if x >= f32(0.0) else e * r


# ---- the functions the kernels call ----------------------------------------------------------
def exp(x):
    """e^x in the precision of x (float32 or float64); for Numba-compiled callers."""
    raise NotImplementedError("minirnn.kernels.scalar functions run inside Numba-compiled code")


def tanh(x):
    """tanh(x) in the precision of x; for Numba-compiled callers."""
    raise NotImplementedError("minirnn.kernels.scalar functions run inside Numba-compiled code")


def sigmoid(x):
    """1 / (1 + exp(-x)) in the precision of x, stable for any x; for Numba-compiled callers."""
    raise NotImplementedError("minirnn.kernels.scalar functions run inside Numba-compiled code")


def by_precision(float32_version, float64_version):
    """A Numba overload choosing the version for the argument's type."""
    def choose(x):
        if x == types.float32:
            return lambda x: float32_version(x)
        if x == types.float64:
            return lambda x: float64_version(x)
        return None
    return choose


overload(exp)(by_precision(exp32, exp64))
overload(tanh)(by_precision(tanh32, tanh64))
overload(sigmoid)(by_precision(sigmoid32, sigmoid64))


@jit(inline="always")
def dsigmoid(y):
    """d sigmoid / d a, given y = sigmoid(a)."""
    return y * (1.0 - y)


@jit(inline="always")
def dtanh(y):
    """d tanh / d a, given y = tanh(a)."""
    return 1.0 - y * y
