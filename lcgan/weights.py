"""Pretrained ImageNet weights of the Keras applications lcgan uses, found offline-first.

One resolver serves every pretrained network (VGG16 for the feature loss, InceptionV3 for FID/KID):
``"imagenet"`` means the file in the Keras cache (``$KERAS_HOME/models`` or ``~/.keras/models``),
downloaded by ``keras.utils.get_file`` only when it is not there; a path means that file; None
means random weights, asked for explicitly. When the weights cannot be had, the
:class:`lcgan.errors.WeightsUnavailableError` names the file, where to put it, the URL Keras
downloads it from, and the ``weights=PATH`` / command-line flag alternatives.

Example:
    >>> path = resolve_pretrained("vgg16", "imagenet")  # cached file path, or raises offline
    >>> keras.applications.VGG16(include_top=False, weights=path)
"""

import dataclasses
import os

import keras

from lcgan.errors import WeightsUnavailableError

_BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"


@dataclasses.dataclass(frozen=True)
class PretrainedFile:
    """Where Keras keeps one application's ImageNet weights, and how users override them.

    Attributes:
        label: human name of the network, e.g. ``"VGG16 (no top)"``.
        file_name: the weights file name in the Keras cache.
        folder: its folder under the ``keras-applications`` storage bucket.
        file_hash: md5 of the file (checked by ``keras.utils.get_file`` on download).
        flag: the command-line flag that takes a weights path or ``none``.
        purpose: what lcgan uses the network for (said in errors).
    """

    label: str
    file_name: str
    folder: str
    file_hash: str
    flag: str
    purpose: str

    @property
    def url(self):
        """The URL ``keras.applications`` downloads the file from."""
        return f"{_BASE_URL}{self.folder}/{self.file_name}"


PRETRAINED = {
    "vgg16": PretrainedFile(
        "VGG16 (no top)", "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5", folder="vgg16",
        file_hash="6d6bbae143d832006294945121d1f1fc", flag="--vgg-weights",
        purpose="the VGG feature loss"),
    "inception_v3": PretrainedFile(
        "InceptionV3 (no top)", "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
        folder="inception_v3", file_hash="bcbd6486424b2319ff4ef7d526e38f63",
        flag="--inception-weights", purpose="Inception FID/KID"),
}
"""Application name -> :class:`PretrainedFile` of its ImageNet no-top weights."""


def keras_cache_dir():
    """The folder Keras caches downloaded weights in: ``$KERAS_HOME/models`` or ``~/.keras/models``."""
    return os.path.join(os.path.expanduser(os.environ.get("KERAS_HOME", os.path.join("~", ".keras"))),
                        "models")


def resolve_pretrained(application, weights):
    """Return the weights file to load for ``application``, or None for random weights.

    Args:
        application: a key of :data:`PRETRAINED` (``"vgg16"``, ``"inception_v3"``).
        weights: ``"imagenet"`` (the Keras cache file, downloaded if missing and reachable), a path
            to a weights file (``.h5`` / ``.weights.h5`` of the no-top application), or None /
            ``"none"`` for random weights.

    Returns:
        Path of an existing weights file, or None.

    Raises:
        ValueError: ``application`` is unknown.
        WeightsUnavailableError: the ImageNet weights are neither cached nor downloadable, or the
            given path does not exist; the message says which file to put where.

    Example:
        >>> resolve_pretrained("inception_v3", None) is None
        True
    """
    if application not in PRETRAINED:
        raise ValueError(f"`application` must be one of {sorted(PRETRAINED)}. "
                         f"Received: {application!r}")
    spec = PRETRAINED[application]
    if weights is None or (isinstance(weights, str) and weights.lower() == "none"):
        return None
    alternatives = (f"or pass a local copy with weights=PATH ({spec.flag} PATH), or weights=None "
                    f"({spec.flag} none) for random weights.")
    if weights == "imagenet":
        cache = keras_cache_dir()
        cached = os.path.join(cache, spec.file_name)
        if os.path.isfile(cached):
            return cached
        try:
            return keras.utils.get_file(spec.file_name, spec.url, cache_dir=os.path.dirname(cache),
                                        cache_subdir="models", file_hash=spec.file_hash)
        except Exception as error:  # offline, proxy, bad hash: all end the same way for the user
            raise WeightsUnavailableError(
                f"ImageNet {spec.label} weights for {spec.purpose} are not cached and could not "
                f"be downloaded ({type(error).__name__}: {error}). Put the file {spec.file_name} "
                f"(Keras downloads it from {spec.url}) at {cached} (the Keras cache: "
                f"$KERAS_HOME/models or ~/.keras/models), {alternatives}") from error
    path = os.fspath(weights)
    if not os.path.isfile(path):
        raise WeightsUnavailableError(
            f"{spec.label} weights file {path!r} does not exist. Pass weights='imagenet' (the "
            f"Keras cache file {spec.file_name}, from {spec.url}), {alternatives}")
    return path
