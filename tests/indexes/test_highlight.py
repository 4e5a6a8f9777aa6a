"""indexes.highlight.snippet: marked, HTML-safe excerpts."""
from __future__ import annotations

from indexes.base import Term
from indexes.fold import _fold_char, fold, nfc
from indexes.highlight import fast_fold, snippet


def test_fast_fold_equals_fold():
    samples = ["Kế hoạch số 74/KH-UBND của UBND tỉnh Hưng Yên", "ĐẤT ĐAI đất đai", "Ha\u0300 No\u0323\u0302i",
               "ẞ İstanbul ǅ ﬁ 😀 ½", "plain ascii TEXT"]
    for text in samples:
        # the translate table gives what folding each character of the NFC text one by one gives
        assert fast_fold(text) == fold(text) == "".join(_fold_char(c) for c in nfc(text))


def test_folded_query_marks_the_original_words():
    out = snippet("Ủy ban ban hành Kế hoạch phòng chống lụt bão.", [Term(("ke", "hoach"), phrase=True)])
    assert "<mark>Kế hoạch</mark>" in out


def test_words_are_marked_whole_not_inside_other_words():
    out = snippet("kem kế ke", [Term(("ke",))])
    assert out == "kem <mark>kế</mark> <mark>ke</mark>"


def test_original_is_escaped_and_only_marks_are_html():
    out = snippet('<script>alert("x")</script> đất & nhà', [Term(("dat",))])
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "<mark>đất</mark> &amp; nhà" in out


def test_negated_terms_are_not_marked():
    out = snippet("đất đai và nhà ở", [Term(("dat",)), Term(("nha",), negated=True)])
    assert "<mark>nhà</mark>" not in out and "<mark>đất</mark>" in out


def test_long_text_is_cut_around_the_match():
    text = "mở đầu " * 200 + "điều khoản về đất đai ở đây " + "kết thúc " * 200
    out = snippet(text, [Term(("đất", "đai"), phrase=True)], max_chars=120)
    assert "<mark>đất đai</mark>" in out
    assert out.startswith("…") and out.endswith("…")
    assert len(out.replace("<mark>", "").replace("</mark>", "")) <= 125


def test_number_phrase_is_marked_with_its_symbols():
    out = snippet("Thực hiện Kế hoạch số 74/KH-UBND ngày 5/3", [Term(("74", "KH", "UBND"), phrase=True)])
    assert "<mark>74/KH-UBND</mark>" in out


def test_falls_back_to_subject_when_body_has_no_match():
    out = snippet("nội dung không liên quan", [Term(("hưng",))], fallback="Về việc ở Hưng Yên")
    assert out == "Về việc ở <mark>Hưng</mark> Yên"


def test_no_match_anywhere_gives_the_beginning_unmarked():
    out = snippet("Nội dung <b>đầu</b> tiên", [Term(("xyz",))], fallback="Trích yếu")
    assert out == "Nội dung &lt;b&gt;đầu&lt;/b&gt; tiên"
    assert snippet("", [Term(("xyz",))], fallback="Trích yếu") == "Trích yếu"


def test_matches_are_found_in_the_text_where_its_folding_has_the_folded_words():
    """The highlighter runs on the text itself (each letter of a folded word stands for every
    character folding to it); the spans are those a search of the folded text gives."""
    import random
    import re

    from indexes.highlight import match_spans

    letters = "aAàÀáẠăẮâẤđĐeÉêỆiÍİoÓôỐơỚuÚưỨyÝ가각ßẞǅǆ_-/ 07"
    rnd = random.Random(11)
    texts = ["".join(rnd.choice(letters) for _ in range(400)) for _ in range(200)]
    queries = ["a", "đa", "ĐA Ê", "i", "ı", "ss", "ß", "가", "ǆ", "a_e", "0 7", "ư ơ"]
    for query in queries:
        words = tuple(w for w in re.findall(r"[^\W_]+", query))
        terms = [Term(words, phrase=len(words) > 1)]
        folded = [fold(w) for w in words]
        reference = re.compile(r"(?<![^\W_])" + r"[\W_]+".join(map(re.escape, folded)) + r"(?![^\W_])")
        for text in texts:
            assert match_spans(text, terms) == [m.span() for m in reference.finditer(fold(text))], (query, text)


