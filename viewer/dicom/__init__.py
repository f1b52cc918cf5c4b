"""dicom: no Qt here (DESIGN.md house rule 1)."""
