"""The e-ID provider interface and the development provider: orders, their expiry and single
use, the development "app" page, and the choice of provider from settings."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from samverkan.lib import crypto
from samverkan.lib.fields import search_hash
from samverkan.portal import eid, eid_dev
from samverkan.portal.eid import EidPurpose, EidStatus
from samverkan.portal.models import EidOrder

NUMBER = "19800101-1231"
DIGITS = "198001011231"
TEXT = (
    "Jag samtycker (samtycke nr 1) till att Avesta skola och Avesta socialtjänst delar uppgifter."
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider() -> eid_dev.DevelopmentProvider:
    return eid_dev.DevelopmentProvider()


def test_the_development_provider_implements_the_interface(provider):
    assert isinstance(provider, eid.EidProvider)
    assert isinstance(eid.get_provider(), eid_dev.DevelopmentProvider)


def test_a_login_order_is_pending_until_approved_and_then_handed_out_once(provider):
    started = provider.start(purpose=EidPurpose.LOGIN, end_user_ip="127.0.0.1")
    assert started.launch_url == reverse("portal:eid_dev", args=[started.reference])
    assert len(started.reference) >= 40
    assert provider.collect(started.reference).status == EidStatus.PENDING
    eid_dev.order_approve(reference=started.reference, identity_number=NUMBER)
    result = provider.collect(started.reference)
    assert result.status == EidStatus.COMPLETE
    assert result.completion is not None
    assert result.completion.identity_number == DIGITS
    assert result.completion.reference == started.reference
    assert result.completion.signed_text_sha256 == ""
    again = provider.collect(started.reference)
    assert (again.status, again.hint) == (EidStatus.FAILED, "already_collected")


def test_a_signing_order_carries_the_hash_of_the_text_shown(provider):
    started = provider.start(purpose=EidPurpose.SIGN, end_user_ip="127.0.0.1", text_to_sign=TEXT)
    view = eid_dev.order_view(started.reference)
    assert view is not None
    assert view.text == TEXT
    eid_dev.order_approve(reference=started.reference, identity_number=NUMBER)
    completion = provider.collect(started.reference).completion
    assert completion is not None
    assert completion.signed_text_sha256 == eid.text_sha256(TEXT)
    assert completion.signature


def test_a_signing_order_needs_a_text(provider):
    with pytest.raises(eid.EidError):
        provider.start(purpose=EidPurpose.SIGN, end_user_ip="127.0.0.1", text_to_sign="  ")


def test_orders_expire_after_five_minutes(provider):
    started = provider.start(purpose=EidPurpose.LOGIN, end_user_ip="127.0.0.1")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5, seconds=1)):
        with pytest.raises(ValidationError):
            eid_dev.order_approve(reference=started.reference, identity_number=NUMBER)
        result = provider.collect(started.reference)
    assert (result.status, result.hint) == (EidStatus.FAILED, "expired")


def test_an_approved_order_collected_too_late_has_expired(provider):
    started = provider.start(purpose=EidPurpose.LOGIN, end_user_ip="127.0.0.1")
    eid_dev.order_approve(reference=started.reference, identity_number=NUMBER)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=6)):
        assert provider.collect(started.reference).status == EidStatus.FAILED


def test_cancel_and_unknown_orders_fail(provider):
    started = provider.start(purpose=EidPurpose.LOGIN, end_user_ip="127.0.0.1")
    provider.cancel(started.reference)
    assert provider.collect(started.reference).hint == "user_cancel"
    with pytest.raises(ValidationError):
        eid_dev.order_approve(reference=started.reference, identity_number=NUMBER)
    assert provider.collect("no-such-order").hint == "unknown_order"


def test_an_order_is_answered_once(provider):
    started = provider.start(purpose=EidPurpose.LOGIN, end_user_ip="127.0.0.1")
    eid_dev.order_approve(reference=started.reference, identity_number=NUMBER)
    with pytest.raises(ValidationError):
        eid_dev.order_approve(reference=started.reference, identity_number="19820202-4561")
    with pytest.raises(ValidationError):
        eid_dev.order_cancel(reference=started.reference)


def test_the_number_is_stored_encrypted_with_a_keyed_hash(provider):
    started = provider.start(purpose=EidPurpose.LOGIN, end_user_ip="127.0.0.1")
    eid_dev.order_approve(reference=started.reference, identity_number=NUMBER)
    order = EidOrder.objects.get(reference=started.reference)
    assert DIGITS not in order.identity_number_enc
    assert order.identity_number == DIGITS
    assert order.identity_number_hash == search_hash("eid", DIGITS)


def test_an_invalid_number_is_refused_without_echoing_it(provider):
    started = provider.start(purpose=EidPurpose.LOGIN, end_user_ip="127.0.0.1")
    with pytest.raises(ValidationError) as refused:
        eid_dev.order_approve(reference=started.reference, identity_number="19800101-1232")
    assert "1232" not in str(refused.value)
    assert EidOrder.objects.get().status == "pending"


# --- The development "app" page ------------------------------------------------------------


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_dev_page_says_it_is_not_real_identification(provider, language):
    started = provider.start(purpose=EidPurpose.SIGN, end_user_ip="127.0.0.1", text_to_sign=TEXT)
    page = Client(HTTP_ACCEPT_LANGUAGE=language).get(started.launch_url)
    assert page.status_code == 200
    html = page.content.decode()
    assert f'lang="{language}"' in html
    with translation.override(language):
        label = translation.gettext("Development e-ID — not real identification")
    assert f"<h1>{label}</h1>" in html
    assert TEXT in html


def test_the_dev_page_approves_by_post_and_never_shows_the_number(provider):
    started = provider.start(purpose=EidPurpose.LOGIN, end_user_ip="127.0.0.1")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    wrong = client.post(started.launch_url, {"identity_number": "19800101-1232"})
    assert "check digit" in wrong.content.decode()
    assert "19800101-1232" not in wrong.content.decode()
    right = client.post(started.launch_url, {"identity_number": NUMBER, "decision": "approve"})
    assert "Approved" in right.content.decode()
    assert NUMBER not in right.content.decode()
    assert provider.collect(started.reference).status == EidStatus.COMPLETE


def test_the_dev_page_cancels(provider):
    started = provider.start(purpose=EidPurpose.LOGIN, end_user_ip="127.0.0.1")
    Client().post(started.launch_url, {"decision": "cancel"})
    assert provider.collect(started.reference).hint == "user_cancel"


def test_the_dev_page_is_404_for_an_unknown_order():
    url = reverse("portal:eid_dev", args=["no-such-order"])
    assert Client().get(url).status_code == 404


def test_the_dev_page_exists_only_with_the_development_provider(provider, settings):
    started = provider.start(purpose=EidPurpose.LOGIN, end_user_ip="127.0.0.1")
    settings.EID_PROVIDER = "tests.portal.test_eid.FakeProvider"
    assert Client().get(started.launch_url).status_code == 404


# --- Choosing the provider -----------------------------------------------------------------


class FakeProvider:
    """What a production provider looks like to the portal (the interface only)."""

    name = "fake"

    def start(self, *, purpose, end_user_ip, text_to_sign=""):
        raise eid.EidError("not reachable")

    def collect(self, reference):
        return eid.EidResult(EidStatus.FAILED, "failed")

    def cancel(self, reference):
        return None


class NotAProvider:
    pass


def test_a_provider_is_chosen_by_dotted_path(settings):
    settings.EID_PROVIDER = "tests.portal.test_eid.FakeProvider"
    assert isinstance(eid.get_provider(), FakeProvider)
    settings.EID_PROVIDER = "tests.portal.test_eid.NotAProvider"
    with pytest.raises(ImproperlyConfigured):
        eid.get_provider()
    settings.EID_PROVIDER = ""
    with pytest.raises(ImproperlyConfigured):
        eid.get_provider()


def test_without_a_provider_the_portal_offers_no_eid(settings):
    settings.EID_PROVIDER = ""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert "Log in with e-ID" not in client.get(reverse("portal:login")).content.decode()
    assert client.post(reverse("portal:eid_login")).status_code == 404


def test_an_unreachable_provider_is_a_message_not_an_error(settings):
    settings.EID_PROVIDER = "tests.portal.test_eid.FakeProvider"
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(reverse("portal:eid_login"), follow=True)
    assert response.status_code == 200
    assert "could not be reached" in response.content.decode()


def test_production_refuses_the_development_provider(tmp_path):
    from tests.web.test_production_config import production_env, run_cli

    env = production_env(tmp_path) | {"SAMVERKAN_EID_PROVIDER": "development"}
    result = run_cli("check", env=env, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "SAMVERKAN_EID_PROVIDER" in result.stderr


def test_an_order_encrypted_before_the_move_to_the_portal_app_still_decrypts(provider):
    """``EidOrder`` was ``consent.eidorder`` when its first values were encrypted: the label
    in their associated data stays so, or those orders (evidence of signatures) would be lost."""
    started = provider.start(purpose=EidPurpose.SIGN, end_user_ip="127.0.0.1", text_to_sign=TEXT)
    order = EidOrder.objects.get(reference=started.reference)
    written_before = crypto.encrypt(TEXT, aad=f"consent.eidorder.text:{order.uid}")
    EidOrder.objects.filter(pk=order.pk).update(text_enc=written_before)
    order.refresh_from_db()
    assert order.text == TEXT
    assert EidOrder._meta.label_lower == "portal.eidorder"
    assert EidOrder._meta.db_table == "consent_eidorder"
