"""Geometry at the edge: geodesic distances and locality, turned into plain numbers for the model."""

from __future__ import annotations

import numpy as np
from pyproj import Geod

_WGS84 = Geod(ellps="WGS84")


def geodesic_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Geodesic distance on the WGS84 ellipsoid, in km, element-wise.

    Parameters
    ----------
    lat1, lon1, lat2, lon2
        Arrays (or scalars) of degrees north and east.

    Examples
    --------
    >>> round(float(geodesic_km(0, 0, 0, 1)), 3)  # one degree of longitude on the equator
    111.319
    """
    lat1, lon1, lat2, lon2 = (np.asarray(a, dtype=float) for a in (lat1, lon1, lat2, lon2))
    if lat1.size == 0:
        return np.zeros(0)
    _, _, metres = _WGS84.inv(lon1, lat1, lon2, lat2)
    return np.asarray(metres, dtype=float) / 1000.0
