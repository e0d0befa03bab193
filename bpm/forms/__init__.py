"""Forms: versioned documents, validated on the server and rendered in the inbox.

A form is ``{id, title, schema, rules?, ui?}``. ``schema`` is JSON Schema
2020-12; ``rules`` add what a schema cannot say: what the task's outcome
requires (``{"if": {"outcome": "reject"}, "require": ["comment"]}``), and
how fields compare (``{"field": "lastDay", "atLeast": {"field": "firstDay"},
"message": "..."}``, or ``"atLeast": "today"``; also ``atMost``, ``above``,
``below``), each refused at its field with the message a person reads. ``ui`` says how
it shows: ``order``, ``widgets`` (textarea, radio, current-user…), ``readOnly``
and ``money`` (``{"amount": "currency"}``: the two fields as one sum).

Identity fields are the server's to fill: a field whose widget is
``current-user`` (``ui.widgets``) or whose schema says ``"x-bpm-actor": true``
holds the acting user, whatever the caller sent, so "requester" cannot be
spoofed. A field marked ``"x-bpm-requester": true`` names a requester the
caller chooses (an assistant filing for her boss); four-eyes bars both.
"""

from bpm.forms.documents import FormsBroken, form_problems, parse_form
from bpm.forms.form import CURRENT_USER_WIDGET, Form
from bpm.forms.registry import ROOT_FIELD, FormRegistry, Forms, PinnedForms, compare_rule, read_seed

__all__ = ["CURRENT_USER_WIDGET", "ROOT_FIELD", "Form", "FormRegistry", "Forms", "FormsBroken", "PinnedForms",
           "compare_rule", "form_problems", "parse_form", "read_seed"]
