"""Bot extensions, one module (or package) per feature, loaded in ``setup_hook``."""
