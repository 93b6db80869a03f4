"""Full-text search: a generic index of documents (topics, posts, ...) that works on Chinese.

Writers call `search.index` inside their own transaction; readers call `search.selectors.search`.
"""
