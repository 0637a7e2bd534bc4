"""The library's exceptions. Each one names the file or argument at fault."""


class LcganError(Exception):
    """Base class of every error lcgan raises on purpose."""


class DataError(LcganError, ValueError):
    """A data file is missing, unreadable, empty or inconsistent (message names the file)."""


class LegendError(DataError):
    """A landcover mask holds colours or class ids that the legend does not define."""


class RasterMismatchError(DataError):
    """Two rasters that must be aligned differ in CRS, transform, size or band count."""


class WeightsUnavailableError(LcganError, RuntimeError):
    """Pretrained weights were asked for but cannot be loaded (offline, missing file)."""


class ExportError(LcganError):
    """An export directory is missing, incomplete, or would be overwritten without consent."""
