"""The public pages in a real browser: the self-check flow, the language switch, accessibility, CSP."""

from playwright.sync_api import Page, expect

from tests.browser.conftest import axe_violations, screenshot


def test_home_page_is_accessible(page: Page) -> None:
    page.goto("/")
    expect(page.locator("h1")).to_contain_text("惠企政策")
    screenshot(page, "home-zh")
    assert axe_violations(page) == []


def test_self_check_flow_shows_badges(page: Page) -> None:
    page.goto("/self-check")
    assert axe_violations(page) == []
    page.select_option("#f-enterprise-district", "tianhe")
    page.fill("#f-enterprise-registered_on", "2018-03-01")
    page.fill("#f-enterprise-employees", "120")
    page.fill("#f-enterprise-st_staff", "40")
    page.fill("#f-enterprise-revenue", "40000000")
    page.fill("#f-enterprise-total_assets", "60000000")
    page.fill("#f-enterprise-rd_expense", "3000000")
    page.select_option("#f-enterprise-is_sme", "true")
    page.get_by_role("button", name="开始计算").click()
    expect(page.locator("#results-title")).to_have_text("计算结果")
    badges = page.locator(".badge")
    expect(badges.first).to_be_visible()
    texts = set(badges.all_inner_texts())
    assert texts <= {"可申报", "不符合", "需补充信息", "未生效"}
    assert "需补充信息" in texts
    page.locator("details.criteria summary").first.click()
    expect(page.locator(".criterion").first).to_be_visible()
    screenshot(page, "self-check-results-zh")
    assert axe_violations(page) == []


def test_errors_are_announced_next_to_the_field(page: Page) -> None:
    page.goto("/self-check")
    page.fill("#f-enterprise-revenue", "-5")
    page.get_by_role("button", name="开始计算").click()
    field = page.locator("#f-enterprise-revenue")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-enterprise-revenue-error")).to_be_visible()
    assert axe_violations(page) == []


def test_language_switch(page: Page) -> None:
    page.goto("/self-check")
    page.get_by_role("link", name="切换语言").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Policy calculator")
    page.get_by_role("button", name="Check eligibility").click()
    expect(page.locator("#results-title")).to_have_text("Results")
    screenshot(page, "self-check-en")
    page.get_by_role("link", name="Change language").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


def test_csp_blocks_injected_inline_script(page: Page) -> None:
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text))
    page.goto("/")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.__pwned = 1';"
        " document.body.appendChild(s); }"
    )
    assert page.evaluate("() => window.__pwned") is None
    assert any("Content Security Policy" in m for m in messages)


def test_an_any_of_group_reads_as_a_group_in_both_languages_and_fits_a_phone(
    page: Page, base_url: str
) -> None:
    """The algorithm voucher's "any one of" group: its options numbered under it, the ones it did not
    need read as such; accessible, and no sideways scrolling at 390 px, in zh and en."""
    for lang, covered in (("zh", "未满足（已由其他条件满足）"), ("en", "Not met (another option is met)")):
        page.context.add_cookies([{"name": "lang", "value": lang, "url": base_url}])
        page.goto("/self-check?measure=subsidy.compute_voucher")
        page.select_option("#f-enterprise-district", "tianhe")
        page.fill("#f-enterprise-ai_rd_expense", "30000000")
        page.fill("#f-enterprise-ai_revenue", "1000000")
        page.fill("#f-enterprise-certified_ai_staff", "2")
        page.fill("#f-enterprise-compute_purchase", "1000000")
        page.locator("form button[type=submit]").last.click()
        expect(page.locator("#results-title")).to_be_visible()
        page.locator("details.criteria summary").first.click()
        option = page.locator(".criterion", has=page.locator(".criterion-number", has_text="2.2"))
        expect(option.locator(".criterion-outcome")).to_have_text(covered)
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            assert page.evaluate("document.documentElement.scrollWidth <= innerWidth"), (lang, width)
            screenshot(page, f"self-check-any-of-{lang}-{width}")
        assert axe_violations(page) == []
        page.set_viewport_size({"width": 1280, "height": 900})
