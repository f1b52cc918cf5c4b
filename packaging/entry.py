"""Entry script of the frozen bundle: the same ``main`` as the ``dicom-viewer`` console script."""

import sys

from viewer.cli import main

if __name__ == "__main__":
    sys.exit(main())
