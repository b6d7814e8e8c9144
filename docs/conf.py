"""Sphinx configuration of the API reference (built by tests/test_docs.py, so it cannot rot)."""

import autorecs

project = "autorecs"
release = autorecs.__version__
extensions = ["sphinx.ext.autodoc", "sphinx.ext.autosummary", "sphinx.ext.napoleon", "sphinx.ext.viewcode"]
autosummary_generate = True
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": True, "ignore-module-all": True}
autodoc_typehints = "description"
autodoc_member_order = "bysource"
exclude_patterns = ["_build", "*.md"]
html_theme = "alabaster"
# ambiguous short names (e.g. 'type') in type hints; unresolvable references are still reported
suppress_warnings = ["autosummary.import_cycle", "ref.python"]
