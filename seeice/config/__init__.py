"""Script configuration: user-input headers, YAML and command-line resolution, run.json, the script runner."""
