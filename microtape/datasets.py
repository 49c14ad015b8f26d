"""Small generated datasets for examples and lessons: no downloads, reproducible by seed."""

from __future__ import annotations

import math
import random
from typing import NamedTuple

__all__ = ["Moons", "make_moons"]


class Moons(NamedTuple):
    """Points in the plane and their classes (0.0 or 1.0), in the same order."""

    points: list[tuple[float, float]]
    labels: list[float]


def make_moons(samples: int, noise: float = 0.1, seed: int = 0) -> Moons:
    """Two interleaving half-moons with Gaussian noise, centred on the origin.

    Class 0 is the upper moon, class 1 the lower one; they alternate in the lists.
    No straight line separates them, so a model needs a hidden layer.

    Args:
        samples: how many points.
        noise: standard deviation of the Gaussian noise added to each coordinate.
        seed: the seed of the ``random.Random`` that draws them.

    Example:
        >>> from microtape.datasets import make_moons
        >>> points, labels = make_moons(4, noise=0.0)
        >>> labels
        [0.0, 1.0, 0.0, 1.0]
        >>> make_moons(4, seed=1) == make_moons(4, seed=1)
        True
    """
    rng = random.Random(seed)
    points: list[tuple[float, float]] = []
    labels: list[float] = []
    for i in range(samples):
        label = i % 2
        t = rng.uniform(0.0, math.pi)
        if label == 0:
            x, y = math.cos(t), math.sin(t)
        else:
            x, y = 1.0 - math.cos(t), 0.5 - math.sin(t)
        # Centred on the origin: tanh units learn fastest on inputs around 0.
        points.append((x - 0.5 + rng.gauss(0.0, noise), y - 0.25 + rng.gauss(0.0, noise)))
        labels.append(float(label))
    return Moons(points, labels)
