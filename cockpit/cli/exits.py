"""The exit codes every `cockpit` command returns: one meaning per number, for scripts."""

from enum import IntEnum


class Exit(IntEnum):
    """A command's exit status. Imports nothing of ours, so any module may use it."""

    OK = 0  # done; `audit verify`: intact; `canary judge`: pass
    FAILED = 1  # a connector or a check failed; `canary judge`: marginal or fail
    USAGE = 2  # bad usage or config, unreadable input, no usable audit log
    REFUSED = 3  # an action refused by policy (or by the operator's answers)
    PENDING = 4  # an action waits for another operator's approval (two-person rule)
