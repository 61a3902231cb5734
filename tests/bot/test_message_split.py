"""Long messages are cut into parts Telegram accepts, and together the parts say everything."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.message_split import TELEGRAM_LIMIT, split_message, utf16_length
from bot.telegram_standin.limits import check_message_text, parse_formatted

WORDS = st.sampled_from(["ETH/USDT", "+$12.50", "stop", "1,234.5678", "🚀", "&amp;", "&lt;b&gt;", "x" * 70, "é"])


@st.composite
def html_texts(draw: st.DrawFn) -> str:
    """Lines of words, some bold, italic or linked, some inside a <pre> block spanning lines."""
    lines = []
    for _ in range(draw(st.integers(1, 40))):
        words = draw(st.lists(WORDS, min_size=0, max_size=12))
        line = " ".join(words)
        wrap = draw(st.sampled_from(["", "b", "i", "a", "bi"]))
        if wrap == "a":
            line = f'<a href="https://example.org/?q=1&amp;r=2">{line}</a>'
        elif wrap:
            for tag in wrap:
                line = f"<{tag}>{line}</{tag}>"
        lines.append(line)
    if draw(st.booleans()):
        start = draw(st.integers(0, len(lines) - 1))
        lines[start] = "<pre>" + lines[start]
        lines[-1] = lines[-1] + "</pre>"
    return "\n".join(lines)


def _visible(raw: str) -> str:
    return "".join(parse_formatted(raw, "HTML").text.split())


@settings(max_examples=150, deadline=None)
@given(html_texts(), st.integers(100, 400))
def test_parts_fit_parse_and_lose_nothing(text: str, limit: int):
    parts = split_message(text, limit)
    for part in parts:
        assert utf16_length(part) <= limit
        parse_formatted(part, "HTML")  # balanced tags, whole entities: Telegram would accept it
    assert "".join(_visible(p) for p in parts) == _visible(text)


def test_a_short_text_is_one_part_unchanged():
    assert split_message("<b>Portfolio</b>\nEquity $1.00") == ["<b>Portfolio</b>\nEquity $1.00"]


def test_a_long_report_splits_at_line_breaks_and_every_part_is_accepted():
    lines = [f"<b>ETH/USDT</b> {i:04d}  +$1.00 (+0.10%) · stop 1,200.00 &amp; target 1,400.00" for i in range(400)]
    parts = split_message("\n".join(lines))
    assert len(parts) > 5
    assert all(check_message_text(p, "HTML").text for p in parts)
    assert [line for p in parts for line in p.split("\n")] == lines
    assert all(utf16_length(p) <= TELEGRAM_LIMIT for p in parts)


def test_one_huge_bold_word_is_cut_and_each_piece_stays_bold():
    parts = split_message("<b>" + "y" * 9000 + "</b>")
    assert len(parts) == 3
    for part in parts:
        formatted = check_message_text(part, "HTML")
        assert formatted.entities and formatted.entities[0]["type"] == "bold"
    assert sum(len(parse_formatted(p, "HTML").text) for p in parts) == 9000
