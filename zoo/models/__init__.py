"""The model families; importing this package registers every zoo entry."""

from zoo.models import classifier, cyclegan, dcgan, stylegan2, vae

__all__ = ["classifier", "cyclegan", "dcgan", "stylegan2", "vae"]
