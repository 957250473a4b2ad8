"""Tests for minigrad.data: DataLoader, train_test_split, scalers, data sets, synthetic generators."""
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minigrad.data import (DataLoader, MinMaxScaler, NotFittedError, StandardScaler, load_breast_cancer,
                           load_diabetes, load_digits, load_wine, make_linear_regression,
                           make_sparse_features, make_spirals, train_test_split)

FAST = settings(max_examples=40, deadline=None)


# ----------------------------------------------------------------------------- DataLoader
def epoch_rows(loader):
    return [yb.tolist() for _, yb in loader]


@FAST
@given(n=st.integers(1, 60), bs=st.integers(1, 70), shuffle=st.booleans(), drop_last=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_loader_visits_every_sample_once_per_epoch(n, bs, shuffle, drop_last, seed):
    if drop_last and bs > n:
        with pytest.raises(ValueError, match="no batch"):
            DataLoader(np.zeros((n, 3)), np.arange(n), bs, drop_last=True)
        return
    X = np.arange(3 * n, dtype=np.float32).reshape(n, 3)
    y = np.arange(n)
    loader = DataLoader(X, y, batch_size=bs, shuffle=shuffle, drop_last=drop_last, rng=seed)
    expected_len = n // bs if drop_last else -(-n // bs)
    assert len(loader) == expected_len
    batches = list(loader)
    assert len(batches) == expected_len
    seen = np.concatenate([yb for _, yb in batches])
    for xb, yb in batches:
        assert xb.dtype == np.float32 and yb.dtype == y.dtype
        np.testing.assert_array_equal(xb, X[yb])                  # rows stay paired with their targets
        assert len(yb) == bs or (not drop_last and yb is batches[-1][1])
    assert len(np.unique(seen)) == len(seen)                         # no sample twice
    if drop_last:
        assert len(seen) == expected_len * bs
    else:
        np.testing.assert_array_equal(np.sort(seen), y)             # every sample once
    if not shuffle:
        np.testing.assert_array_equal(seen, y[:len(seen)])


def test_loader_same_seed_same_order_and_reshuffles_each_epoch():
    X, y = np.random.default_rng(1).normal(size=(50, 2)), np.arange(50)
    a = DataLoader(X, y, batch_size=8, shuffle=True, rng=123)
    b = DataLoader(X, y, batch_size=8, shuffle=True, rng=np.random.default_rng(123))
    epochs_a = [epoch_rows(a) for _ in range(3)]
    epochs_b = [epoch_rows(b) for _ in range(3)]
    assert epochs_a == epochs_b
    assert epochs_a[0] != epochs_a[1] != epochs_a[2]                 # a new permutation every epoch
    c = DataLoader(X, y, batch_size=8, shuffle=True, rng=124)
    assert epoch_rows(c) != epochs_a[0]


def test_loader_uses_a_shared_generator_and_batches_are_copies():
    gen = np.random.default_rng(0)
    X, y = np.arange(12.0).reshape(6, 2), np.arange(6)
    loader = DataLoader(X, y, batch_size=6, shuffle=True, rng=gen)
    before = gen.bit_generator.state
    xb, _ = next(iter(loader))
    assert gen.bit_generator.state != before                         # the caller's generator advanced
    xb[:] = -1
    np.testing.assert_array_equal(X, np.arange(12.0).reshape(6, 2))  # original data untouched


@pytest.mark.parametrize("kwargs, match", [
    (dict(batch_size=0), "batch_size must be a positive integer, got 0"),
    (dict(batch_size=2.5), "batch_size must be a positive integer, got 2.5"),
    (dict(batch_size=True), "batch_size must be a positive integer, got True"),
    (dict(rng="seed"), "rng must be a numpy.random.Generator"),
])
def test_loader_rejects_bad_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        DataLoader(np.zeros((4, 2)), np.zeros(4), **kwargs)


def test_loader_rejects_mismatched_or_empty_arrays():
    with pytest.raises(ValueError, match=r"same number of samples, got len\(X\)=4 and len\(y\)=3"):
        DataLoader(np.zeros((4, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="empty"):
        DataLoader(np.zeros((0, 2)), np.zeros(0))
    with pytest.raises(ValueError, match="one row per sample"):
        DataLoader(np.float64(1.0), np.zeros(1))


def collect(loader, n_epochs):
    return [[(xb.copy(), yb.copy()) for xb, yb in loader] for _ in range(n_epochs)]


def same_batches(a, b):
    assert len(a) == len(b)
    for (xa, ya), (xb, yb) in zip(a, b):
        assert np.array_equal(xa, xb) and np.array_equal(ya, yb)


def test_loader_resume_between_epochs_is_bit_identical():
    X, y = np.random.default_rng(2).normal(size=(37, 3)), np.arange(37)
    ref = DataLoader(X, y, batch_size=5, shuffle=True, rng=7)
    full = collect(ref, 4)
    run = DataLoader(X, y, batch_size=5, shuffle=True, rng=7)
    collect(run, 2)
    sd = run.state_dict()
    assert sd["batches_served"] == 0
    resumed = DataLoader(X, y, batch_size=5, shuffle=True, rng=999)   # a different seed, overwritten
    resumed.load_state_dict(sd)
    rest = collect(resumed, 2)
    for e in range(2):
        same_batches(rest[e], full[2 + e])


def test_loader_resume_mid_epoch_is_bit_identical():
    X, y = np.random.default_rng(3).normal(size=(30, 2)), np.arange(30)
    full = collect(DataLoader(X, y, batch_size=4, shuffle=True, rng=5), 3)
    run = DataLoader(X, y, batch_size=4, shuffle=True, rng=5)
    collect(run, 1)
    it = iter(run)
    for _ in range(3):
        next(it)
    sd = run.state_dict()                                 # saved after 3 batches of epoch 2
    assert sd["batches_served"] == 3
    resumed = DataLoader(X, y, batch_size=4, shuffle=True, rng=0)
    resumed.load_state_dict(sd)
    assert resumed.state_dict()["batches_served"] == 3    # a checkpoint of a restored loader is the same
    first = [(xb.copy(), yb.copy()) for xb, yb in resumed]
    same_batches(first, full[1][3:])
    same_batches(collect(resumed, 1)[0], full[2])


def test_loader_rejected_state_changes_nothing():
    loader = DataLoader(np.zeros((10, 1)), np.arange(10), batch_size=3, shuffle=True, rng=1)
    before = loader.state_dict()
    bad_states = [
        {"rng_state": {"bit_generator": "MT19937", "state": {}}, "batches_served": 0},
        {"rng_state": {"bit_generator": "PCG64", "state": "nonsense"}, "batches_served": 0},
        {"rng_state": before["rng_state"], "batches_served": 99},
        {"batches_served": 0},
    ]
    for bad in bad_states:
        with pytest.raises(ValueError, match="DataLoader.load_state_dict"):
            loader.load_state_dict(bad)
        assert loader.state_dict() == before


# ----------------------------------------------------------------------------- train_test_split
@FAST
@given(n=st.integers(2, 80), frac=st.floats(0.01, 0.99), seed=st.integers(0, 2**32 - 1))
def test_split_is_a_partition_with_sklearn_sizes(n, frac, seed):
    X, y = np.arange(2 * n).reshape(n, 2), np.arange(n) * 10
    n_test = int(np.ceil(frac * n))
    if not 1 <= n_test <= n - 1:
        with pytest.raises(ValueError, match="both must be >= 1"):
            train_test_split(X, y, test_size=frac, rng=seed)
        return
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=frac, rng=seed)
    assert len(X_te) == len(y_te) == n_test and len(X_tr) == len(y_tr) == n - n_test
    np.testing.assert_array_equal(X_tr[:, 0] * 5, y_tr)        # rows stay paired
    np.testing.assert_array_equal(X_te[:, 0] * 5, y_te)
    np.testing.assert_array_equal(np.sort(np.concatenate([y_tr, y_te])), y)


def test_split_sizes_match_sklearn_and_are_reproducible():
    from sklearn.model_selection import train_test_split as sk_split
    X, y = np.arange(2 * 97).reshape(97, 2), np.arange(97)
    for ts in (0.2, 0.25, 0.33, 10):
        ours = train_test_split(X, y, test_size=ts, rng=0)
        theirs = sk_split(X, y, test_size=ts, random_state=0)
        assert [a.shape for a in ours] == [a.shape for a in theirs]
    a = train_test_split(X, y, rng=42)
    b = train_test_split(X, y, rng=np.random.default_rng(42))
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    c = train_test_split(X, y, rng=43)
    assert not np.array_equal(a[3], c[3])


@FAST
@given(counts=st.lists(st.integers(2, 40), min_size=2, max_size=5), frac=st.floats(0.1, 0.5),
       seed=st.integers(0, 1000))
def test_stratified_split_keeps_class_shares(counts, frac, seed):
    y = np.repeat(np.arange(len(counts)), counts)
    X = np.arange(len(y))[:, None]
    n, n_test = len(y), int(np.ceil(frac * len(y)))
    if n_test < len(counts) or n - n_test < len(counts):
        with pytest.raises(ValueError, match="classes both parts need"):
            train_test_split(X, y, test_size=frac, rng=seed, stratify=y)
        return
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=frac, rng=seed, stratify=y)
    assert len(y_te) == n_test
    np.testing.assert_array_equal(y[X_te[:, 0]], y_te)
    for k, c in enumerate(counts):
        share = c * n_test / n
        assert abs(np.sum(y_te == k) - share) < 1
        assert abs(np.sum(y_tr == k) - c * (n - n_test) / n) < 1


def test_split_errors_and_no_shuffle():
    X, y = np.arange(10)[:, None], np.arange(10)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=3, shuffle=False)
    np.testing.assert_array_equal(y_tr, np.arange(7))
    np.testing.assert_array_equal(y_te, [7, 8, 9])
    with pytest.raises(ValueError, match="same number of samples"):
        train_test_split(X, y[:-1])
    with pytest.raises(ValueError, match=r"must be in \(0, 1\), got 1.5"):
        train_test_split(X, y, test_size=1.5)
    with pytest.raises(ValueError, match="between 1 and n_samples - 1 = 9"):
        train_test_split(X, y, test_size=10)
    with pytest.raises(ValueError, match=r"classes \[2.0\] have a single member"):
        train_test_split(X, np.r_[np.zeros(5), np.ones(4), 2], stratify=np.r_[np.zeros(5), np.ones(4), 2])
    with pytest.raises(ValueError, match="needs shuffle=True"):
        train_test_split(X, y, shuffle=False, stratify=y % 2)


