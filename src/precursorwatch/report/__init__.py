"""Reports: CSV, JSON, XLSX, HTML and terminal tables, and the explanation of one line."""
