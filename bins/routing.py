from django.urls import re_path

from .consumers import BinConsumer

websocket_urlpatterns = [
    re_path(r"^ws/bins/(?P<bin_id>[a-z2-7]{16})/$", BinConsumer.as_asgi()),
]
