"""Losses of the landcover GAN, each usable on its own.

Every function returns a **per-example** loss of shape ``(B,)``; reduce it with ``ops.mean`` for a
single-device scalar, or with ``tf.nn.compute_average_loss`` (what :class:`lcgan.training.gan.LandcoverGAN`
does) so distributed training divides by the global batch size. Images are float in ``[-1, 1]``
and losses are on that scale (an L1 of 2 is the largest possible error). Evaluation measures
(region L1, PSNR, SSIM on the [0, 1] scale, NaN for empty masks) live in :mod:`lcgan.evaluation.metrics`.

Example:
    >>> l1 = reconstruction_l1(target, output, mask, inside_weight=1.0, outside_weight=0.1)  # (B,)
    >>> d = discriminator_loss(real_scores, fake_scores, kind="lsgan")  # (B,)
"""

from __future__ import annotations

import warnings

import keras
from keras import ops

from lcgan.data.legend import IGNORE
from lcgan.evaluation.metrics import ssim_map, ssim_window_weights
from lcgan.weights import resolve_pretrained

GAN_LOSSES = ("lsgan", "hinge")


def _per_example_mean(x):
    """Mean over every axis but the first: (B, ...) -> (B,) float32."""
    x = ops.cast(x, "float32")
    return ops.mean(ops.reshape(x, (ops.shape(x)[0], -1)), axis=1)


def reconstruction_l1(target, output, mask=None, *, inside_weight=1.0, outside_weight=1.0):
    """Training L1 distance with separate weights inside and outside the mask.

    Every pixel counts (weighted), so the mean is over the whole image on the [-1, 1] scale; for
    the evaluation L1 over the masked region only use :func:`lcgan.evaluation.metrics.masked_l1`.

    Args:
        target: (B, H, W, 3) reference image.
        output: (B, H, W, 3) generated image.
        mask: (B, H, W, 1) 1 inside the replaced region, 0 outside; None weighs all pixels alike.
        inside_weight: weight of pixels where ``mask == 1``.
        outside_weight: weight of pixels where ``mask == 0``.

    Returns:
        (B,) mean weighted absolute error over pixels and channels.
    """
    error = ops.abs(ops.cast(target, "float32") - ops.cast(output, "float32"))  # (B, H, W, 3)
    if mask is not None and inside_weight != outside_weight:
        mask = ops.cast(mask, "float32")
        error = error * (inside_weight * mask + outside_weight * (1.0 - mask))
    elif mask is not None and inside_weight != 1.0:  # one weight everywhere: no per-pixel map
        error = error * inside_weight
    return _per_example_mean(error)


def low_frequency_l1(target, output, mask, size):
    """L1 of the ``size`` x ``size`` block means of the masked area: its colour and coarse layout.

    The pixel loss of frequency-separation super-resolution (Fritsche et al., ICCVW 2019): the
    reconstruction is asked for on low frequencies only, where the context decides the answer (the
    tone of this sand, the shade of this water), and the texture inside each block is left to the
    adversarial terms, so the term pulls towards neither blur nor a colour cast.

    Args:
        target: (B, H, W, 3) reference image.
        output: (B, H, W, 3) generated image.
        mask: (B, H, W, 1) 1 inside the generated region.
        size: block side in pixels (int >= 1; 1 is the plain masked L1).

    Returns:
        (B,) mean absolute error (channel mean) of the block means, each block weighted by the
        share of its pixels inside the mask (0 if the mask is empty).
    """
    def blocks(x):
        return ops.average_pool(ops.cast(x, "float32"), pool_size=size, strides=size, padding="same")

    error = ops.mean(ops.abs(blocks(target) - blocks(output)), axis=-1)  # (B, h, w)
    share = blocks(mask)[..., 0]  # (B, h, w) share of each block inside the mask
    total, weight = ops.sum(error * share, axis=(1, 2)), ops.sum(share, axis=(1, 2))
    return total / ops.maximum(weight, 1e-6)


