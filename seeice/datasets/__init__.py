"""Generated datasets: synthetic Sentinel-2 fjord scenes with their labels."""
