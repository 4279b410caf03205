from django.urls import path, re_path

from bins import api, pages

BIN = r"(?P<bin_id>[a-z2-7]{16})"

urlpatterns = [
    path("", pages.home, name="home"),
    re_path(rf"^bins/{BIN}/$", pages.inspect, name="inspect"),
    re_path(r"^api/bins/?$", api.bins_collection),
    re_path(rf"^api/bins/{BIN}/?$", api.bin_resource),
    re_path(rf"^api/bins/{BIN}/requests/?$", api.requests_collection),
    re_path(rf"^api/bins/{BIN}/requests/wait/?$", api.requests_wait),
    re_path(rf"^api/bins/{BIN}/requests/(?P<request_id>[0-9]+)/?$", api.request_resource),
    re_path(rf"^api/bins/{BIN}/requests/(?P<request_id>[0-9]+)/body/?$", api.request_body),
    re_path(r"^api/", api.not_found),
]
