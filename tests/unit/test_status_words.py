"""One word for each status on every page, from the vocabulary."""

from __future__ import annotations

from bpm.store.vocabulary import STATUS_WORDS, InstanceStatus, status_word


def test_every_status_has_its_own_word():
    assert set(STATUS_WORDS) == set(InstanceStatus)
    assert len(set(STATUS_WORDS.values())) == len(STATUS_WORDS), "two statuses never read the same"
    assert status_word("paused") == "in progress" and status_word("error") == "held up"

