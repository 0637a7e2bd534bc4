"""Generators, discriminators and the landcover segmenter (Keras 3 functional models)."""

from lcgan._lazy import lazy_exports

__all__ = [
    "unet_generator", "dual_branch_generator", "patch_discriminator",
    "local_global_discriminator", "acgan_discriminator", "oasis_discriminator", "segmenter",
    "select_inputs",
]

__getattr__ = lazy_exports(__name__, {
    "unet_generator": "lcgan.models.unet",
    "dual_branch_generator": "lcgan.models.dual_branch",
    "patch_discriminator": "lcgan.models.discriminators",
    "local_global_discriminator": "lcgan.models.local_global",
    "acgan_discriminator": "lcgan.models.discriminators",
    "oasis_discriminator": "lcgan.models.oasis",
    "select_inputs": "lcgan.models.blocks",
    "segmenter": "lcgan.models.segmenter",
})
