"""Gradient flossing (Engelken 2023, docs/science.md §1): figures F1-F8."""
