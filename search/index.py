"""Writes to the search index. Call these from an action, inside its transaction,
so a document is searchable exactly when the write that made it commits."""

from __future__ import annotations

from django.utils import timezone

from .models import SearchDocument
from .segmentation import segment

_DOC_TYPE_MAX = SearchDocument._meta.get_field("doc_type").max_length or 32
_UPDATED_FIELDS = ["branch", "public", "title", "body", "segmented_title", "segmented_body", "updated_at"]


def index_document(doc_type: str, doc_id: int, *, branch_id: int | None, public: bool, title: str, body: str) -> None:
    """Add or replace the document (doc_type, doc_id) with this text and access.

    Pass plain text (e.g. a post's Markdown source, or its rendered text with the tags
    stripped): results show it HTML-escaped.
    """
    if not doc_type or len(doc_type) > _DOC_TYPE_MAX:
        raise ValueError(f"doc_type must be 1 to {_DOC_TYPE_MAX} characters: {doc_type!r}")
    document = SearchDocument(
        doc_type=doc_type,
        doc_id=doc_id,
        branch_id=branch_id,
        public=public,
        title=title,
        body=body,
        segmented_title=segment(title),
        segmented_body=segment(body),
        updated_at=timezone.now(),
    )
    # One INSERT ... ON CONFLICT DO UPDATE (both databases): no read-then-write race
    # between two actions indexing the same document, and fewer queries than
    # update_or_create. The index follows through the triggers / generated column.
    SearchDocument.objects.bulk_create(
        [document],
        update_conflicts=True,
        unique_fields=["doc_type", "doc_id"],
        update_fields=_UPDATED_FIELDS,
    )


def remove_document(doc_type: str, doc_id: int) -> bool:
    """Take the document out of the index; False if it was not there."""
    deleted, _per_model = SearchDocument.objects.filter(doc_type=doc_type, doc_id=doc_id).delete()
    return deleted > 0
