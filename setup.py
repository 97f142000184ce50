"""The one build step pyproject.toml cannot declare stably: the judge's optional C merge.

cockpit/judge/_merge.c counts pairs for the canary judge's interval about three times
faster than numpy's binary searches. It is optional: where no C compiler is found the
install goes on without it and the judge counts with numpy alone, to the same results
(tests/judge/test_merge_count.py compares the two).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("cockpit.judge._merge", sources=["cockpit/judge/_merge.c"], optional=True),
    ]
)
