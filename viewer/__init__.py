"""dicom-viewer: a desktop DICOM viewer and DICOM print client."""

__version__ = "0.1.0"
