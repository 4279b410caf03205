"""The Django admin (staff only, at /admin/): find bins, see their counters, delete them."""

from django.contrib import admin

from .models import Bin


@admin.register(Bin)
class BinAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "name",
        "private",
        "owner",
        "request_count",
        "kept_count",
        "dropped_count",
        "refused_count",
        "last_activity_at",
        "expires_at",
    )
    list_filter = ("private",)
    search_fields = ("id", "name", "owner__username")
    readonly_fields = (
        "id",
        "created_at",
        "last_activity_at",
        "request_count",
        "kept_count",
        "dropped_count",
        "dropped_through",
        "refused_count",
        "forward_count",  # kept by the targets API (bins.forwarding_api)
    )
    ordering = ("-last_activity_at",)
    # Encrypted, and set only through the bin's page or API (bins.signing).
    exclude = ("signature_secret",)
