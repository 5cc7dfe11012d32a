"""Run folders, checkpoints, devices and the Lightning trainer factory."""
