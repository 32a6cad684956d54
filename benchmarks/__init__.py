"""Benchmarks: imagekit-jobs side by side with what users would use instead.

Run ``python -m benchmarks`` (``--quick`` for a smoke run); see ``RESULTS.md``.
"""
