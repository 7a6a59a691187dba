"""The README is a newcomer's first page: every page and screenshot it points to is there."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Markdown links and images to files in the repository, not to web addresses or anchors.
LOCAL_LINK = re.compile(r"\]\((?!https?://|#)([^)#\s]+)")


def test_every_local_link_in_the_readme_and_docs_points_to_a_file():
    missing = [
        f"{page.relative_to(ROOT)}: {target}"
        for page in PAGES
        for target in LOCAL_LINK.findall(page.read_text())
        if not (page.parent / target).is_file()
    ]
    assert not missing
    assert len(LOCAL_LINK.findall((ROOT / "README.md").read_text())) >= 10


def test_the_readme_names_the_demo_users_and_where_the_emails_land(settings):
    readme = (ROOT / "README.md").read_text()
    for username in ("csr", "csr2", "resolver", "manager", "admin"):
        assert f"`{username}`" in readme
    assert f"`{settings.DEMO_PASSWORD}`" in readme
    assert "var/mail/" in readme


def test_every_part_the_architecture_map_names_is_in_complaints():
    section = (ROOT / "docs" / "architecture.md").read_text()
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    named = [
        name for row in rows for name in re.findall(r"`([a-z_]+(?:/|\.py))`", row.split("|")[1])
    ]
    assert len(named) >= 12
    assert [name for name in named if not (ROOT / "complaints" / name).exists()] == []
