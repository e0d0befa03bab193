"""Hostile text for the XSS tests: markup, attribute breakouts, URLs and template syntax."""

CORPUS = [  # every one must come back as the text it is
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "'><svg onload=alert(3)>",
    "</textarea><script>alert(4)</script>",
    "javascript:alert(5)",
    "{{ 7*7 }}{% raw %}",
]


UNESCAPED = (r"<script>alert", r"<img src=x onerror", r"<svg onload", r'href="javascript:')  # what must never appear
