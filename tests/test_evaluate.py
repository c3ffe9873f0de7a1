import pytest
import numpy as np

from aelib import data, evaluate


@pytest.mark.slow
def test_classifier_is_accurate_and_confidence_and_entropy_behave():
    clf = evaluate.digit_classifier()
    assert evaluate.digit_classifier() is clf                      # trained once per process
    split = data.load_split("mnist")
    p = evaluate.probabilities(clf, split.x_test)
    assert p.shape == (1000, 10) and np.allclose(p.sum(1), 1, atol=1e-5)
    assert 0.925 < (p.argmax(1) == split.y_test).mean() < 0.945       # the docstring's "about 93.5 %"
    assert evaluate.confidence(clf, split.x_test).mean() > evaluate.confidence(clf, np.full((50, 784), 0.3)).mean()
    assert evaluate.label_entropy(clf, split.x_test) > 2.2
    collapsed = evaluate.label_entropy(clf, np.repeat(split.x_test[:1], 30, 0))
    assert collapsed == 0.0 and str(collapsed) == "0.0"                 # not "-0.0" when printed
