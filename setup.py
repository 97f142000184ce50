"""The one build step pyproject.toml cannot declare stably: two optional C extensions.

- cockpit/judge/_merge.c counts pairs for the canary judge's interval about three times
  faster than numpy's binary searches (tests/judge/test_merge_count.py compares the two);
- connectors/demo/_draws.c draws the demo fleet's start, the same numbers as
  `random.Random` gives, without a Python call per draw (tests/unit/test_demo_draws.py).

Both are optional: where no C compiler is found the install goes on without them, and the
judge counts with numpy, the demo draws through `Random`, to the same results.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("cockpit.judge._merge", sources=["cockpit/judge/_merge.c"], optional=True),
        Extension("connectors.demo._draws", sources=["connectors/demo/_draws.c"], optional=True),
    ]
)
