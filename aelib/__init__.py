"""aelib: small helpers for the autoencoder and VAE notebooks.

Importing aelib applies the thread policy of :mod:`aelib.threads` (one CPU thread per kernel unless
``AELIB_THREADS`` says otherwise), so that notebooks running side by side do not slow each other down. Inside a kernel it also makes a
``NameError`` from cells run out of order say which cell to run first (:mod:`aelib.hints`).
"""
from .hints import install as _install_hints
from .threads import apply_thread_policy as _apply_thread_policy

_apply_thread_policy()
_install_hints()            # inside a kernel: a NameError names the cell that makes the missing name
