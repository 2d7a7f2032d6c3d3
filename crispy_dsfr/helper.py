from crispy_forms.helper import FormHelper
from crispy_forms.layout import Layout


def dsfr_helper(*layout, action="", form_id=None, form_class="", **attrs) -> FormHelper:
    """A POST form helper for the ``crispy_dsfr`` pack; ``layout`` as crispy's ``Layout``."""
    helper = FormHelper()
    helper.form_method = "post"
    helper.layout = Layout(*layout)
    if action:
        helper.form_action = action
    if form_id:
        helper.form_id = form_id
    if form_class:
        helper.form_class = form_class
    helper.attrs = {key.replace("_", "-"): value for key, value in attrs.items()}
    return helper
