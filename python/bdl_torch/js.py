"""JavaScript's number semantics, where the data pipeline's ports need them to the bit.

The TypeScript pipeline computes with doubles and with the 32-bit integer operators of
JavaScript (`>>> 0`, `Math.imul`, `|`); Python's floats are the same doubles, but its ints are
unbounded and its `round` rounds half to even. These helpers give the few operations whose
Python spelling would differ the result JavaScript computes.
"""

from __future__ import annotations

import math
from typing import Union

Number = Union[int, float]

MASK32 = 0xFFFFFFFF


def to_uint32(x: Number) -> int:
    """`x >>> 0`: ECMAScript's ToUint32 (truncate toward zero, then modulo 2^32; NaN and ±∞ give 0)."""
    if isinstance(x, float):
        if not math.isfinite(x):
            return 0
        x = int(x)  # int() truncates toward zero, as ToUint32 does
    return x & MASK32


def imul(a: int, b: int) -> int:
    """`Math.imul(a, b) >>> 0`: the low 32 bits of the product, as an unsigned int.

    Everything the ports do with these values afterwards (xor, shifts, further products) is
    modulo 2^32, so keeping them unsigned loses nothing over JavaScript's signed int32.
    """
    return (a * b) & MASK32


def js_round(x: float) -> int:
    """`Math.round(x)` for a finite x: the nearest integer, halves rounded up (toward +∞).

    `x - floor(x)` is exact for every double, so the comparison with 0.5 is too (unlike
    `floor(x + 0.5)`, which rounds 0.49999999999999994 to 1).
    """
    down = math.floor(x)
    return down + 1 if x - down >= 0.5 else down


def js_string(x: Number) -> str:
    """`String(x)` of a number (ECMAScript's Number::toString): `42`, `0.15`, `1e-7`, `1e+21`.

    Python's `repr` of a float gives the same shortest round-trip digits JavaScript uses; only
    where the decimal point and the exponent go differs, and that is laid out here.
    """
    if isinstance(x, bool):
        raise TypeError("a boolean is not a number here")
    if isinstance(x, int) and abs(x) < 2**53:
        return str(x)  # exact in a double, and JavaScript prints it digit for digit
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"  # -0 too
    if x < 0:
        return "-" + js_string(-x)
    digits, exponent = _shortest_digits(x)
    k = len(digits)
    n = exponent + k  # the value is 0.DIGITS × 10^n
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * -n + digits
    mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{mantissa}e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"


def _shortest_digits(x: float) -> tuple[str, int]:
    """The shortest digits that read back as x (> 0), and e such that x = int(digits) × 10^e."""
    text = repr(x)
    mantissa, _, exp = text.partition("e")
    exponent = int(exp) if exp else 0
    whole, _, fraction = mantissa.partition(".")
    if fraction == "0":
        fraction = ""
    digits = (whole + fraction).lstrip("0")
    exponent -= len(fraction)
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    return stripped, exponent
