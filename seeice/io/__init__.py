"""Reading and writing: rasters, input images (valid mask, CRS units, pixel scale, checks against
the model), vector fronts, atomic writes, tile folders and the model store."""
