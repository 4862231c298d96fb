"""The forms engine: each measure's application form as JSON Schema 2020-12 plus layout hints.

Pure: it reads files and returns values; the web layer renders specs with the Jinja2 macros in
`portal/web/templates/macros/forms.html`.
"""

from portal.forms.errors import FieldError, FormFileError, errors_by_path
from portal.forms.lint import lint_forms
from portal.forms.load import load_form, load_forms
from portal.forms.model import AttachmentSlot, FieldSpec, FormSpec, Section, Text

__all__ = [
    "AttachmentSlot",
    "FieldError",
    "FieldSpec",
    "FormFileError",
    "FormSpec",
    "Section",
    "Text",
    "errors_by_path",
    "lint_forms",
    "load_form",
    "load_forms",
]
