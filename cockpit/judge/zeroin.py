"""Brent's zeroin root finder, with the step rules R's uniroot and Kayenta use."""

from __future__ import annotations

import sys
from collections.abc import Callable

EPSILON = sys.float_info.epsilon


def zeroin(
    f: Callable[[float], float],
    a: float,
    b: float,
    fa: float,
    fb: float,
    tol: float = 1e-4,
    maxiter: int = 1000,
) -> float:
    """A root of f in [a, b] given f(a) and f(b) of opposite signs (or one of them zero).

    Brent (1973): keep a bracket [b, c] with the best guess b, try inverse quadratic or
    secant interpolation, fall back to bisection when the step would leave the bracket
    or shrink too slowly, and never step by less than the tolerance. The same arithmetic
    as R's zeroin, so on a step function (a rank statistic) it stops at the same point.
    """
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    c, fc = a, fa
    for _ in range(maxiter + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            # b must be the best approximation so far
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * EPSILON * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0.0:
                q = -q
            else:
                p = -p
            # accept the interpolation only inside the bracket and when it shrinks fast
            if p < 0.75 * cb * q - abs(tol_act * q) / 2 and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b
