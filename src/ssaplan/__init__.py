"""ssaplan: planning, allocation, monitoring and evaluation of security sector assistance."""

__version__ = "0.1.0"
