from django.urls import re_path

from .consumers import BinConsumer
from .models import BIN_NAME_PATTERN

websocket_urlpatterns = [
    re_path(rf"^ws/bins/(?P<bin_id>{BIN_NAME_PATTERN})/$", BinConsumer.as_asgi()),
]
