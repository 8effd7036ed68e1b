"""Sphinx configuration for the trio_binance documentation.

Pages are Markdown (MyST); the API reference comes from docstrings (autodoc, with
sphinxcontrib-trio marking coroutines and async context managers). The build needs no
network: intersphinx is deliberately not enabled. CI builds with ``-W --keep-going``, so
every warning fails the build.
"""

from __future__ import annotations

import trio_binance

project = "trio_binance"
author = "the trio_binance developers"
project_copyright = "the trio_binance developers"
release = trio_binance.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinxcontrib_trio",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# Markdown: `(label)=` targets and anchors for headings, so pages can link to sections.
myst_heading_anchors = 3

# Type hints go into the parameter descriptions, where they read like mypy's view of the API.
autodoc_typehints = "description"
autodoc_typehints_description_target = "all"
autodoc_typehints_format = "short"
autodoc_member_order = "bysource"
autodoc_class_signature = "mixed"
# sphinxcontrib-trio marks async context managers (``async with connect(...)``) through
# autodoc's class-based documenters, which Sphinx 9 keeps behind this switch.
autodoc_use_legacy_class_based = True

html_theme = "alabaster"
html_title = f"trio_binance {release}"
html_theme_options = {
    "description": "Trio-native client for the Binance Spot WebSocket API",
    "fixed_sidebar": True,
}