# ----------------------------------------------------------------------------- scalers
def data_with_constant_columns(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(loc=50.0, scale=[1e-3, 1.0, 30.0, 1.0, 1.0], size=(40, 5))
    X[:, 3] = 7.0                                  # exactly constant
    X[:, 4] = 0.1                                  # constant with a non-representable value
    return X


@pytest.mark.parametrize("with_mean, with_std", [(True, True), (False, True), (True, False)])
def test_standard_scaler_matches_sklearn(with_mean, with_std):
    from sklearn.preprocessing import StandardScaler as SkStandardScaler
    X = data_with_constant_columns()
    X_test = np.random.default_rng(9).normal(size=(7, 5)) * 20
    ours = StandardScaler(with_mean=with_mean, with_std=with_std).fit(X)
    ref = SkStandardScaler(with_mean=with_mean, with_std=with_std).fit(X)
    for attr in ("mean_", "var_", "scale_"):
        if getattr(ref, attr) is None:
            assert getattr(ours, attr) is None
        else:
            # atol: a constant 0.1 column has variance 0 or ~1e-33 depending on the summation order
            np.testing.assert_allclose(getattr(ours, attr), getattr(ref, attr), rtol=1e-12, atol=1e-30)
    np.testing.assert_allclose(ours.transform(X_test), ref.transform(X_test), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(ours.inverse_transform(X_test), ref.inverse_transform(X_test), rtol=1e-12)
    assert ours.n_features_in_ == 5 and ours.n_samples_seen_ == 40


def test_standard_scaler_standardizes_train_and_handles_constant_columns():
    X = data_with_constant_columns()
    sc = StandardScaler()
    Z = sc.fit_transform(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-9)    # column 0: mean/std = 5e4 cancels digits
    np.testing.assert_allclose(Z[:, :3].std(axis=0), 1, rtol=1e-12)
    np.testing.assert_array_equal(sc.scale_[3:], [1.0, 1.0])    # constant columns: scale 1, not 0
    assert np.all(np.abs(Z[:, 3:]) < 1e-12)
    np.testing.assert_allclose(sc.inverse_transform(Z), X, rtol=1e-13)


@pytest.mark.parametrize("feature_range, clip", [((0, 1), False), ((-1, 1), True), ((2, 5), False)])
def test_minmax_scaler_matches_sklearn(feature_range, clip):
    from sklearn.preprocessing import MinMaxScaler as SkMinMaxScaler
    X = data_with_constant_columns(1)
    X_test = np.random.default_rng(4).normal(loc=50, scale=40, size=(6, 5))
    ours = MinMaxScaler(feature_range, clip=clip).fit(X)
    ref = SkMinMaxScaler(feature_range=feature_range, clip=clip).fit(X)
    for attr in ("data_min_", "data_max_", "data_range_", "scale_", "min_"):
        np.testing.assert_allclose(getattr(ours, attr), getattr(ref, attr), rtol=1e-12, atol=0)
    np.testing.assert_allclose(ours.transform(X_test), ref.transform(X_test), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.inverse_transform(X_test), ref.inverse_transform(X_test), rtol=1e-12)
    Z = ours.transform(X)
    assert Z.min() >= feature_range[0] - 1e-12 and Z.max() <= feature_range[1] + 1e-12


def test_scalers_fit_on_train_only():
    rng = np.random.default_rng(0)
    X_train, X_test = rng.normal(3.0, 2.0, size=(200, 2)), rng.normal(10.0, 5.0, size=(50, 2))
    sc = StandardScaler().fit(X_train)
    np.testing.assert_allclose(sc.transform(X_test), (X_test - X_train.mean(0)) / X_train.std(0), rtol=1e-12)
    mm = MinMaxScaler().fit(X_train)
    assert mm.transform(X_test).max() > 1                   # test rows outside the training range stay outside


@pytest.mark.parametrize("cls", [StandardScaler, MinMaxScaler])
def test_scaler_errors(cls):
    sc = cls()
    for method in ("transform", "inverse_transform"):
        with pytest.raises(NotFittedError, match=f"{cls.__name__} is not fitted yet: call fit\\(X_train\\) first"):
            getattr(sc, method)(np.zeros((2, 64)))
    with pytest.raises(ValueError):             # NotFittedError is also a ValueError, like sklearn's
        sc.transform(np.zeros((2, 64)))
    sc.fit(np.random.default_rng(0).normal(size=(10, 64)))
    with pytest.raises(ValueError, match=f"^X has 5 features, but {cls.__name__} was fitted with 64 features$"):
        sc.transform(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="Reshape your data"):
        sc.transform(np.zeros(64))
    with pytest.raises(ValueError, match="NaN or infinity"):
        cls().fit(np.array([[1.0], [np.nan]]))
    before = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in vars(sc).items()}
    with pytest.raises(ValueError):
        sc.fit(np.zeros((0, 3)))                          # a rejected fit keeps the old statistics
    for k, v in vars(sc).items():
        assert np.array_equal(v, before[k]) if isinstance(v, np.ndarray) else v == before[k]


def test_scaler_dtypes():
    X32 = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)
    assert StandardScaler().fit_transform(X32).dtype == np.float32
    assert MinMaxScaler().fit_transform(np.arange(6).reshape(3, 2)).dtype == np.float64
    with pytest.raises(ValueError, match="minimum of the desired feature range"):
        MinMaxScaler(feature_range=(1, 0))


