"""Small real servers for tests and the lab: a CA (``ca``), a static DNS server (``dns``) and an
HTTP/HTTPS site server (``site``). Each runs in a background thread from Python
(``start()``/``stop()``, or as a context manager) and in the foreground from
``python -m ashyq.servers.<name>``.
"""