def chroma_l1(target, output, mask):
    """L1 of the colour-difference channels (Cb = B - Y, Cr = R - Y, Y the Rec. 601 luma) inside the
    mask: the hue of the fill, pixel by pixel, without its brightness.

    Real ground-cover texture lives in brightness (sand ripples, roof edges, waves) while its hue
    changes slowly, which is why image codecs store chroma at a lower resolution: a per-pixel
    chroma loss asks for the context's hue (no colour cast, no chromatic speckle) and leaves the
    texture in luma to the adversarial terms.

    Args:
        target: (B, H, W, 3) reference rgb in [-1, 1].
        output: (B, H, W, 3) generated rgb.
        mask: (B, H, W, 1) 1 inside the generated region.

    Returns:
        (B,) mean absolute Cb/Cr difference over each example's masked pixels (0 if none).
    """
    error = ops.mean(ops.abs(_luma_chroma(target)[..., 1:] - _luma_chroma(output)[..., 1:]),
                     axis=-1)  # (B, H, W)
    return _region_mean(error, ops.cast(mask, "float32")[..., 0])


def _luma_chroma(rgb):
    """(B, H, W, 3) rgb -> (B, H, W, 3) Y (Rec. 601 luma), Cb = B - Y, Cr = R - Y (float32)."""
    rgb = ops.cast(rgb, "float32")
    luma = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
    return ops.stack([luma, rgb[..., 2] - luma, rgb[..., 0] - luma], axis=-1)


def texture_energy_l1(target, output, mask):
    """L1 between the texture energies of target and output inside the mask, in luma and chroma.

    The texture energy of a channel is the standard deviation over the masked pixels of its
    high-frequency residual (each pixel minus the mean of its 3x3 neighbourhood), for Y, Cb and Cr.
    Like the Gram-matrix style losses of texture synthesis (Gatys et al. 2015) and of
    partial-convolution inpainting, it compares statistics, not pixels, so it does not ask for the
    unknowable layout of the texture and pulls towards no blur: a fill smoother than the real
    ground, grainier than it, or with colour speckle where the real ground varies in brightness
    only (the lavender and green casts of noise-driven fills) all pay for it.

    Args:
        target: (B, H, W, 3) reference rgb in [-1, 1].
        output: (B, H, W, 3) generated rgb.
        mask: (B, H, W, 1) 1 inside the generated region.

    Returns:
        (B,) mean over Y, Cb, Cr of the absolute difference of the energies (0 if the mask is empty).
    """
    region = ops.cast(mask, "float32")  # (B, H, W, 1)
    count = ops.maximum(ops.sum(region, axis=(1, 2)), 1.0)  # (B, 1)

    def energy(rgb):
        ycc = _luma_chroma(rgb)
        residual = ycc - ops.average_pool(ycc, pool_size=3, strides=1, padding="same")
        mean = ops.sum(residual * region, axis=(1, 2)) / count  # (B, 3)
        square = ops.sum(ops.square(residual) * region, axis=(1, 2)) / count
        return ops.sqrt(ops.maximum(square - ops.square(mean), 0.0) + 1e-8)  # (B, 3)

    return ops.mean(ops.abs(energy(target) - energy(output)), axis=-1)


def ssim_loss(target, output, mask):
    """1 - SSIM of the masked area: the structure term of the image-restoration losses of Zhao et
    al. (IEEE TCI 2017), as the evaluation measures it (:func:`lcgan.evaluation.metrics.masked_ssim`).

    SSIM compares local means, contrasts and correlations in 11x11 windows. Where the real ground is
    smooth it asks for a smooth fill (uncorrelated grain lowers it), and where the real ground has
    texture it asks for texture that lines up with the context's (a flat fill lowers its contrast
    term), so it counters both grain and blur, which an L1 alone only trades against each other.

    Args:
        target: (B, H, W, 3) reference rgb in [-1, 1], H and W >= 11.
        output: (B, H, W, 3) generated rgb.
        mask: (B, H, W, 1) 1 inside the generated region.

    Returns:
        (B,) mean of 1 - SSIM over the windows, each weighted by its share inside the mask (0 if the
        mask is empty); between 0 (identical) and 2.
    """
    dissimilarity = 1.0 - ssim_map(target, output)  # (B, H-10, W-10, 1)
    weights = ssim_window_weights(mask)
    total = ops.sum(dissimilarity * weights, axis=(1, 2, 3))
    return total / ops.maximum(ops.sum(weights, axis=(1, 2, 3)), 1e-6)


def masked_l1(*args, **kwargs):
    """Deprecated name of :func:`reconstruction_l1` (lcgan 0.1); it differs from the evaluation
    metric :func:`lcgan.evaluation.metrics.masked_l1` in scale and denominator."""
    warnings.warn("lcgan.training.losses.masked_l1 is renamed reconstruction_l1 (the evaluation "
                  "metric of the same old name is lcgan.evaluation.metrics.masked_l1).",
                  DeprecationWarning, stacklevel=2)
    return reconstruction_l1(*args, **kwargs)


