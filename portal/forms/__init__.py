"""The forms engine: each measure's application form as JSON Schema 2020-12 plus layout hints.

`load_form` reads one form file into a `FormSpec` (`load_forms` a whole `forms/` directory);
`FormSpec.validate` coerces posted answers to their declared types and returns at most one
`FieldError` per field, in the applicant's language.

Pure: it reads files and returns values; the web layer renders specs with the Jinja2 macros in
`portal/web/templates/macros/forms.html`.
"""

from portal.forms.errors import FieldError, FormFileError
from portal.forms.load import load_form, load_forms
from portal.forms.model import FieldSpec, FormSpec

__all__ = [
    "FieldError",
    "FieldSpec",
    "FormFileError",
    "FormSpec",
    "load_form",
    "load_forms",
]
