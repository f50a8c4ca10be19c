"""``python -m bench`` (``make bench``): how much a real /v1 request costs next to a bare
Starlette one served by the same process, measured by a small in-tree load generator so the
benchmark needs nothing but Python and the project's venv."""
