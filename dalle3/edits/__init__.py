"""Editing: an edit's inputs (references, a mask or markup), reading references, and finding
them again by content hash."""