# ----------------------------------------------------------------------------- bundled data sets
@pytest.mark.parametrize("loader, shape, n_classes", [
    (load_digits, (1797, 64), 10), (load_breast_cancer, (569, 30), 2),
    (load_wine, (178, 13), 3), (load_diabetes, (442, 10), None)])
def test_bundled_datasets(loader, shape, n_classes):
    X, y = loader()
    assert X.shape == shape and X.dtype == np.float64 and X.flags.c_contiguous
    assert y.shape == (shape[0],)
    if n_classes is None:
        assert y.dtype == np.float64
    else:
        assert y.dtype == np.int64 and set(np.unique(y)) == set(range(n_classes))


def test_diabetes_raw_by_default():
    X_raw, _ = load_diabetes()
    X_scaled, _ = load_diabetes(scaled=True)
    assert X_raw[:, 0].min() >= 18 and X_raw[:, 0].max() <= 80          # age in years
    np.testing.assert_allclose(X_scaled.mean(axis=0), 0, atol=1e-12)


def test_dataset_loader_without_sklearn_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)                  # makes `import sklearn` fail
    with pytest.raises(ImportError, match=r"load_wine\(\).*pip install scikit-learn"):
        load_wine()


def test_importing_minigrad_data_does_not_import_sklearn():
    import subprocess
    code = "import sys, minigrad.data; assert 'sklearn' not in sys.modules, 'sklearn imported eagerly'"
    subprocess.run([sys.executable, "-c", code], check=True)


