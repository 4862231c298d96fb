"""How a measure's legal source reads as one line: Chinese without a space, Latin with one."""

from portal.rules.model import Source


def _cite(document: str | None, article: str | None) -> str:
    return Source(document, article, None, None, None).citation()


def test_a_chinese_document_and_article_run_on_without_a_space() -> None:
    assert _cite("广州市人工智能产业链高质量发展三年行动计划（2021—2023年）", "场景应用示范资助条款") == (
        "广州市人工智能产业链高质量发展三年行动计划（2021—2023年）场景应用示范资助条款"
    )
    assert _cite("国科发火〔2016〕32号", "第十一条") == "国科发火〔2016〕32号第十一条"


def test_the_articles_of_several_documents_follow_a_comma() -> None:
    """Each article names its document; run on, the last document's number and the first
    article's read as one (…公告2021年第10号2020年第45号第三条)."""
    documents, articles = (
        "财政部公告2020年第45号；财政部公告2021年第10号",
        "2020年第45号第三条；2021年第10号 条件",
    )
    assert _cite(documents, articles) == f"{documents}，{articles}"


def test_latin_words_keep_their_space() -> None:
    assert _cite("Enterprise Income Tax Law", "Article 28") == "Enterprise Income Tax Law Article 28"


def test_either_part_alone_is_the_citation() -> None:
    assert _cite("海科工商信规字〔2024〕1号", None) == "海科工商信规字〔2024〕1号"
    assert _cite(None, "第五条") == "第五条"
    assert _cite(None, None) == ""
