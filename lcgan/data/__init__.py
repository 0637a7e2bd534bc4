"""Landcover data: legend, tile sources, sample builders and tf.data pipelines."""

from lcgan._lazy import lazy_exports

__all__ = [
    "IGNORE", "Legend", "sample_legend",
    "TileSource", "FolderSource", "GeoTiffSource", "SyntheticSource", "TfdsSource", "sample_source",
    "preset_source", "preset_names",
    "build_tfds", "resolve_source", "mixed_square", "masked_class", "build_samples", "sample_builder", "make_dataset",
]

__getattr__ = lazy_exports(__name__, {
    "IGNORE": "lcgan.data.legend",
    "Legend": "lcgan.data.legend",
    "sample_legend": "lcgan.data.legend",
    "TileSource": "lcgan.data.sources",
    "FolderSource": "lcgan.data.sources",
    "GeoTiffSource": "lcgan.data.geotiff_source",
    "SyntheticSource": "lcgan.data.sources",
    "sample_source": "lcgan.data.sources",
    "TfdsSource": "lcgan.data.tfds_builder",
    "preset_source": "lcgan.data.presets",
    "preset_names": "lcgan.data.presets",
    "build_tfds": "lcgan.data.tfds_builder",
    "mixed_square": "lcgan.data.samples",
    "masked_class": "lcgan.data.samples",
    "build_samples": "lcgan.data.samples",
    "sample_builder": "lcgan.data.samples",
    "make_dataset": "lcgan.data.pipeline",
    "resolve_source": "lcgan.data.resolve",
})
