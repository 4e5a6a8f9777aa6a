"""The steps of ingesting one package, in the order ``ingest.pipeline`` runs them.

Each step is a module with one job; they share an ``IngestRun`` (``run``): the
package, its database record, the store, and what this run learned that is not
in the database yet.

1. ``package_record``  find or create the ``Package`` row (or record a refused package);
2. ``store_originals`` hash and store every payload file, decode edXML messages;
3. ``inspect``         look once at each stored original (PDF signatures);
4. ``register``        manifest rows and loose files become ``Document``s with their files
                       (``documents``: a row's fields; ``edxml_documents``: a message's);
5. ``extraction``      extract the pending files here, or follow ``archive worker``s;
6. ``outcomes``        the outcome of every row and file, and the package's counts.

Indexing is ``ingest.indexing`` and the report ``ingest.report`` (both also used
outside the pipeline).
"""
