"""Who may do what in billing: a signed-in user (session or API key) for their own
orders and wallet, an admin to look at anyone's, a superadmin to move money or change
plans (the original's ``SuperadminPathMiddleware`` rules, applied in the domain)."""

from __future__ import annotations

from domain.billing.errors import BillingAdminRequired, SuperadminRequired
from domain.errors import Unauthenticated
from domain.principal import Principal


def user_of(principal: Principal) -> str:
    if not principal.is_authenticated or not principal.user_id:
        raise Unauthenticated()
    return principal.user_id


def require_admin(principal: Principal) -> None:
    if not principal.is_authenticated:
        raise Unauthenticated()
    if not principal.is_admin:
        raise BillingAdminRequired()


def require_superadmin(principal: Principal) -> None:
    if not principal.is_authenticated:
        raise Unauthenticated()
    if not principal.is_superadmin:
        raise SuperadminRequired()
