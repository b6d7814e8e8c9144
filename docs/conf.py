"""Sphinx configuration of the API reference (built by tests/test_docs.py, so it cannot rot)."""

import shutil
from pathlib import Path

import autorecs

# autosummary writes a page per module into generated/ and never removes one: start afresh, so a module that was
# removed leaves no page (and no import error) behind
shutil.rmtree(Path(__file__).parent / "generated", ignore_errors=True)

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
