from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SearchDocument(models.Model):
    """One searchable thing (a topic, a post, ...), as its owner last indexed it.

    Written only by `search.index`. The full-text index itself lives beside this
    table and is kept by the database, so every ORM write (including a cascade
    from a deleted branch) keeps it in step; see migrations/0002_fulltext.py:
    - SQLite: the FTS5 table `search_fts` over segmented_title/segmented_body, an
      external-content table filled by triggers on this table;
    - PostgreSQL: a generated `search_vector tsvector` column (not declared here, so
      the ORM never writes it) with a GIN index.
    """

    doc_type = models.CharField(_("document type"), max_length=32)
    doc_id = models.BigIntegerField(_("document id"))
    # Who may read it: members of this branch, and anyone when public. Null for a
    # document that belongs to no branch (then only `public` can make it visible).
    branch = models.ForeignKey(
        "accounts.Branch",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("branch"),
    )
    public = models.BooleanField(_("public"), default=False)
    # The original text, for results and highlighted snippets.
    title = models.TextField(_("title"), blank=True)
    body = models.TextField(_("body"), blank=True)
    # search.segmentation.segment() of title and body: what the index is built from.
    # Two columns so a hit in the title can weigh more than one in the body.
    segmented_title = models.TextField(blank=True)
    segmented_body = models.TextField(blank=True)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("search document")
        verbose_name_plural = _("search documents")
        constraints = [
            models.UniqueConstraint(fields=["doc_type", "doc_id"], name="search_document_unique_target"),
        ]

    def __str__(self) -> str:
        return f"{self.doc_type}:{self.doc_id}"
