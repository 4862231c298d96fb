"""The use cases: the only layer that combines the engines with the database.

Each public function is one transaction that writes its change, version + 1 and its audit
row together, or nothing. Build a `context.Portal` once at the edge and pass it in; failures
are the exceptions of `errors`, which the web and CLI map to statuses and messages.
"""
