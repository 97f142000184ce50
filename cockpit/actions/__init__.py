"""From a key to a mutation: plans, policy, gates, windows, targets, the executor and its
audit records, two-person approvals, identity and the autopilot."""
