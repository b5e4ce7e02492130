"""Reading and writing: rasters, vector fronts, atomic writes, tile folders and the model store."""