# ----------------------------------------------------------------------------- synthetic
@FAST
@given(d=st.integers(2, 12), extra=st.integers(1, 60), log_kappa=st.floats(0.0, 7.0), seed=st.integers(0, 10**6))
def test_linear_regression_has_exactly_the_condition_number(d, extra, log_kappa, seed):
    kappa = 10.0 ** log_kappa
    n = d + extra
    X, y, w = make_linear_regression(n, d, condition_number=kappa, rng=seed, return_coef=True)
    assert X.shape == (n, d) and y.shape == (n,)
    eig = np.linalg.eigvalsh(X.T @ X / n)
    np.testing.assert_allclose(eig.max(), 1.0, rtol=1e-9)
    np.testing.assert_allclose(eig.max() / eig.min(), kappa, rtol=1e-7)
    np.testing.assert_allclose(np.linalg.cond(X.T @ X), kappa, rtol=1e-7)
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-12)      # centred columns
    np.testing.assert_allclose(y, X @ w, rtol=1e-12, atol=1e-12)    # noise=0: exact linear target


def test_linear_regression_noise_and_reproducibility():
    X, y, w = make_linear_regression(4000, 3, condition_number=5.0, noise=0.5, rng=0, return_coef=True)
    assert abs(np.std(y - X @ w) - 0.5) < 0.03
    a = make_linear_regression(50, 4, 100.0, 0.1, rng=3)
    b = make_linear_regression(50, 4, 100.0, 0.1, rng=3)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    X1, _ = make_linear_regression(10, 1, 1.0, rng=0)
    assert X1.shape == (10, 1)
    with pytest.raises(ValueError, match="condition_number must be a finite number >= 1, got 0.5"):
        make_linear_regression(10, 3, 0.5)
    with pytest.raises(ValueError, match="n_samples must exceed n_features"):
        make_linear_regression(3, 3, 2.0)
    with pytest.raises(ValueError, match="single feature"):
        make_linear_regression(10, 1, 2.0)


