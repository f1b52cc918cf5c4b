"""``python -m viewer`` runs the same entry point as the ``dicom-viewer`` script."""

import sys

from viewer.cli import main

if __name__ == "__main__":
    sys.exit(main())
