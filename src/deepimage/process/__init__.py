"""Classical image operations: plain functions, ndarray in, ndarray out.

Images are uint8 (0-255) or float32 (0-1), grayscale HxW or RGB HxWx3; the dtype and
grayscale-ness are kept. Built on OpenCV (BGR conversions happen inside where OpenCV
needs them), with scikit-image for SSIM. Imports no torch.

Example:
    >>> import numpy as np
    >>> from deepimage import process
    >>> process.gaussian_blur(process.resize(np.zeros((64, 96, 3), np.uint8), width=48)).shape
    (32, 48, 3)
"""

from __future__ import annotations

from deepimage.process.color import (
    adjust_brightness_contrast,
    adjust_gamma,
    auto_contrast,
    clahe,
    convert_color,
    equalize_hist,
    grayscale,
    white_balance,
)
from deepimage.process.compress import CompressResult, compress, decode, encode
from deepimage.process.denoise import denoise_nl_means
from deepimage.process.dtypes import to_float32, to_uint8
from deepimage.process.edges import canny, canny_thresholds, laplacian, scharr, sobel
from deepimage.process.filters import (
    bilateral_filter,
    box_blur,
    gaussian_blur,
    median_blur,
    sharpen,
)
from deepimage.process.geometry import (
    center_crop,
    crop,
    flip,
    pad,
    resize,
    rotate,
    translate,
    warp_affine,
    warp_perspective,
)
from deepimage.process.metrics import mse, psnr, ssim
from deepimage.process.morphology import (
    closing,
    dilate,
    erode,
    morph_gradient,
    opening,
    structuring_element,
)
from deepimage.process.regions import connected_components, draw_contours, find_contours
from deepimage.process.registry import OPERATIONS, Operation, Param, get_operation, list_operations
from deepimage.process.segment import KMeansResult, kmeans_cluster, kmeans_quantize, watershed
from deepimage.process.threshold import adaptive_threshold, otsu_threshold, threshold

__all__ = [
    "OPERATIONS",
    "CompressResult",
    "KMeansResult",
    "Operation",
    "Param",
    "adaptive_threshold",
    "adjust_brightness_contrast",
    "adjust_gamma",
    "auto_contrast",
    "bilateral_filter",
    "box_blur",
    "canny",
    "canny_thresholds",
    "center_crop",
    "clahe",
    "closing",
    "compress",
    "connected_components",
    "convert_color",
    "crop",
    "decode",
    "denoise_nl_means",
    "dilate",
    "draw_contours",
    "encode",
    "equalize_hist",
    "erode",
    "find_contours",
    "flip",
    "gaussian_blur",
    "get_operation",
    "grayscale",
    "kmeans_cluster",
    "kmeans_quantize",
    "laplacian",
    "list_operations",
    "median_blur",
    "morph_gradient",
    "mse",
    "opening",
    "otsu_threshold",
    "pad",
    "psnr",
    "resize",
    "rotate",
    "scharr",
    "sharpen",
    "sobel",
    "ssim",
    "structuring_element",
    "threshold",
    "to_float32",
    "to_uint8",
    "translate",
    "warp_affine",
    "warp_perspective",
    "watershed",
    "white_balance",
]
