"""The checkers themselves: when they find nothing on a page, it is because there is nothing."""

import pytest

from tests.browser.conftest import SCRIPT_PROBLEMS, axe_violations, watch_scripts

pytestmark = pytest.mark.integration


@pytest.fixture
def blank_page(browser):
    context = browser.new_context()
    try:
        yield watch_scripts(context.new_page())
    finally:
        context.close()


def test_axe_reports_an_unlabelled_field_as_critical(blank_page):
    blank_page.set_content(
        "<html lang='en'><title>t</title><main><input type='text'></main></html>"
    )
    violations = axe_violations(blank_page)
    assert [(v["id"], v["impact"]) for v in violations] == [("label", "critical")]


def test_scripts_refused_by_the_content_security_policy_are_recorded(blank_page):
    blank_page.set_content(
        "<html><head><meta http-equiv='Content-Security-Policy' content=\"script-src 'self'\">"
        "</head><body><script>document.title = 'ran'</script></body></html>"
    )
    assert blank_page.title() != "ran"
    problems = SCRIPT_PROBLEMS[blank_page]
    assert any("Content Security Policy" in problem for problem in problems), problems
