"""Property: whatever the text, the sender's body passes the receiver's checks."""

from hypothesis import given, settings
from hypothesis import strategies as st

from sms_contract.core.model import build_payload
from sms_contract.core.validation import check_body, check_document
from sms_contract.sender.client import encode_body

any_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1)


@settings(max_examples=300, deadline=None)
@given(text=any_text)
def test_built_payload_for_any_unicode_text_validates_without_violation_or_warning(text):
    payload = build_payload("+33612345678", text, sender="INOCX")
    result = check_document(payload.to_json_dict())
    assert (result.violations, result.warnings) == ([], [])
    wire = check_body(encode_body(payload))
    assert (wire.violations, wire.warnings) == ([], [])
