"""Payloads shared by the tests."""

#: A valid payload: one plain GSM part, NOTIFICATION with a sender.
VALID_PAYLOAD = {
    "type": "NOTIFICATION",
    "sender": "INOCX",
    "to": "+33612345678",
    "retId": "r-1",
    "isUnicode": False,
    "text": "Hello",
    "credits": 1,
}