def _check_kind(kind):
    if kind not in GAN_LOSSES:
        raise ValueError(f"`gan_loss` must be one of {GAN_LOSSES}. Received: {kind!r}")


def discriminator_loss(real_scores, fake_scores, *, kind="lsgan"):
    """Discriminator adversarial loss on raw (no sigmoid) patch scores.

    ``lsgan``: ``(real - 1)^2 + fake^2``; ``hinge``: ``relu(1 - real) + relu(1 + fake)``.

    Args:
        real_scores: (B, h, w, 1) scores of real images.
        fake_scores: (B, h, w, 1) scores of generated images.
        kind: ``"lsgan"`` or ``"hinge"``.

    Returns:
        (B,) loss per example.
    """
    _check_kind(kind)
    real_scores = ops.cast(real_scores, "float32")
    fake_scores = ops.cast(fake_scores, "float32")
    if kind == "lsgan":
        return _per_example_mean(ops.square(real_scores - 1.0)) + _per_example_mean(
            ops.square(fake_scores))
    return _per_example_mean(ops.relu(1.0 - real_scores)) + _per_example_mean(
        ops.relu(1.0 + fake_scores))


def generator_adversarial_loss(fake_scores, *, kind="lsgan"):
    """Generator adversarial loss: ``(fake - 1)^2`` (lsgan) or ``-fake`` (hinge).

    Args:
        fake_scores: (B, h, w, 1) discriminator scores of generated images.
        kind: ``"lsgan"`` or ``"hinge"``.

    Returns:
        (B,) loss per example.
    """
    _check_kind(kind)
    fake_scores = ops.cast(fake_scores, "float32")
    if kind == "lsgan":
        return _per_example_mean(ops.square(fake_scores - 1.0))
    return -_per_example_mean(fake_scores)


def acgan_loss(landcover, class_logits):
    """Per-pixel cross-entropy of the ACGAN landcover head, ignoring ``IGNORE`` pixels.

    Args:
        landcover: (B, H, W) int32 class ids, ``IGNORE`` (-1) where unannotated.
        class_logits: (B, H, W, K) logits predicted from the image alone.

    Returns:
        (B,) mean cross-entropy over each example's annotated pixels (0 if it has none).
    """
    return _region_mean(*_pixel_cross_entropy(landcover, class_logits))


def _pixel_cross_entropy(landcover, logits):
    """(B, H, W) ids, (B, H, W, K) logits -> (cross-entropy (B, H, W), annotated (B, H, W) 0/1)."""
    ids, valid = _valid_ids(landcover)
    per_pixel = keras.losses.sparse_categorical_crossentropy(
        ids, ops.cast(logits, "float32"), from_logits=True)
    return per_pixel, valid


def consistency_loss(landcover, logits, mask, margin=0, balanced=False):
    """Segmenter consistency of an edit: does a frozen segmenter read the edit as requested?

    The cross-entropy of the segmenter's logits on the edited image against the requested
    landcover, over the edited area only (outside it the image is the input's own).

    Args:
        landcover: (B, H, W) int requested class ids, ``IGNORE`` (-1) pixels skipped.
        logits: (B, H, W, K) segmenter logits on the edited image.
        mask: (B, H, W, 1) float, 1 inside the edited area.
        margin: pixels of the edited area next to its edge that are left out (see
            :func:`erode_mask`): a real class boundary is a soft transition over a few pixels,
            and the outside is kept as it is, so asking for the new class right at the edge asks
            for a hard seam.
        balanced: weigh each requested class alike over the batch's edited pixels
            (:func:`oasis_class_weights`), so a small requested class (buildings in a sea of
            edits to land and water) is not drowned by the large ones.

    Returns:
        (B,) mean (weighted) cross-entropy over each example's masked annotated pixels (0 if none).
    """
    inside = erode_mask(mask, margin)[..., 0] > 0.5  # (B, H, W)
    requested = ops.where(inside, ops.cast(landcover, "int32"), IGNORE)
    per_pixel, valid = _pixel_cross_entropy(requested, logits)  # (B, H, W) each
    if balanced:
        per_pixel = per_pixel * oasis_class_weights(requested, logits.shape[-1])
    return _region_mean(per_pixel, valid)


