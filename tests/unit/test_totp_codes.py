"""RFC 6238 steps with one step of skew, and recovery codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp

from domain.twofactor import codes

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = datetime(2026, 11, 27, 12, 0, 15, tzinfo=UTC)


def code_at(when: datetime) -> str:
    return pyotp.TOTP(SECRET).at(when)


def test_the_current_step_matches() -> None:
    assert codes.matching_step(SECRET, code_at(NOW), NOW) == codes.time_step(NOW)


def test_one_step_of_skew_either_way_is_accepted_two_are_not() -> None:
    step = timedelta(seconds=30)
    assert codes.matching_step(SECRET, code_at(NOW - step), NOW) == codes.time_step(NOW) - 1
    assert codes.matching_step(SECRET, code_at(NOW + step), NOW) == codes.time_step(NOW) + 1
    assert codes.matching_step(SECRET, code_at(NOW - 2 * step), NOW) is None
    assert codes.matching_step(SECRET, code_at(NOW + 2 * step), NOW) is None


def test_malformed_codes_never_match() -> None:
    for bad in ("", "12345", "1234567", "abcdef", " 12345"):
        assert codes.matching_step(SECRET, bad, NOW) is None


def test_secrets_are_160_bits() -> None:
    assert len(codes.new_secret()) == 32  # base32: 5 bits per character


def test_provisioning_uri_names_issuer_and_account() -> None:
    uri = codes.provisioning_uri(SECRET, "alice@example.com")
    assert uri.startswith("otpauth://totp/Karpov:alice%40example.com?")
    assert "issuer=Karpov" in uri and f"secret={SECRET}" in uri


def test_recovery_codes_are_ten_unambiguous_codes() -> None:
    generated = codes.new_recovery_codes()
    assert len(generated) == 10 and len(set(generated)) == 10
    for code in generated:
        raw = code.replace("-", "")
        assert len(raw) == 10
        assert not set(raw) & set("01OIL")
        assert codes.normalize_recovery_code(code.lower().replace("-", " ")) == raw


def test_normalisation_rejects_non_codes() -> None:
    assert codes.normalize_recovery_code("123456") is None
    assert codes.normalize_recovery_code("AAAAA-AAAA0") is None  # 0 is not in the alphabet
    assert codes.normalize_recovery_code("AAAAA-AAAAAA") is None


def test_recovery_hashes_are_keyed_and_per_user() -> None:
    hasher = codes.RecoveryCodeHasher(b"k" * 32)
    assert hasher.hash("u1", "ABCDEFGHJK") != hasher.hash("u2", "ABCDEFGHJK")
    assert hasher.hash("u1", "ABCDEFGHJK") != codes.RecoveryCodeHasher(b"x" * 32).hash(
        "u1", "ABCDEFGHJK"
    )
    assert "ABCDEFGHJK" not in hasher.hash("u1", "ABCDEFGHJK")
