"""ashyq: an open observatory of internet censorship, built first for Kazakhstan."""

__version__ = "0.1.0"
SOFTWARE_NAME = "ashyq"
