"""List data: load and validate the list files, version them, diff and date them."""
