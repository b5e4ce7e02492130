"""CSC runs: one image, a folder of images, the built-in demo and the 4-part figure."""
