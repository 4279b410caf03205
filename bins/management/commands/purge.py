from django.core.management.base import BaseCommand

from bins.lifecycle import purge_expired


class Command(BaseCommand):
    help = (
        "Delete expired bins and everything they hold, and expired sessions "
        "(for cron; the server also does it)."
    )

    def handle(self, *args, **options):
        return f"Purged {purge_expired()} expired bins."
