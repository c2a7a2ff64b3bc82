import logging

from datahealth.core.redaction import RedactingFilter, redact, register_secret


def test_registered_secret_and_url_password_and_key_value_are_masked() -> None:
    register_secret("tok-ABCDEF-123")
    text = "auth tok-ABCDEF-123 failed for postgresql://bob:hunter2@db/x (password=hunter2)"
    cleaned = redact(text)
    assert "tok-ABCDEF-123" not in cleaned and "hunter2" not in cleaned
    assert "postgresql://bob:***@db/x" in cleaned


def test_short_values_are_not_registered_so_ordinary_text_survives() -> None:
    register_secret("ab")
    assert redact("tab and cab") == "tab and cab"


def test_logging_filter_masks_messages_and_exceptions(caplog) -> None:  # type: ignore[no-untyped-def]
    register_secret("zz-very-secret-zz")
    logger = logging.getLogger("datahealth.test.redaction")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="datahealth.test.redaction"):
        logger.info("token is %s", "zz-very-secret-zz")
    assert "zz-very-secret-zz" not in caplog.text and "***" in caplog.text


def test_a_webhook_url_is_masked_by_its_parts() -> None:
    url = "https://hooks.example.com/services/T0001/B0001/PartSecretToken42?key=QueryValue99"
    register_secret(url)
    for echoed in (
        "Cannot POST /services/T0001/B0001/PartSecretToken42",
        "services/T0001/B0001/PartSecretToken42?key=QueryValue99",
        "token PartSecretToken42 revoked",
        "key=QueryValue99",
        "https%3A%2F%2Fhooks.example.com%2Fservices%2FT0001%2FB0001%2FPartSecretToken42",
    ):
        cleaned = redact(echoed)
        assert "PartSecretToken42" not in cleaned and "QueryValue99" not in cleaned, cleaned
        assert "PartSecretToken42" not in cleaned.replace("%2F", "/")


def test_a_url_password_is_masked_encoded_decoded_and_with_its_user() -> None:
    register_secret("postgresql://monitor:Pa%40ss%2Fw0rd@db.example.com:5432/wh")
    for echoed in ("password Pa@ss/w0rd rejected", "Pa%40ss%2Fw0rd", "login monitor:Pa@ss/w0rd"):
        assert "Pa@ss/w0rd" not in redact(echoed) and "Pa%40ss%2Fw0rd" not in redact(echoed)
    assert redact("host db.example.com port 5432 database wh") == "host db.example.com port 5432 database wh"
