"""The headless controller: the hub, judge, gates and automatic actions without a TUI."""
