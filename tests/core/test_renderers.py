"""core.renderers.JSONRenderer (orjson) writes exactly the bytes DRF's JSONRenderer writes."""

import datetime
import uuid
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import renderers
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from core.renderers import JSONRenderer

ours, drf = JSONRenderer(), renderers.JSONRenderer()

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.text()
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.dates()
    | st.datetimes(timezones=st.sampled_from([None, datetime.UTC]))
    | st.times()
    | st.uuids()
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=500)
@given(data=values)
def test_the_same_bytes_for_any_answer(data):
    assert ours.render(data) == drf.render(data)


def test_the_same_bytes_for_what_drf_leaves_to_its_encoder_or_refuses_to_orjson():
    tricky = {
        "separators": "\u2028 and \u2029 \x00 \x1f é 🚀",
        "decimal": Decimal("35.8800"),
        "huge": 2**70,  # beyond orjson's 64 bits: DRF's renderer writes it
        "uuid": uuid.UUID(int=7),
        "when": datetime.datetime(2026, 11, 21, 9, 30, tzinfo=datetime.UTC),
        "drf": ReturnDict({"a": ReturnList([1, 2], serializer=None)}, serializer=None),
    }
    assert ours.render(tricky) == drf.render(tricky)
    assert ours.render({1: "int key"}) == drf.render({1: "int key"})
    assert ours.render(None) == drf.render(None) == b""
