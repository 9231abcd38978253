"""The query cache's key (carta/ui.py, parameters_key): a cohort's patient ids by their digest,
and two different lists never the same key."""

from __future__ import annotations

from carta.ui import parameters_key

IDS = [f"SYN-{i:05d}" for i in range(10_000)]


def test_a_long_list_of_ids_is_keyed_by_its_digest_and_the_rest_as_given() -> None:
    key = dict(parameters_key({"patients": IDS, "codes": ["CK"], "day": 7}))
    assert key["codes"] == ["CK"] and key["day"] == 7
    kind, count, digest = key["patients"]
    assert (kind, count, len(digest)) == ("digest", 10_000, 64)
    assert parameters_key({"patients": list(IDS)}) == parameters_key({"patients": IDS})


def test_lists_that_differ_in_one_id_its_place_or_its_split_have_other_keys() -> None:
    key = parameters_key({"patients": IDS})
    assert parameters_key({"patients": [*IDS[:-1], "SYN-99999"]}) != key
    assert parameters_key({"patients": [IDS[1], IDS[0], *IDS[2:]]}) != key
    # Joined without lengths, ["ab", "c"] and ["a", "bc"] would be one string.
    split_a = ["ab", "c", *IDS[:100]]
    split_b = ["a", "bc", *IDS[:100]]
    assert parameters_key({"patients": split_a}) != parameters_key({"patients": split_b})
