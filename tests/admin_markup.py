"""Comparing the admin pages the portal writes out in Python with what Django's admin
templates render from the same context (shell, index, change lists, change view)."""

import re


def normalized(html) -> str:
    """Markup without the templates' indentation; CSRF tokens (masked anew on each reading)
    blanked."""
    html = re.sub(
        r'name="csrfmiddlewaretoken" value="[^"]*"', 'name="csrfmiddlewaretoken"', str(html)
    )
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


def assert_as_the_template(response, page_class) -> str:
    """The page written out (a ``page_class`` response) is what its stock template renders
    from the same context, byte for byte but white space; returns the page."""
    assert response.status_code == 200
    page = response.template_name
    assert isinstance(page, page_class)
    ours = response.content.decode()
    stock = page.stock_template().render(response.context_data, response.wsgi_request)
    assert normalized(ours) == normalized(stock)
    return ours
