"""``python -m archive_portal.cli``: the same as the ``archive`` command."""

from . import main

main()
