"""Full-text search over a data home's records and the text extracted from their originals.

:mod:`.normalise` (terms and cross-script variants), :mod:`.query` (the query language),
:mod:`.index` (the index kept with the catalog) and :mod:`.service` (searching, with
filters, ranking and highlighting, within what the actor may see). Nothing is imported
here: the catalog's projection imports :mod:`.index` while the catalog package loads.
"""
