"""Settings for Tanya Berita: one object, read from the environment (prefix ``TANYA_``) and ``.env``."""

from config.settings import Settings, get_settings

__all__ = ["Settings", "get_settings"]
