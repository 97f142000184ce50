"""The fleet's state: the hub that polls connectors, the merged snapshot, its cells, the
analysis and the verdict history."""
