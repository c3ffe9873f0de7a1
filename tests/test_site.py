from aelib import site


def test_reading_copy_builds_pages_with_widget_state_and_an_index(tmp_path):
    assert site.main(["00", "15", "--output", str(tmp_path)]) == 0
    index = (tmp_path / "index.html").read_text()
    assert 'href="00_start_here.html"' in index and 'href="15_exam_revision.html"' in index
    page = (tmp_path / "00_start_here.html").read_text()
    assert "application/vnd.jupyter.widget-state+json" in page          # widgets keep their first state
    assert "environment check" in page and "widget callbacks work" in page   # executed: outputs are in the page
    assert "Traceback" not in page
