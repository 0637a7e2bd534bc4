"""Training: losses, the LandcoverGAN train step, EMA, callbacks and the Python ``train`` recipe."""

from lcgan._lazy import lazy_exports

__all__ = ["LandcoverGAN", "train", "TrainingRun", "TrainConfig", "losses"]

__getattr__ = lazy_exports(__name__, {
    "LandcoverGAN": "lcgan.training.gan",
    "train": "lcgan.training.recipes",
    "TrainingRun": "lcgan.training.recipes",
    "TrainConfig": "lcgan.training.config",
})
