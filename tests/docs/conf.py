# Sphinx configuration of the collection's documentation site (make docs; tests/docs/build.sh).
# Started from `antsibull-docs sphinx-init`; the references to Ansible's own documentation resolve
# through a small local inventory (ansible_devel.inv, written by guides.py), so the build needs no
# network and every reference is checked.
import os

project = "mailops.mailhost"
copyright = "mailops.mailhost contributors"
title = "mailops.mailhost"
html_short_title = "mailops.mailhost"
extensions = ["sphinx.ext.intersphinx", "sphinx_antsibull_ext"]
pygments_style = "ansible"
highlight_language = "YAML+Jinja"
html_theme = "sphinx_ansible_theme"
html_show_sphinx = False
display_version = False
html_use_smartypants = True
html_use_modindex = False
html_use_index = False
html_copy_source = False
intersphinx_mapping = {
    "ansible_devel": ("https://docs.ansible.com/projects/ansible/devel/", os.environ["MAILHOST_DOCS_INVENTORY"]),
}
default_role = "any"
nitpicky = True


def _home_link(app, pagename, templatename, context, doctree):
    """The theme's home link is a fixed URL ('/'); on a site under a path (GitHub Pages) it must be
    this site's own front page, relative to each page."""
    context["theme_documentation_home_url"] = context["pathto"]("index")


def setup(app):
    app.connect("html-page-context", _home_link)
