"""CSV/XLSX/JSON import and export of clients and orders, shared by the admin and the management commands.

formats: reading and writing each file type; widgets: one cell; bulk: validation and bulk writes of a
whole file; resources: the client and order columns; exports: streaming exports; results: what an import
did, in words; commands: the base classes of the import_*/export_* commands.
"""
