"""Phase two: tile classification of one image, window sampling, patch models, their training and inference."""
