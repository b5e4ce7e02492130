"""Phase one: training tiles, augmentation, thinning, tensors, the tile CNN, its training and precision."""
