"""A minimal gebench solver plugin: damped tatonnement in log prices."""
from .solver import DampedTatonnement

__all__ = ["DampedTatonnement"]