def erode_mask(mask, margin):
    """``mask`` without its pixels within ``margin`` pixels (Chebyshev) of an unmasked pixel.

    The image border is not an edge. An example whose whole mask lies within the margin keeps
    its mask, so thin edits (a road) still count.

    Args:
        mask: (B, H, W, 1) float, 1 inside.
        margin: int >= 0 (0: ``mask`` as float32).

    Returns:
        (B, H, W, 1) float32 0/1.
    """
    mask = ops.cast(ops.cast(mask, "float32") > 0.5, "float32")
    if margin <= 0:
        return mask
    outside_near = ops.max_pool(1.0 - mask, pool_size=2 * margin + 1, strides=1, padding="same")
    eroded = mask * (1.0 - outside_near)
    kept = ops.sum(eroded, axis=(1, 2, 3), keepdims=True) > 0
    return ops.where(kept, eroded, mask)


def _vertical_pairs(t):
    """(B, H, W, ...) -> the (upper, lower) pixels of every vertical neighbour pair."""
    return t[:, :-1], t[:, 1:]


def _horizontal_pairs(t):
    """(B, H, W, ...) -> the (left, right) pixels of every horizontal neighbour pair."""
    return t[:, :, :-1], t[:, :, 1:]


def seam_loss(image, mask):
    """Mean colour step between 4-neighbours on either side of the mask's edge.

    The boundary term of partial-convolution inpainting (Liu et al., ECCV 2018, whose total
    variation covers the hole's 1-px dilation), kept to the pairs that straddle the edge so the
    texture inside the region is left free: a generated region whose edge pixels jump away from
    the kept pixels next to them (a fringe, a hard seam) pays for it. The edit's own content
    decides how far below that it should go; the weight is small.

    Args:
        image: (B, H, W, C) composited output.
        mask: (B, H, W, 1) float, 1 inside the generated region.

    Returns:
        (B,) mean absolute step (channel mean) over each example's edge pairs (0 if none).
    """
    image = ops.cast(image, "float32")
    inside = erode_mask(mask, 0)[..., 0]  # (B, H, W) 0/1
    total, count = 0.0, 0.0
    for pairs in (_vertical_pairs, _horizontal_pairs):
        (image_a, image_b), (inside_a, inside_b) = pairs(image), pairs(inside)
        step = ops.mean(ops.abs(image_b - image_a), axis=-1)  # (B, H', W')
        crosses = ops.abs(inside_b - inside_a)  # 1 where the pair straddles the edge
        total = total + ops.sum(step * crosses, axis=(1, 2))
        count = count + ops.sum(crosses, axis=(1, 2))
    return total / ops.maximum(count, 1.0)


def _region_mean(per_pixel, region):
    """(B, H, W) values, (B, H, W) 0/1 region -> (B,) mean over each example's region (0 if empty)."""
    region = ops.cast(region, "float32")
    batch = ops.shape(per_pixel)[0]
    total = ops.sum(ops.reshape(per_pixel * region, (batch, -1)), axis=1)
    return total / ops.maximum(ops.sum(ops.reshape(region, (batch, -1)), axis=1), 1.0)


def _valid_ids(landcover):
    """(B, H, W) ids -> (ids with IGNORE set to 0 (int32), valid (B, H, W) float32)."""
    ids = ops.cast(landcover, "int32")
    return ops.maximum(ids, 0), ops.cast(ops.not_equal(ids, IGNORE), "float32")


def oasis_class_weights(landcover, num_classes):
    """OASIS class-balancing weights of a batch's label map, per pixel.

    Class ``k`` weighs ``N / (P * n_k)``, with ``n_k`` its pixel count in the batch, ``N`` the
    annotated pixels and ``P`` the number of classes present, so every present class contributes
    alike and the weights average to 1 over the annotated pixels; ``IGNORE`` pixels weigh 0.

    Args:
        landcover: (B, H, W) int class ids, ``IGNORE`` (-1) where unannotated.
        num_classes: Number of landcover classes K.

    Returns:
        (B, H, W) float32 weights.
    """
    ids, valid = _valid_ids(landcover)
    counts = ops.sum(ops.one_hot(ids, num_classes) * valid[..., None], axis=(0, 1, 2))  # (K,)
    present = ops.sum(ops.cast(counts > 0, "float32"))
    coefficients = ops.where(counts > 0, ops.sum(counts) / (ops.maximum(present, 1.0)
                                                           * ops.maximum(counts, 1.0)), 0.0)
    return ops.take(coefficients, ids) * valid


