"""genzoo: a model zoo and inference-serving package for image generative models."""

from __future__ import annotations

from zoo.registry import create_model, get_spec, list_models

__version__ = "0.1.0"
__all__ = ["__version__", "create_model", "get_spec", "list_models"]
