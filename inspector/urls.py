from django.contrib import admin
from django.contrib.auth.views import LoginView
from django.templatetags.static import static
from django.urls import path, re_path
from django.views.generic import RedirectView

from bins import api, forwarding_api, ops, pages, signature_views
from bins.models import BIN_NAME_PATTERN

# Random ids ([a-z2-7]{16}) match the pattern of chosen names too.
BIN = rf"(?P<bin_id>{BIN_NAME_PATTERN})"

urlpatterns = [
    path("", pages.home, name="home"),
    path("admin/", admin.site.urls),
    # Pages without an icon of their own (the admin's) make browsers ask for this.
    path("favicon.ico", RedirectView.as_view(url=static("img/favicon.svg"), permanent=True)),
    path("healthz", ops.healthz),
    path("readyz", ops.readyz),
    path("metrics", ops.metrics_view),
    re_path(rf"^bins/{BIN}/$", pages.inspect, name="inspect"),
    re_path(r"^share/(?P<token>[A-Za-z0-9_-]{1,100})$", pages.share, name="share"),
    path("login/", LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", pages.logout, name="logout"),
    re_path(r"^api/bins/?$", api.bins_collection),
    re_path(rf"^api/bins/{BIN}/?$", api.bin_resource),
    re_path(rf"^api/bins/{BIN}/requests/?$", api.requests_collection),
    re_path(rf"^api/bins/{BIN}/requests/wait/?$", api.requests_wait),
    re_path(rf"^api/bins/{BIN}/requests/(?P<request_id>[0-9]+)/?$", api.request_resource),
    re_path(rf"^api/bins/{BIN}/requests/(?P<request_id>[0-9]+)/body/?$", api.request_body),
    re_path(rf"^api/bins/{BIN}/export/?$", api.bin_export),
    re_path(rf"^api/bins/{BIN}/timeline/?$", api.bin_timeline),
    re_path(rf"^api/bins/{BIN}/import/?$", api.bin_import),
    re_path(rf"^api/bins/{BIN}/requests/(?P<request_id>[0-9]+)/export/?$", api.request_export),
    re_path(
        rf"^api/bins/{BIN}/requests/(?P<request_id>[0-9]+)/diff/(?P<other_id>[0-9]+)/?$",
        api.request_diff,
    ),
    re_path(rf"^api/bins/{BIN}/presets/?$", api.bin_presets),
    re_path(rf"^api/bins/{BIN}/signature/test/?$", signature_views.signature_test),
    re_path(rf"^api/bins/{BIN}/tokens/?$", api.tokens_collection),
    re_path(rf"^api/bins/{BIN}/tokens/(?P<token_id>[0-9]+)/?$", api.token_resource),
    re_path(
        rf"^api/bins/{BIN}/requests/(?P<request_id>[0-9]+)/replays/?$",
        forwarding_api.replays_collection,
    ),
    re_path(
        rf"^api/bins/{BIN}/requests/(?P<request_id>[0-9]+)/replays/(?P<replay_id>[0-9]+)/?$",
        forwarding_api.replay_resource,
    ),
    re_path(
        rf"^api/bins/{BIN}/requests/(?P<request_id>[0-9]+)/deliveries/?$",
        forwarding_api.deliveries_collection,
    ),
    re_path(
        rf"^api/bins/{BIN}/requests/(?P<request_id>[0-9]+)/deliveries/(?P<delivery_id>[0-9]+)/retry/?$",
        forwarding_api.delivery_retry,
    ),
    re_path(rf"^api/bins/{BIN}/targets/?$", forwarding_api.targets_collection),
    re_path(rf"^api/bins/{BIN}/targets/(?P<target_id>[0-9]+)/?$", forwarding_api.target_resource),
    re_path(r"^api/", api.not_found),
]
