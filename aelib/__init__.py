"""aelib: small helpers for the autoencoder and VAE notebooks.

Importing aelib applies the thread policy of :mod:`aelib.threads` (while a model trains alone, every core that
makes it faster; one thread as soon as another notebook or program competes; ``AELIB_THREADS`` overrides it), so
that a notebook alone is fast and notebooks side by side do not slow each other down. Inside a kernel it also makes a
``NameError`` from cells run out of order say which cell to run first (:mod:`aelib.hints`).
"""
from .hints import install as _install_hints
from .threads import apply_thread_policy as _apply_thread_policy

_apply_thread_policy()
_install_hints()            # inside a kernel: a NameError names the cell that makes the missing name
