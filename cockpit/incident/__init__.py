"""Incident mode, headless: what changed, ranked suspects, incident records and the timeline."""
