"""What GraphQL fields cost (see ``schema.cost``): the limit's points, per coordinate.

A mutation that hashes a password or sends mail costs enough that a document cannot
alias dozens of them past the limit (1,000 points: at most 20 such calls), so an attacker
cannot buy many argon2 hashes or e-mails with one request."""

from __future__ import annotations

from schema.cost import CostRules, FieldCost

PASSWORD_HASH = FieldCost(cost=50)
"""One argon2 hash (tens of milliseconds of CPU and 64 MiB)."""
SENDS_MAIL = FieldCost(cost=50)
CALLS_UPSTREAM = FieldCost(cost=50)
"""An admin call to an upstream provider (a pool credential's check or refresh)."""

# -- music (issue 13): the metered fields; their weights are declared with the resolvers
# (``resolvers.music``: a play URL 3 units, every other query 1). The gate reserves the
# document's upper bound of each coordinate and refunds what did not resolve.
MUSIC_METERED = {
    **{
        f"Query.{name}": FieldCost(metered=name)
        for name in ("song", "songs", "search", "songUrl", "songLyrics", "album", "artist",
                     "playlist", "charts", "chart")
    },
    "Song.url": FieldCost(metered="Song.url"),
    "Song.lyrics": FieldCost(metered="Song.lyrics"),
}  # fmt: skip

COST_RULES = CostRules(
    fields={
        "Mutation.accountRegister": PASSWORD_HASH,
        "Mutation.accountLogin": PASSWORD_HASH,
        "Mutation.accountPasswordChange": PASSWORD_HASH,
        "Mutation.accountPasswordSet": PASSWORD_HASH,
        "Mutation.passwordReset": PASSWORD_HASH,
        "Mutation.adminUserPasswordSet": PASSWORD_HASH,
        "Mutation.emailCodeSend": SENDS_MAIL,
        "Mutation.emailActivationResend": SENDS_MAIL,
        "Mutation.passwordResetRequest": SENDS_MAIL,
        **MUSIC_METERED,
        # -- credential pool (issue 13) --
        "Mutation.adminPoolCredentialRefresh": CALLS_UPSTREAM,
        "Mutation.adminPoolCredentialTest": CALLS_UPSTREAM,
        # -- upstreams (issue 15): each makes upstream calls (a login, a QR page) --
        "Mutation.adminQrLoginStart": CALLS_UPSTREAM,
        "Mutation.adminQrLoginPoll": CALLS_UPSTREAM,
        "Mutation.adminNeteaseLogin": CALLS_UPSTREAM,
    }
)