def _unmarked(out: str) -> str:
    return out.replace("<mark>", "").replace("</mark>", "")


def test_words_touching_an_underscore_or_a_combining_mark_are_marked_but_not_inside_words():
    out = snippet("mã_kế_hoạch và kế_hoạch_2", [Term(("ke",))])
    assert out == "mã_<mark>kế</mark>_hoạch và <mark>kế</mark>_hoạch_2"
    # a mark NFC cannot compose stays in the text; "ke" inside "xkế" or "kếx" is not a word
    text = "ke\u0301 kế\u0300 \u0301kế xkế kếx"
    out = snippet(text, [Term(("ke",))])
    assert out.count("<mark>") == 3 and "x<mark>" not in out and "</mark>x" not in out
    assert _unmarked(out) == nfc(text)


def test_upper_case_d_with_stroke_matches_a_query_typed_without_diacritics():
    out = snippet("ĐẤT ĐAI, đất đai và Đất_đai", [Term(("dat", "dai"), phrase=True)])
    assert out == "<mark>ĐẤT ĐAI</mark>, <mark>đất đai</mark> và <mark>Đất_đai</mark>"


def test_several_terms_each_marked_and_the_longer_phrase_first():
    terms = [Term(("ke", "hoach"), phrase=True), Term(("ke",)), Term(("hoa",))]
    out = snippet("Kế hoạch, kế toán và kế hoạch hóa", terms)
    assert out == "<mark>Kế hoạch</mark>, <mark>kế</mark> toán và <mark>kế hoạch</mark> <mark>hóa</mark>"


def test_hostile_text_around_marks_is_escaped_and_spaces_collapse():
    out = snippet("a \x01<mark>x</mark>\x02 đất \"q\" & 'r'", [Term(("dat",))])
    assert out == "a \x01&lt;mark&gt;x&lt;/mark&gt;\x02 <mark>đất</mark> &quot;q&quot; &amp; &#x27;r&#x27;"
    out = snippet("  \n đất\n\n\tđai  \u3000 nhà \r\n", [Term(("dat",)), Term(("dai",))])
    assert out == "<mark>đất</mark> <mark>đai</mark> nhà"


def test_the_window_shown_is_the_first_holding_the_most_matches():
    text = "đất " + "mở " * 100 + "nhà đất và đất ở " + "giữa " * 100 + "đất ở và đất " + "cuối " * 100
    out = snippet(text, [Term(("dat",))], max_chars=60)
    assert out.startswith("…") and out.endswith("…")
    assert "nhà <mark>đất</mark> và <mark>đất</mark> ở" in out and "giữa" not in _unmarked(out)[:20]


def test_several_terms_are_found_where_the_folded_text_has_them():
    """As above for queries of several terms and phrases (some with the same first letter): at each
    place the longest phrase that matches there, as an alternation on the folded text finds them."""
    import random
    import re

    from indexes.highlight import match_spans

    pieces = [*"aAàÀáẠăẮđĐdDeÉêỆkKhHnNoÓôỐơ_-/ 07\u0301\u0300", "Kế hoạch", "kế_hoạch", "kem", "nhà", "ĐA", "0/7"]
    words = ["a", "đa", "ke", "kem", "ke hoach", "hoach", "ho", "nha", "an", "d", "0 7", "e"]
    rnd = random.Random(7)
    for _ in range(300):
        text = nfc("".join(rnd.choice(pieces) + rnd.choice(("", "", " ", "_")) for _ in range(rnd.randrange(1, 100))))
        query = rnd.sample(words, rnd.randrange(1, 5))
        terms = [Term(tuple(q.split()), phrase=" " in q) for q in query]
        phrases = list(dict.fromkeys(tuple(fold(w) for w in t.words) for t in terms))
        phrases.sort(key=lambda p: -sum(map(len, p)))
        alternation = "|".join(r"[\W_]+".join(map(re.escape, p)) for p in phrases)
        reference = re.compile(rf"(?<![^\W_])(?:{alternation})(?![^\W_])")
        assert match_spans(text, terms) == [m.span() for m in reference.finditer(fold(text))], (query, text)
