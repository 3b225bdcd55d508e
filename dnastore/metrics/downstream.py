"""The eight scikit-learn classifiers of NECST's downstream experiment (supplement B.6,
after Grover & Ermon 2019): library defaults except KNN n_neighbors=3, DT max_depth=5,
RF max_depth=5 n_estimators=10 max_features=1, MLP alpha=1, SVC linear with C=0.025.
scikit-learn is a benchmark extra (``pip install dnastore[bench]``)."""

from __future__ import annotations

from typing import Any


def downstream_classifiers(seed: int = 0) -> dict[str, Any]:
    from sklearn.discriminant_analysis import QuadraticDiscriminantAnalysis
    from sklearn.ensemble import AdaBoostClassifier, RandomForestClassifier
    from sklearn.naive_bayes import GaussianNB
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeClassifier
    return {
        "KNN": KNeighborsClassifier(n_neighbors=3),
        "DT": DecisionTreeClassifier(max_depth=5, random_state=seed),
        "RF": RandomForestClassifier(max_depth=5, n_estimators=10, max_features=1, random_state=seed),
        "MLP": MLPClassifier(alpha=1, random_state=seed),
        "AdaB": AdaBoostClassifier(random_state=seed),
        "NB": GaussianNB(),
        "QDA": QuadraticDiscriminantAnalysis(),
        "SVM": SVC(kernel="linear", C=0.025, random_state=seed),
    }
