"""perf (issue 18): a /v1 view of an immutable record is built and encoded once per record
object (``rest.views.EncodedViews``), and what it answers is byte for byte what rendering
the view on every request answered."""

from __future__ import annotations

import dataclasses

from domain.music.model import Song
from rest.envelope import Style, _to_bytes, success
from rest.music import song_view, song_view_json
from rest.views import EncodedViews
from tests.unit.test_music_service import a_song


def _title(song: Song) -> dict[str, str]:
    return {"title": song.title}


def test_one_record_object_is_rendered_once() -> None:
    rendered: list[Song] = []

    def view(song: Song) -> dict[str, str]:
        rendered.append(song)
        return {"title": song.title}

    views = EncodedViews(view, max_entries=10)
    song = a_song()
    assert views(song) is views(song)
    assert rendered == [song]


def test_an_equal_but_new_record_is_rendered_again() -> None:
    """The memo goes by identity: a fresher copy (the cache's next answer) is rendered,
    whatever it compares equal to."""
    views: EncodedViews[Song] = EncodedViews(_title, max_entries=10)
    first, fresher = a_song(), dataclasses.replace(a_song(), title="Another")
    assert views(first).text == b'{"title":"Qing Tian"}'
    assert views(fresher).text == b'{"title":"Another"}'
    assert views(dataclasses.replace(first)).text == b'{"title":"Qing Tian"}'


def test_a_full_memo_starts_over_and_still_answers() -> None:
    views: EncodedViews[Song] = EncodedViews(_title, max_entries=2)
    songs = [a_song(str(n)) for n in range(5)]
    assert [views(s).text for s in songs] == [b'{"title":"Qing Tian"}'] * 5
    assert len(views._entries) <= 2  # looking underneath


def test_the_song_route_answers_the_bytes_it_answered_before() -> None:
    for song in (a_song(), dataclasses.replace(a_song(), album=None, isrc=None)):
        before = success(Style.GIN, song_view(song))
        after = success(Style.GIN, song_view_json(song))
        assert after.body == before.body
        assert after.raw_headers == before.raw_headers
        assert song_view_json(song).text == _to_bytes(song_view(song))
