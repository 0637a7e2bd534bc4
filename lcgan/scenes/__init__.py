"""Scenes: SavedModel export and loading, window grids and blending, whole-GeoTIFF editing."""

from lcgan._lazy import lazy_exports

__all__ = ["export_generator", "load_generator", "load_any_generator", "edit_scene"]

__getattr__ = lazy_exports(__name__, {
    "export_generator": "lcgan.scenes.export",
    "load_generator": "lcgan.scenes.export",
    "load_any_generator": "lcgan.scenes.export",
    "edit_scene": "lcgan.scenes.inference",
})