def test_spirals_geometry():
    X, y = make_spirals(201, noise=0.0, rng=0, shuffle=False)
    assert X.shape == (201, 2) and X.dtype == np.float64 and y.dtype == np.int64
    assert np.sum(y == 0) == 100 and np.sum(y == 1) == 101
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose([r.min(), r.max()], [0.1, 1.0], rtol=1e-12)
    Xe, ye = make_spirals(200, noise=0.0, shuffle=False)
    np.testing.assert_allclose(Xe[ye == 1], -Xe[ye == 0], atol=1e-12)   # class 1 = class 0 turned by pi
    # interleaved: no straight line separates them, but a nearest-neighbour rule (the spirals) does
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    Xn, yn = make_spirals(400, noise=0.02, rng=1)
    assert LogisticRegression().fit(Xn, yn).score(Xn, yn) < 0.75
    assert KNeighborsClassifier(3).fit(Xn[::2], yn[::2]).score(Xn[1::2], yn[1::2]) > 0.95


def test_spirals_noise_and_shuffle():
    Xa, ya = make_spirals(300, noise=0.1, rng=5)
    Xb, yb = make_spirals(300, noise=0.1, rng=5)
    assert np.array_equal(Xa, Xb) and np.array_equal(ya, yb)
    assert 0.2 < np.mean(ya[:150]) < 0.8                              # shuffled, not class-sorted
    clean, _ = make_spirals(300, noise=0.0, rng=5, shuffle=False)
    noisy, _ = make_spirals(300, noise=0.1, rng=5, shuffle=False)
    assert abs(np.std(noisy - clean) - 0.1) < 0.01
    with pytest.raises(ValueError, match="noise must be a finite number >= 0"):
        make_spirals(10, noise=-1)


