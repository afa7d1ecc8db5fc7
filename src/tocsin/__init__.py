"""tocsin: self-hostable on-call alerting.

The package is split by role (see docs/architecture.md): ``domain`` holds pure rules,
``actions`` is the only code that changes state, ``db`` owns tables and migrations, and
``api``, ``web`` and ``cli`` are edges that own transactions and call actions.
"""

__version__ = "0.1.0"
