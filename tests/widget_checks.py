"""Widget callbacks checked in each notebook's own kernel, after nbval has run the notebook's last cell.

The notebooks' Checks cells hold the lessons' asserts; moving a slider and reading the caption is a test of
the widget code, so it lives here. ``conftest.py`` adds one item per notebook, run by nbval's kernel right after
that notebook's cells (the widgets and models the notebook built are there). Each snippet ends by putting
every widget back at its first values (``reset_shown``) and checking that it did.
"""

RESET = """
from aelib.widgets import _SHOWN, reset_shown
reset_shown()
assert all(c.value == v for w in _SHOWN for c, v in zip(w.controls, w._first_shown)), "a widget did not reset"
"""

WIDGET_CHECKS = {
    "01": """
# The widgets show what they claim.
explorer.x_slider.value = explorer.x_slider.min
assert explorer.z[0] == explorer.x_slider.min and explorer.decoded.shape == (28, 28)
bottleneck.control.value = 32
assert "k = 32" in bottleneck.caption
latent_pad.index[0].value = 3                                     # the keyboard path: type 3, Enter
assert np.allclose(latent_pad.inputs[0], x_test[3], atol=1e-4) and latent_pad.caption.startswith("code z")
""",
    "02": """
loss_explorer.controls[0].value = 0.5
assert "0.693" in loss_explorer.caption                           # ln 2 at x = 0.5
loss_browser.control.value = "L1"
assert "L1" in loss_browser.caption
""",
    "03": """
width_browser.controls[0].value = 256
width_browser.controls[1].value = "denoising"
assert width_browser.value == (256, "denoising") and "gain G" in width_browser.caption
""",
    "04": """
regulariser_explorer.controls[0].value = "contractive"
regulariser_explorer.controls[1].value = 3
assert regulariser_explorer.caption.startswith("<b>contractive</b>, strength 1")
""",
    "05": """
denoiser_widget.kind.value = "salt_and_pepper"
denoiser_widget.level.value = 0.4
assert denoiser_widget.psnr["denoising AE"] > denoiser_widget.psnr["noisy"], denoiser_widget.psnr
repair_pad.index[0].value = 5
assert np.allclose(repair_pad.inputs[0], x_test[5], atol=1e-4) and repair_rows.images.shape == (3, 3, 784)
""",
    "06": """
detector_explorer.controls[0].value = 0
detector_explorer.controls[1].value = 90.0
assert (
    detector_explorer.caption.startswith("anomaly <b>0</b>")
    and "recall" in detector_explorer.caption
)
two = int(np.argmax(y_test == 2))
score_pad.index[0].value = two
assert np.isclose(score_figure.score, pad_detector["ae"][two], rtol=1e-4), score_figure.score
""",
    "07": """
recipe_explorer.controls[0].value = "D ReLU + He + Adam"
assert recipe_explorer.caption.startswith("D ReLU + He + Adam: test error")
""",
    "08": """
sample_browser.controls[0].value = "AE, N(0, I)"
assert sample_browser.value == ("AE, N(0, I)", 0) and "confidence" in sample_browser.caption
vae_explorer.x_slider.value = 2.0
assert vae_explorer.decoded.shape == (28, 28)
""",
    "09": """
posterior_explorer.controls[1].value = 7
assert posterior_explorer.caption.count("(") == 7
""",
    "10": """
beta_explorer.controls[0].value = 4.0
assert beta_explorer.caption.startswith("β = <b>4.0</b>")
posterior_pad.index[0].value = 4
assert np.allclose(posterior_figure.z[0], models[1.0].posterior_mean(x_test[4:5])[0], atol=1e-5)
""",
    "11": """
temperature_browser.controls[0].value = 0.25
assert temperature_browser.caption.startswith("τ = 0.25, mean")
interpolation_explorer.t.value = 1.0
assert np.allclose(interpolation_explorer.current["pixels"], x_test[1])
paths_pad.index[1].value = 2                                      # digit B: test image 2
assert np.allclose(path_rows.images[0, -1], x_test[2], atol=1e-6)
""",
    "12": """
regime_explorer.controls[0].value = "leaky + free bits"
assert "leaky + free bits" in regime_explorer.caption
k_explorer.controls[0].value = 64
assert k_explorer.caption.startswith("k = 64")
""",
    "13": """
style_explorer.controls[0].value = 1.5
assert "recognises" in style_explorer.caption
""",
    "14": """
gan_explorer.controls[1].value = 1.0
assert gan_explorer.caption.endswith("(t = 1.00)")
""",
    "15": """
mock.answers[0].value = "My answer, written before looking at the marking points."
assert "Marking points" in mock.reveal(0)
mock.answers[0].value, mock.keys[0].value = "", ""   # the paper back as a student first sees it
""",
}
