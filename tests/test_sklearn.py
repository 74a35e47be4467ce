"""EvolvedClassifier: a dlgene search behaving as a scikit-learn classifier (tiny budgets)."""

from __future__ import annotations

import numpy as np
import pytest
from export_helpers import tiny_config
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils import estimator_checks as checks

from dlgene_core import Clade
from dlgene_core.sklearn import EvolvedClassifier

pytestmark = pytest.mark.slow

# The estimator_checks that apply to a classifier whose fit is a whole architecture search:
# the contract checks that need no fit, and the input checks that must fail before
# training starts. Left out: the checks that fit many times on random data (train,
# predictions, idempotence, pickling of a fitted Keras model, sample weights, ...), which
# would take many minutes per run and test Keras rather than the estimator contract.
CONTRACT_CHECKS = (
    checks.check_parameters_default_constructible,
    checks.check_no_attributes_set_in_init,
    checks.check_get_params_invariance,
    checks.check_set_params,
    checks.check_do_not_raise_errors_in_init_or_set_params,
    checks.check_estimator_cloneable,
    checks.check_estimator_repr,
    checks.check_estimator_tags_renamed,
    checks.check_valid_tag_types,
    checks.check_mixin_order,
    checks.check_estimators_unfitted,
)
INPUT_CHECKS = (
    checks.check_classifiers_one_label,
    checks.check_classifiers_regression_target,
    checks.check_estimators_empty_data_messages,
    checks.check_fit1d,
    checks.check_complex_data,
    checks.check_requires_y_none,
)


def _digits(n: int = 600) -> tuple[np.ndarray, np.ndarray]:
    bunch = load_digits()
    return bunch.data[:n].astype(np.float32), bunch.target[:n]


def _tiny(**changes) -> dict:
    return tiny_config(epochs=(2, 2), **changes).to_dict()


@pytest.fixture(scope="module")
def fitted(tmp_path_factory) -> tuple[EvolvedClassifier, np.ndarray, np.ndarray]:
    x, y = _digits()
    labels = np.array([f"digit-{v}" for v in y])  # any labels: classes_ keeps them
    model = EvolvedClassifier(_tiny(), folder=tmp_path_factory.mktemp("sk"))
    assert model.fit(x / 16.0, labels) is model
    return model, x / 16.0, labels


@pytest.mark.parametrize("check", CONTRACT_CHECKS + INPUT_CHECKS, ids=lambda c: c.__name__)
def test_sklearn_estimator_checks(check, tmp_path) -> None:
    check(type(EvolvedClassifier).__name__, EvolvedClassifier(_tiny(), folder=tmp_path))


def test_fit_gives_the_fitted_attributes(fitted) -> None:
    model, x, labels = fitted
    assert list(model.classes_) == sorted(set(labels))
    assert model.n_features_in_ == 64
    assert isinstance(model.clade_, Clade)
    assert model.model_id_ == model.clade_.best(1)["model_id"].iloc[0]
    assert model.best_model_.optimizer is not None  # compiled
    probs = model.predict_proba(x[:50])
    assert probs.shape == (50, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    predicted = model.predict(x[:50])
    assert set(predicted) <= set(model.classes_)
    assert list(predicted) == list(model.classes_[probs.argmax(axis=1)])
    accuracy = model.score(x, labels)
    assert accuracy == pytest.approx(np.mean(model.predict(x) == labels))
    assert accuracy > 0.5  # 10 classes: far above chance after 2 epochs
    with pytest.raises(ValueError, match="expecting 64 features"):
        model.predict(x[:, :10])


def test_clone_and_params_follow_the_contract(fitted) -> None:
    model, _, _ = fitted
    copy = clone(model)
    assert copy.get_params().keys() == model.get_params().keys()
    assert copy.get_params()["config"] == model.get_params()["config"]
    with pytest.raises(NotFittedError):
        copy.predict(np.zeros((1, 64)))
    assert copy.set_params(generations=2, refit=True) is copy
    assert copy.get_params()["generations"] == 2 and copy.refit is True
    with pytest.raises(ValueError, match="nope"):
        copy.set_params(nope=1)


def test_pipeline_and_cross_val_score(tmp_path) -> None:
    x, y = _digits(400)
    pipe = make_pipeline(MinMaxScaler(), EvolvedClassifier(_tiny(), folder=tmp_path))
    pipe.set_params(evolvedclassifier__generations=1)
    scores = cross_val_score(pipe, x, y, cv=2)
    assert scores.shape == (2,)
    assert np.all((scores > 0.15) & (scores <= 1.0))  # chance is 0.1; 2 epochs on 130 rows
    assert len(list(tmp_path.iterdir())) == 2  # one experiment folder per fit


def test_refit_option_predicts_with_the_final_model(tmp_path) -> None:
    x, y = _digits(300)
    model = EvolvedClassifier(_tiny(), folder=tmp_path, refit=True).fit(x / 16.0, y + 1)
    assert model.model_id_.startswith("final-")
    assert list(model.classes_) == list(range(1, 11))
    assert set(model.predict(x[:20] / 16.0)) <= set(range(1, 11))
