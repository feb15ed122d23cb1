"""Subcommands of ``icp-notify``: one module each, with ``add_arguments`` and ``run``."""
