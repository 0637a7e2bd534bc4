"""lcgan: landcover-conditioned GAN inpainting and editing of satellite imagery.

The whole job from Python (no command line needed)::

    import lcgan
    run = lcgan.train("mixlc", epochs=2, steps_per_epoch=10, out="runs/mixlc")
    result = lcgan.evaluate(run.export_dir, task="mixlc")
    lcgan.edit_scene(run.export_dir, "rgb.tif", "landcover_edited.tif", "edited.tif",
                     original_landcover_path="landcover.tif")

Public names are imported lazily, so ``import lcgan`` does not load TensorFlow by itself; the
``TYPE_CHECKING`` imports below make them visible to IDEs and type checkers.
"""

from typing import TYPE_CHECKING

from lcgan._lazy import lazy_exports

__version__ = "0.2.0"

_EXPORTS = {
    "LandcoverGAN": "lcgan.training.gan",
    "Legend": "lcgan.data.legend",
    "TrainConfig": "lcgan.training.config",
    "TrainingRun": "lcgan.training.recipes",
    "train": "lcgan.training.recipes",
    "EvaluationResult": "lcgan.evaluation.evaluator",
    "evaluate": "lcgan.evaluation.evaluator",
    "export_generator": "lcgan.scenes.export",
    "load_generator": "lcgan.scenes.export",
    "load_any_generator": "lcgan.scenes.export",
    "edit_scene": "lcgan.scenes.inference",
    "one_line_errors": "lcgan.errors",
}

__all__ = ["__version__", *_EXPORTS]

__getattr__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from lcgan.data.legend import Legend
    from lcgan.errors import one_line_errors
    from lcgan.evaluation.evaluator import EvaluationResult, evaluate
    from lcgan.scenes.export import export_generator, load_any_generator, load_generator
    from lcgan.scenes.inference import edit_scene
    from lcgan.training.config import TrainConfig
    from lcgan.training.gan import LandcoverGAN
    from lcgan.training.recipes import TrainingRun, train
