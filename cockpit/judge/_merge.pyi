# The C merge (cockpit/judge/_merge.c); see cockpit/judge/merge_count.py.
import numpy as np
import numpy.typing as npt

def below(
    xs: npt.NDArray[np.float64],
    ys_then_nan: npt.NDArray[np.float64],
    mu: float,
    out: npt.NDArray[np.intp],
) -> tuple[int, int] | None: ...
