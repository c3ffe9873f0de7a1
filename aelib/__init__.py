"""aelib: small helpers for the autoencoder and VAE notebooks.

Importing aelib applies the thread policy of :mod:`aelib.threads` (one CPU thread per kernel unless
``AELIB_THREADS`` says otherwise), so that notebooks running side by side do not slow each other down.
"""
from .threads import apply_thread_policy as _apply_thread_policy

_apply_thread_policy()
