"""Triton Python-backend models; ``zoo repo build`` copies them as ``<model>/1/model.py``.

They run inside Triton's Python-backend stub, which provides ``triton_python_backend_utils``.
"""
