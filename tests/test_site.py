import pytest

from aelib.course import site

pytestmark = pytest.mark.slow     # builds three pages: executes their notebooks


def test_reading_copy_builds_pages_with_widget_state_and_an_index(reading_copy):
    out, code = reading_copy
    assert code == 0
    index = (out / "index.html").read_text()
    assert 'href="00_start_here.html"' in index and 'href="15_exam_revision.html"' in index
    page = (out / "00_start_here.html").read_text()
    assert "application/vnd.jupyter.widget-state+json" in page          # widgets keep their first state
    assert "environment check" in page and "widget callbacks work" in page   # executed: outputs are in the page
    assert "Traceback" not in page


def test_reading_copy_loads_its_scripts_from_its_own_folder(reading_copy):
    out, _ = reading_copy
    for name in ("00_start_here.html", "15_exam_revision.html"):
        page = (out / name).read_text()
        for url in (site.MATHJAX_URL, site.REQUIRE_URL, site.WIDGETS_URL):
            assert f'"{url}"' in page or f"'{url}'" in page or f"={url}" in page, (name, url)
        # nothing is fetched from elsewhere at load time (the template's Mermaid loader imports only for
        # Mermaid diagrams, which the notebooks do not have; the browser test blocks the network to prove it)
        assert 'src="http' not in page and "src='http" not in page and 'href="http' not in page.split("<body")[0]
    assert (out / "mathjax" / "MathJax.js").exists() and (out / "assets" / "embed-amd.js").exists()
    assert (out / "assets" / "require.js").exists()
    # the widget renderer's icon fonts, where it asks for them (relative to the page)
    for folder in (out / "@jupyter-widgets", out / "@jupyter-widgets" / "html-manager" / "dist"):
        assert len(list(folder.glob("*.woff2"))) == 3