def test_sparse_features_generative_model():
    n, d, k, rho = 20000, 12, 4, 0.03
    X, y, w = make_sparse_features(n, d, k, density=rho, noise=0.0, rng=0, return_coef=True)
    inf = np.flatnonzero(w)
    assert X.shape == (n, d) and len(inf) == k
    assert np.all((np.abs(w[inf]) >= 1) & (np.abs(w[inf]) <= 2))
    freq = (X[:, inf] != 0).mean(axis=0)
    sd = np.sqrt(rho * (1 - rho) / n)
    assert np.all(np.abs(freq - rho) < 5 * sd)                           # rare: Bernoulli(rho) support
    dense = np.setdiff1d(np.arange(d), inf)
    assert np.all(X[:, dense] != 0)                                      # uninformative columns are dense
    np.testing.assert_allclose(X[:, dense].std(axis=0), 1, atol=0.05)
    np.testing.assert_allclose(y, X @ w, rtol=1e-12, atol=1e-12)
    # the curvature of the MSE along a rare weight is ~rho times that along a dense one
    diag = (X ** 2).mean(axis=0)
    assert np.all(diag[inf] < 3 * rho) and np.all(diag[dense] > 0.9)


def test_sparse_features_every_informative_column_is_used():
    X, y, w = make_sparse_features(30, 8, 8, density=1e-4, rng=1, return_coef=True)
    assert np.all((X != 0).sum(axis=0) >= 1)
    Xa, ya = make_sparse_features(100, 5, 2, rng=7)
    Xb, yb = make_sparse_features(100, 5, 2, rng=7)
    assert np.array_equal(Xa, Xb) and np.array_equal(ya, yb)
    with pytest.raises(ValueError, match="n_informative=6 cannot exceed n_features=5"):
        make_sparse_features(10, 5, 6)
    with pytest.raises(ValueError, match=r"density must be in \(0, 1\], got 0"):
        make_sparse_features(10, 5, 2, density=0)
