"""Spoken ticket codes, counters and announcement templates."""

from __future__ import annotations

import random

import pytest

from audio.phrases import (
    DEFAULT_TEMPLATE,
    PAUSE,
    announcement_text,
    check_template,
    counter_words,
    spoken_vocabulary,
    ticket_words,
    tokens,
)


@pytest.mark.parametrize(
    ("code", "words", "digits"),
    [
        ("A123", "a seratus dua puluh tiga", "a satu dua tiga"),
        ("A001", "a satu", "a nol nol satu"),
        ("B010", "be sepuluh", "be nol satu nol"),
        ("Q011", "ki sebelas", "ki nol satu satu"),
        ("X000", "eks nol", "eks nol nol nol"),
        ("Z999", "zet sembilan ratus sembilan puluh sembilan", "zet sembilan sembilan sembilan"),
        ("AB1000", "a be seribu", "a be satu nol nol nol"),
        ("KWY7", "ka we ye tujuh", "ka we ye tujuh"),
        ("C999999", "ce " + "sembilan ratus sembilan puluh sembilan ribu "
         "sembilan ratus sembilan puluh sembilan", "ce" + " sembilan" * 6),
    ],
)
def test_ticket_words_both_styles(code: str, words: str, digits: str) -> None:
    """Prefix letters by name; the number as words (no leading zeros) or digit by digit."""
    assert ticket_words(code) == words
    assert ticket_words(code, "words") == words
    assert ticket_words(code, "digits") == digits


@pytest.mark.parametrize(
    "bad",
    ["", "A", "123", "a123", "A12a", "ABCD1", "A1234567", " A001", "A001 ", "A-001", "Ä001",
     "A" * 10_000, "A١٢٣", None, 123],
)
def test_bad_codes_raise(bad: object) -> None:
    """Empty, digitless, lowercase, too long or foreign codes are refused clearly."""
    with pytest.raises(ValueError, match=r"kode antrian .* tidak sah: 1–3 huruf kapital"):
        ticket_words(bad)  # type: ignore[arg-type]


def test_unknown_style_raises() -> None:
    """Only "words" and "digits" are number styles."""
    with pytest.raises(ValueError, match=r"gaya angka '[a-z]+' tidak sah"):
        ticket_words("A001", "roman")  # type: ignore[arg-type]


def test_counter_words() -> None:
    """Counters are spoken as words; zero, negative and non-integers are refused."""
    assert counter_words(29) == "dua puluh sembilan"
    assert counter_words(1) == "satu"
    for bad in (0, -3, 1_000_000, 2.0, True):
        with pytest.raises(ValueError, match=r"nomor loket .* tidak sah"):
            counter_words(bad)  # type: ignore[arg-type]


def test_default_announcement() -> None:
    """The default sentence names the ticket and the counter, both in words."""
    assert announcement_text("A123", 5) == (
        "Nomor antrian a seratus dua puluh tiga, silakan menuju loket lima"
    )
    assert announcement_text("A123", 29, style="digits") == (
        "Nomor antrian a satu dua tiga, silakan menuju loket dua puluh sembilan"
    )


def test_template_with_service_and_tenant() -> None:
    """Per-service templates may name the service and tenant; empty names leave no gaps."""
    template = "Nomor antrian {ticket} untuk {service} {tenant}, silakan ke loket {counter}"
    assert announcement_text("B002", 3, template=template, service="Perpanjangan STNK",
                             tenant="Samsat") == (
        "Nomor antrian be dua untuk Perpanjangan STNK Samsat, silakan ke loket tiga"
    )
    assert "  " not in announcement_text("B002", 3, template=template)


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("", "tidak boleh kosong"),
        ("Loket {counter}", "harus memuat {ticket}"),
        ("Nomor {ticket} {loket}", "tempat isian {loket} tidak dikenal"),
        ("Nomor {ticket:>5}", "tempat isian {ticket} tidak dikenal"),
        ("Nomor {ticket!r}", "tempat isian {ticket} tidak dikenal"),
        ("Nomor {}", "tempat isian {} tidak dikenal"),
        ("Nomor {ticket", "templat pengumuman 'Nomor {ticket' tidak sah"),
        ("Nomor {ticket}}", "templat pengumuman 'Nomor {ticket}}' tidak sah"),
    ],
)
def test_bad_templates_raise(template: str, message: str) -> None:
    """Templates with unknown or missing placeholders are refused with a reason."""
    with pytest.raises(ValueError, match=message.replace("{", r"\{").replace("}", r"\}")):
        check_template(template)


def test_announcements_are_clean_for_random_calls() -> None:
    """Random valid calls give single-spaced text with no placeholder left over."""
    rng = random.Random(4)
    for _ in range(2000):
        prefix = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(rng.randint(1, 3)))
        code = f"{prefix}{rng.randint(0, 999_999):0{rng.randint(1, 6)}d}"
        if len(code) - len(prefix) > 6:
            continue
        text = announcement_text(code, rng.randint(1, 99), style=rng.choice(["words", "digits"]))
        assert "  " not in text and "{" not in text and text == text.strip()
        vocabulary = set(spoken_vocabulary([DEFAULT_TEMPLATE]))
        assert {t for t in tokens(text) if t != PAUSE} <= vocabulary


def test_tokens_split_words_and_pauses() -> None:
    """Tokens are lowercase words, with a pause for each punctuation mark."""
    assert tokens("Nomor antrian A satu, silakan ke Raya-Serang.") == [
        "nomor", "antrian", "a", "satu", PAUSE, "silakan", "ke", "raya-serang", PAUSE,
    ]


def test_vocabulary_covers_templates_and_names() -> None:
    """The vocabulary holds letters, number words, template words and names, without duplicates."""
    words = spoken_vocabulary(["Antrian {ticket} ke {tenant} loket {counter}"], ["Samsat Serang"])
    assert {"antrian", "ke", "loket", "samsat", "serang", "zet", "seribu", "belas"} <= set(words)
    assert "tenant" not in words and PAUSE not in words
    assert words == sorted(set(words))
