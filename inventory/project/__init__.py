"""Django project configuration for infrastrand (settings, URLs, WSGI)."""
