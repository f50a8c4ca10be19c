"""The original gateway's 0-4 strength score (reference §3.3) and argon2id hashing."""

from __future__ import annotations

import re

import pytest

from domain.accounts.passwords import Argon2PasswordHasher, strength_score

# (password, expected score, why)
CASES: list[tuple[str, int, str]] = [
    # empty and the 18-entry weak list, matched lower-cased
    ("", 0, "empty"),
    ("password", 0, "weak list"),
    ("PASSWORD", 0, "weak list, any case"),
    ("PassW0rd", 0, "weak list 'passw0rd', mixed case"),
    ("Hunter22", 0, "weak list 'hunter22', would otherwise score 1"),
    ("TrustNo1", 0, "weak list 'trustno1'"),
    ("QwertyUIOP", 0, "weak list 'qwertyuiop', would otherwise score 1"),
    ("iloveyou", 0, "weak list"),
    ("password12", 1, "not on the list: 2 classes, 10 bytes"),
    # length in UTF-8 bytes: <6 → 0, 6-7 → 1
    ("a", 0, "1 byte"),
    ("aB1!x", 0, "5 bytes, 4 classes"),
    ("aB1!xy", 1, "6 bytes"),
    ("aB1!xyz", 1, "7 bytes, 4 classes"),
    ("éé", 0, "2 characters but 4 bytes"),
    ("ééé", 1, "3 characters but 6 bytes"),
    ("Éé1!", 1, "4 characters but 6 bytes"),
    ("Ab1!ééé", 3, "7 characters but 10 bytes, 4 classes"),
    ("Ab1!éééé", 4, "8 characters but 12 bytes, 4 classes"),
    ("Ab1€5678", 3, "'€' is a 3-byte symbol: 10 bytes (8 characters would give 2)"),
    # monotonic ±1 byte sequences, tested lower-cased; classes come from the original
    ("abcdefgh", 0, "ascending, 1 class"),
    ("hgfedcba", 0, "descending, 1 class"),
    ("12345678", 0, "ascending digits"),
    ("87654321", 0, "descending digits"),
    ("ABCDEFGH", 0, "lower-cased it is a sequence; 1 class (upper)"),
    ("Abcdefgh", 1, "lower-cased it is a sequence; 2 classes"),
    ("abcdefghijklmnopqrstuvwxyz", 0, "length does not rescue a sequence"),
    ("ABCDEFGHIJKLMNOPq", 1, "sequence with 2 classes, though 17 bytes"),
    ("6789:;<=", 1, "byte sequence across digits and punctuation"),
    ("abcdefgi", 1, "one broken step: not a sequence"),
    ("abcdcbaz", 1, "up then down: not a sequence"),
    ("acegikmo", 1, "steps of 2: not a sequence"),
    ("aaaaaaaa", 1, "steps of 0: not a sequence"),
    # one class → 1, whatever the length
    ("zyxwvutq", 1, "1 class"),
    ("correcthorsebatterystaple", 1, "1 class, long"),
    ("CORRECTHORSEBATTERY", 1, "1 class (upper), long"),
    ("31415926535897932384", 1, "1 class (digits), long"),
    ("!@#$%^&*()_+", 1, "1 class (symbols), long"),
    # two classes → 2 when ≥12 bytes else 1
    ("correcthors1", 2, "lower + digit, 12"),
    ("correcthor1", 1, "lower + digit, 11"),
    ("CORRECThorse", 2, "upper + lower, 12"),
    ("correct hors", 2, "space counts as a symbol, 12"),
    ("correct-hor", 1, "lower + punctuation, 11"),
    ("correct$hors", 2, "'$' is a symbol, 12"),
    # three classes → 3 when ≥12, 2 when ≥10, else 1
    ("Correcthors1", 3, "3 classes, 12"),
    ("Correcthor1", 2, "3 classes, 11"),
    ("Correcthr1", 2, "3 classes, 10"),
    ("Correcth1", 1, "3 classes, 9"),
    ("Correct1", 1, "3 classes, 8"),
    ("correct+hor5", 3, "lower + symbol + digit, 12"),
    # four classes → 4 when ≥12, 3 when ≥10, else 2
    ("Correcthor1!", 4, "4 classes, 12"),
    ("Correctho1!", 3, "4 classes, 11"),
    ("Correcth1!", 3, "4 classes, 10"),
    ("Correct1!", 2, "4 classes, 9"),
    ("Correc1!", 2, "4 classes, 8"),
    ("Tr0ub4dor&3-horse", 4, "4 classes, 17"),
]


@pytest.mark.parametrize(
    ("password", "expected"),
    [pytest.param(p, s, id=f"{p!r}: {why}") for p, s, why in CASES],
)
def test_strength_score(password: str, expected: int) -> None:
    assert strength_score(password) == expected


def test_a_tab_counts_as_a_symbol_like_any_white_space() -> None:
    assert strength_score("correct\thors") == 2


# -- argon2id ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cheap() -> Argon2PasswordHasher:
    return Argon2PasswordHasher(time_cost=1, memory_cost_kib=8)


async def test_a_hash_verifies_its_password(cheap: Argon2PasswordHasher) -> None:
    password_hash = await cheap.hash("Correct-Horse-9")

    assert password_hash.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert await cheap.verify(password_hash, "Correct-Horse-9") is True


async def test_hashes_are_salted(cheap: Argon2PasswordHasher) -> None:
    assert await cheap.hash("same") != await cheap.hash("same")


async def test_a_wrong_password_does_not_verify(cheap: Argon2PasswordHasher) -> None:
    password_hash = await cheap.hash("Correct-Horse-9")

    assert await cheap.verify(password_hash, "correct-horse-9") is False
    assert await cheap.verify(password_hash, "") is False


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "not a hash",
        "$argon2id$v=19$m=8,t=1,p=1$abc",
        "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaA",
        "$2b$12$KIXQJQ1Qe6V8b8c5mCqz1eVq3QeYt1g3Ck3hVYdH3kX0Vt8wq1rLa",
    ],
)
async def test_a_garbage_hash_does_not_verify(cheap: Argon2PasswordHasher, garbage: str) -> None:
    assert await cheap.verify(garbage, "anything") is False


async def test_parameters_are_read_from_the_hash(cheap: Argon2PasswordHasher) -> None:
    """Hashes made with other parameters (or migrated from the original) still verify."""
    password_hash = await cheap.hash("Correct-Horse-9")

    assert await Argon2PasswordHasher().verify(password_hash, "Correct-Horse-9") is True


async def test_burn_spends_a_verification_and_can_repeat(cheap: Argon2PasswordHasher) -> None:
    await cheap.burn()
    await cheap.burn()  # the second call reuses the decoy hash


async def test_the_default_matches_the_original_phc_format() -> None:
    password_hash = await Argon2PasswordHasher().hash("Correct-Horse-9")

    assert password_hash.startswith("$argon2id$v=19$m=65536,t=2,p=1$")
    # 16-byte salt and 32-byte key, unpadded standard base64
    assert re.fullmatch(
        r"\$argon2id\$v=19\$m=65536,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}",
        password_hash,
    )
