"""Augmentation: batch presets for classification, box/mask-aware pipelines for other tasks."""
