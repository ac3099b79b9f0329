"""The JSON API's routers, mounted under ``/api`` by :func:`entitle.web.app.create_app`."""
