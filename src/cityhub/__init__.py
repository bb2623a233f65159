"""cityhub: the Open Smart City Hub."""

__version__ = "0.1.0"
