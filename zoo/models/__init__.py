"""The model families, one package each; the registry imports every one of them, without torch.

A family's package holds everything that differs by architecture: its ``__init__`` (torch-free)
registers its :class:`~zoo.registry.Family` and its zoo entries; ``network`` holds the torch
classes, ``training`` its trainer, ``evaluation`` its evaluation protocol and ``card`` its
card's picture and usage text, each imported when first needed. docs/architecture.md has the
layout; a new package here is found by the registry (nothing else lists the families).
"""
