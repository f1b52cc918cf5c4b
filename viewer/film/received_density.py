"""From print P-values to optical density to PNG gray levels (the virtual printer's "film").

Pure numpy functions with explicit parameters.

* Presentation LUT (PS3.3 C.11.6): ``IDENTITY`` output is P-values, perceptually linear
  (PS3.14 Grayscale Standard Display Function, GSDF); ``LIN OD`` input is linear in optical
  density, the lowest input printed at Min Density and the highest at Max Density; a LUT maps
  each stored value to a P-value.
* Hardcopy (PS3.14 section 7.2 / PS3.3 C.13.3): the luminance of a film area of density D is
  ``L = La + L0 * 10**-D`` with L0 the Illumination (2010,015E, cd/m2, default 2000) and La
  the Reflected Ambient Light (2010,0160, default 10). P-values are spread linearly in GSDF
  JND index between the luminances of Max Density and Min Density.
* The PNG is perceptually linear (:func:`density_to_gray`): the printer's darkest density
  is 0, its clearest 255, and a film with a narrower Min/Max Density range looks it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import cast

import numpy as np
from numpy.typing import NDArray

# PS3.14 Table 7-1: coefficients of L(j), log10 luminance as a rational function of ln(j).
_A, _B, _C, _D, _E = -1.3011877, -2.5840191e-2, 8.0242636e-2, -1.0320229e-1, 1.3646699e-1
_F, _G, _H, _K, _M = 2.8745620e-2, -2.5468404e-2, -3.1978977e-3, 1.2992634e-4, 1.3635334e-3
# PS3.14 equation 7-2: j(L), JND index as a polynomial of log10 L.
_J = (71.498068, 94.593053, 41.912053, 9.8247004, 0.28175407, -1.1878455, -0.18014349,
      0.14710899, -0.017046845)

DEFAULT_ILLUMINATION = 2000.0  # cd/m2, PS3.3 C.13.3 default for a light box
DEFAULT_REFLECTED_AMBIENT = 10.0  # cd/m2


def gsdf_luminance(j: NDArray[np.floating]) -> NDArray[np.floating]:
    """Luminance (cd/m2) of JND index ``j`` (1..1023), PS3.14 equation 7-1."""
    x = np.log(np.asarray(j, dtype=np.float64))
    num = _A + _C * x + _E * x**2 + _G * x**3 + _M * x**4
    den = 1 + _B * x + _D * x**2 + _F * x**3 + _H * x**4 + _K * x**5
    return 10 ** (num / den)


def gsdf_jnd(luminance: NDArray[np.floating] | float) -> NDArray[np.floating]:
    """JND index of a luminance (cd/m2), PS3.14 equation 7-2."""
    lg = np.log10(np.asarray(luminance, dtype=np.float64))
    return cast("NDArray[np.floating]", sum(c * lg**i for i, c in enumerate(_J)))  # never the empty sum's 0


def pvalues_to_density(p: NDArray[np.floating], min_density: float, max_density: float,
                       illumination: float = DEFAULT_ILLUMINATION,
                       ambient: float = DEFAULT_REFLECTED_AMBIENT) -> NDArray[np.floating]:
    """Optical density (OD) of P-values ``p`` in [0, 1] through the GSDF (PS3.14 7.2).

    ``p = 0`` prints at ``max_density`` (darkest), ``p = 1`` at ``min_density``.
    """
    l_dark = ambient + illumination * 10.0 ** -max_density
    l_bright = ambient + illumination * 10.0 ** -min_density
    j_dark, j_bright = gsdf_jnd(l_dark), gsdf_jnd(l_bright)
    lum = gsdf_luminance(np.clip(j_dark + np.clip(p, 0, 1) * (j_bright - j_dark), 1, 1023))
    density: NDArray[np.floating] = -np.log10(np.maximum(lum - ambient, 1e-12) / illumination)
    return density


def linear_od_to_density(p: NDArray[np.floating], min_density: float, max_density: float) -> NDArray[np.floating]:
    """LIN OD (PS3.3 C.11.6.1.2): the input *is* optical density, linear from Min to Max Density.

    So the lowest input prints at Min Density (clear) and the highest at Max Density (dark),
    as DCMTK's dcmprscu converts LIN OD jobs for IDENTITY printers.
    """
    density: NDArray[np.floating] = min_density + np.clip(p, 0, 1) * (max_density - min_density)
    return density


def density_to_gray(density: NDArray[np.floating] | float, printer_min: float, printer_max: float,
                    illumination: float = DEFAULT_ILLUMINATION,
                    ambient: float = DEFAULT_REFLECTED_AMBIENT) -> NDArray[np.floating]:
    """PNG gray (0..255, float) of a density, perceptually linear like the P-value space.

    The film luminance ``La + L0 * 10**-D`` is turned into its GSDF JND index and scaled so
    the printer's Max Density is 0 and its Min Density 255. A screen's 8-bit sRGB scale is
    close to perceptually uniform, so IDENTITY P-values over the printer's full range come
    out as ``255 * p``, and LIN OD, narrower Min/Max Density ranges or another light box
    show as they would on film.
    """
    def jnd(d: NDArray[np.floating] | float) -> NDArray[np.floating]:
        return gsdf_jnd(ambient + illumination * 10.0 ** -np.asarray(d, dtype=np.float64))

    j_dark, j_bright = jnd(printer_max), jnd(printer_min)
    span = max(float(j_bright - j_dark), 1e-6)
    return np.clip(255.0 * (jnd(density) - j_dark) / span, 0, 255)


def named_density(value: object, min_density: float, max_density: float) -> float:
    """Border/Empty Image Density (2010,0100/0110): BLACK, WHITE or hundredths of OD (PS3.3 C.13.3)."""
    text = str(value if value is not None else "BLACK").strip().upper()
    if text == "WHITE":
        return min_density
    if text == "BLACK" or not text:
        return max_density
    try:
        return float(text) / 100.0
    except ValueError:
        return max_density


LUT_SIZE = 4096  # P-values are quantised to 12 bits before the table: < 0.1 gray level error


@lru_cache(maxsize=64)
def pvalue_gray_lut(linear_od: bool, min_density: float, max_density: float, illumination: float, ambient: float,
                    printer_min: float, printer_max: float) -> NDArray[np.floating]:
    """PNG gray for P-values ``i / (LUT_SIZE - 1)``: the whole density chain as one table.

    ``linear_od`` selects LIN OD instead of the GSDF mapping. Cached: a film box's boxes
    share their parameters.
    """
    p = np.linspace(0.0, 1.0, LUT_SIZE)
    if linear_od:
        density = linear_od_to_density(p, min_density, max_density)
    else:
        density = pvalues_to_density(p, min_density, max_density, illumination, ambient)
    lut = density_to_gray(density, printer_min, printer_max, illumination, ambient).astype(np.float32)
    lut.flags.writeable = False
    return lut


def pvalues_to_gray(p: NDArray[np.floating], lut: NDArray[np.floating]) -> NDArray[np.floating]:
    """Look P-values in [0, 1] up in a :func:`pvalue_gray_lut` table."""
    index = np.rint(np.clip(p, 0.0, 1.0) * (len(lut) - 1)).astype(np.intp)
    gray: NDArray[np.floating] = lut[index]
    return gray
