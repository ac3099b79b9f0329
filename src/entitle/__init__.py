"""entitle: Microsoft server licensing positions, computed from an estate and a catalog.

Layers, lowest first (a layer imports only the ones before it):
``source`` → ``catalog`` → ``estate`` → ``rules`` → ``optimize`` → ``position`` → ``cli``.
"""

__version__ = "0.1.0"
