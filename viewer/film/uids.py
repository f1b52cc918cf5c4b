"""SOP Class UIDs of the Print Management Service Class (PS3.4 H, PS3.6 Annex A)."""

from __future__ import annotations

GRAYSCALE_META = "1.2.840.10008.5.1.1.9"   # Basic Grayscale Print Management Meta
COLOR_META = "1.2.840.10008.5.1.1.18"      # Basic Color Print Management Meta
FILM_SESSION = "1.2.840.10008.5.1.1.1"     # Basic Film Session
FILM_BOX = "1.2.840.10008.5.1.1.2"         # Basic Film Box
GRAYSCALE_IMAGE_BOX = "1.2.840.10008.5.1.1.4"
COLOR_IMAGE_BOX = "1.2.840.10008.5.1.1.4.1"
ANNOTATION_BOX = "1.2.840.10008.5.1.1.15"  # Basic Annotation Box
PRINT_JOB = "1.2.840.10008.5.1.1.14"
PRINTER = "1.2.840.10008.5.1.1.16"
PRINTER_INSTANCE = "1.2.840.10008.5.1.1.17"  # the Printer's well-known SOP Instance
PRESENTATION_LUT = "1.2.840.10008.5.1.1.23"
