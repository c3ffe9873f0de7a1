"""aelib: small helpers for the autoencoder and VAE notebooks."""
