"""Textual screens and their widgets: the views of the fleet and the action dialogs."""
