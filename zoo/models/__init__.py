"""The model families; importing this package registers every zoo entry, without torch.

Each family is a package: its `__init__` holds the registry entries and the rule that derives
the entry points from the config; its `network` module (torch) holds the classes.
"""

from zoo.models import classifier, cyclegan, dcgan, stylegan2, vae

__all__ = ["classifier", "cyclegan", "dcgan", "stylegan2", "vae"]
