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
