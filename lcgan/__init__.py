"""lcgan: landcover-conditioned GAN inpainting and editing of satellite imagery.

Public names are imported lazily, so ``import lcgan`` does not load TensorFlow by itself.
"""

from lcgan._lazy import lazy_exports

__version__ = "0.1.0"

__all__ = ["__version__", "LandcoverGAN", "Legend", "export_generator", "load_generator"]

__getattr__ = lazy_exports(__name__, {
    "LandcoverGAN": "lcgan.gan",
    "Legend": "lcgan.data.legend",
    "export_generator": "lcgan.export",
    "load_generator": "lcgan.export",
})
