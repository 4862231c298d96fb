"""A typed reason that ends its own sentence is not followed by a second full stop in a note."""

from portal.db.tables import Notification
from portal.services.context import Portal
from portal.services.notifications import note, note_text


def _returned(comment: str) -> Notification:
    row = note(
        kind="registration",
        message="note.verification_returned",
        params={"state": "x", "comment": comment},
    )
    return Notification(**row)


def test_a_reason_with_its_own_full_stop_gets_no_second_one(portal: Portal) -> None:
    told = _returned("授权书未加盖企业公章，请重新上传。")
    zh, en = note_text(portal, told, "zh")[1], note_text(portal, told, "en")[1]
    assert "请重新上传。可按要求" in zh and "。。" not in zh
    assert "请重新上传。 You may" in en and "。." not in en
    # A reason without one gets the message's.
    plain = note_text(portal, _returned("授权书未盖章"), "zh")[1]
    assert "授权书未盖章。可按要求" in plain