def oasis_loss(landcover, logits, *, real, region=None):
    """The OASIS (K+1)-class segmentation loss, per example.

    ``real=True``: each annotated pixel must be classified as its landcover class, weighted by
    :func:`oasis_class_weights` (the discriminator on real images, and the generator on its own
    images). ``real=False``: every pixel of ``region`` must be classified as the "fake" class K
    (the discriminator on generated images), unweighted.

    Args:
        landcover: (B, H, W) int class ids, ``IGNORE`` (-1) where unannotated.
        logits: (B, H, W, K + 1) discriminator logits.
        real: Which target (see above).
        region: (B, H, W) float, the generated pixels the fake target applies to; None: all.

    Returns:
        (B,) mean cross-entropy per pixel (over ``region`` for the fake target; 0 if it is empty).
    """
    logits = ops.cast(logits, "float32")
    fake_class = logits.shape[-1] - 1
    ids, _ = _valid_ids(landcover)
    if real:
        weights = oasis_class_weights(landcover, fake_class)
        per_pixel = keras.losses.sparse_categorical_crossentropy(ids, logits, from_logits=True)
        return _per_example_mean(per_pixel * weights)
    per_pixel = keras.losses.sparse_categorical_crossentropy(
        ops.full_like(ids, fake_class), logits, from_logits=True)  # (B, H, W)
    return _region_mean(per_pixel, ops.ones_like(per_pixel) if region is None else region)


def oasis_realness(logits):
    """(B, H, W, K + 1) OASIS logits -> (B, H, W, 1) probability of not being "fake" (a score in [0, 1])."""
    return 1.0 - ops.softmax(ops.cast(logits, "float32"), axis=-1)[..., -1:]


def feature_matching_loss(real_features, fake_features):
    """Discriminator feature matching (pix2pixHD, SPADE): L1 between intermediate activations.

    The real activations are constants (no gradient); each layer's mean absolute difference is
    averaged over the layers.

    Args:
        real_features: list of (B, h, w, C) discriminator activations on real images.
        fake_features: the same layers on generated images.

    Returns:
        (B,) loss per example.

    Raises:
        ValueError: the two lists differ in length or are empty.
    """
    if len(real_features) != len(fake_features) or not real_features:
        raise ValueError("`real_features` and `fake_features` must be lists of the same, non-zero "
                         f"length. Received: {len(real_features)} and {len(fake_features)}")
    terms = [_per_example_mean(ops.abs(ops.stop_gradient(ops.cast(real, "float32"))
                                       - ops.cast(fake, "float32")))
             for real, fake in zip(real_features, fake_features)]
    return ops.mean(ops.stack(terms, axis=0), axis=0)


class VGGFeatureLoss:
    """Perceptual loss: MSE between frozen VGG16 features of target and output.

    Images in [-1, 1] are mapped to [0, 255] and preprocessed the Caffe way (RGB -> BGR, ImageNet
    mean subtracted), as ``keras.applications.vgg16.preprocess_input`` expects.

    Args:
        weights: ``"imagenet"`` (default; raises :class:`lcgan.errors.WeightsUnavailableError`
            offline without the cached file, never falls back to random), a weights file path,
            or None (random weights, for tests); see :func:`lcgan.weights.resolve_pretrained`.
        layer: VGG16 layer whose (post-ReLU) output is compared; ``block3_conv3`` is relu3_3.

    Example:
        >>> loss = VGGFeatureLoss(weights=None)
        >>> loss(target, output).shape  # (B,)
    """

    def __init__(self, weights="imagenet", layer="block3_conv3"):
        self.weights_path = resolve_pretrained("vgg16", weights)
        vgg = keras.applications.VGG16(include_top=False, weights=self.weights_path,
                                       input_shape=(None, None, 3))
        names = [lay.name for lay in vgg.layers]
        if layer not in names:
            raise ValueError(f"`layer` must be a VGG16 layer, one of {names[1:]}. Received: {layer!r}")
        self.layer = layer
        self.extractor = keras.Model(vgg.input, vgg.get_layer(layer).output, name=f"vgg16_{layer}")
        self.extractor.trainable = False

    def features(self, images):
        """(B, H, W, 3) images in [-1, 1] -> (B, H/4, W/4, 256) features (for block3)."""
        pixels = (ops.cast(images, "float32") + 1.0) * 127.5  # (B, H, W, 3) in [0, 255]
        features = self.extractor(keras.applications.vgg16.preprocess_input(pixels), training=False)
        return ops.cast(features, "float32")

    def __call__(self, target, output):
        """Return the (B,) mean squared feature difference."""
        return _per_example_mean(ops.square(self.features(target) - self.features(output)))
