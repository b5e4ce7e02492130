"""Classification reports as tables: per-class precision, recall, F1 and support.

Used after phase-one training (validation tiles) and in phase two (classified pixels against
the class raster). The table has the columns ``Class, Precision, Recall, F1_score, Support``
and one row per class name, then ``Accuracy``, ``Macro_avg`` and ``Weighted_avg``, values
rounded to 3 digits (the published reports print 3 digits).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from seeice.errors import DataError

REPORT_COLUMNS = ("Class", "Precision", "Recall", "F1_score", "Support")
DIGITS = 3


def _check_inputs(truth, predicted, class_names, labels):
    truth = np.asarray(truth).ravel()
    predicted = np.asarray(predicted).ravel()
    if truth.shape != predicted.shape:
        raise DataError(f"classification report: {truth.size} true labels but "
                        f"{predicted.size} predictions.")
    if truth.size == 0:
        raise DataError("classification report: no samples to compare.")
    labels = list(labels)
    class_names = [str(n) for n in class_names]
    if len(class_names) != len(labels):
        raise DataError(f"classification report: {len(class_names)} class names for "
                        f"{len(labels)} labels.")
    return truth, predicted, class_names, labels


def classification_report_frame(truth: np.ndarray, predicted: np.ndarray,
                                class_names: Sequence[str],
                                labels: Sequence[int],
                                sample_weight: np.ndarray | None = None) -> pd.DataFrame:
    """Per-class precision, recall, F1 and support as a DataFrame.

    Parameters
    ----------
    truth, predicted : numpy.ndarray
        True and predicted class numbers, same shape (any; flattened).
    class_names : sequence of str
        Names of ``labels``, in the same order.
    labels : sequence of int
        Class numbers to report (for example 1..n). Classes absent from both arrays get rows
        of zeros but are left out of ``Macro_avg`` (as a report over the classes that occur
        would do), so that a scheme with unused classes (the fluvial scheme on imagery with
        three of its five classes) does not see its macro average pulled towards 0; samples
        whose true or predicted class is not in ``labels`` count as wrong in ``accuracy``
        and are left out of the per-class rows.
    sample_weight : numpy.ndarray, optional
        Same shape as ``truth``: how many samples each (truth, predicted) entry stands for.
        A whole image is scored from its distinct (truth, predicted) pairs and their pixel
        counts, which gives the report of all its pixels at a fraction of the memory.

    Returns
    -------
    pandas.DataFrame
        Columns ``Class, Precision, Recall, F1_score, Support``; rows: one per class, then
        ``Accuracy`` (its value in ``F1_score``, Precision and Recall empty, Support = all
        samples), ``Macro_avg`` and ``Weighted_avg``. Values rounded to 3 digits.
    """
    from sklearn.metrics import classification_report

    truth, predicted, class_names, labels = _check_inputs(truth, predicted, class_names, labels)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight).ravel()
        if sample_weight.shape != truth.shape:
            raise DataError(f"classification report: {sample_weight.size} sample weights for "
                            f"{truth.size} samples.")
    report = classification_report(truth, predicted, labels=labels, target_names=class_names,
                                   digits=DIGITS, output_dict=True, zero_division=0,
                                   sample_weight=sample_weight)
    rows = []
    for name in class_names:
        entry = report[name]
        rows.append((name, entry["precision"], entry["recall"], entry["f1-score"],
                     int(round(entry["support"]))))
    # sklearn reports "micro avg" instead of "accuracy" when some samples fall outside
    # ``labels``; the accuracy over all samples is what users compare, so compute it here.
    accuracy = float(np.average(truth == predicted, weights=sample_weight))
    n_samples = int(truth.size if sample_weight is None else sample_weight.sum())
    rows.append(("Accuracy", np.nan, np.nan, accuracy, n_samples))
    # Macro average over the classes that occur in the truth or the prediction only.
    occurring = np.isin(labels, np.union1d(truth, predicted))
    macro = report["macro avg"]
    if occurring.any():
        per_class = np.array([r[1:4] for r in rows[:len(labels)]], dtype=float)[occurring]
        macro = dict(zip(("precision", "recall", "f1-score"), per_class.mean(axis=0)),
                     support=macro["support"])
    for entry, row_name in ((macro, "Macro_avg"), (report["weighted avg"], "Weighted_avg")):
        rows.append((row_name, entry["precision"], entry["recall"], entry["f1-score"],
                     int(round(entry["support"]))))
    frame = pd.DataFrame(rows, columns=list(REPORT_COLUMNS))
    for column in ("Precision", "Recall", "F1_score"):
        frame[column] = frame[column].astype(float).round(DIGITS)
    frame["Support"] = frame["Support"].astype(int)
    return frame


def format_report(frame: pd.DataFrame, title: str | None = None) -> str:
    """The report table as aligned text for the log (3 digits, blanks for missing values)."""
    text = frame.to_string(index=False, na_rep="", float_format=lambda v: f"{v:.{DIGITS}f}")
    return f"{title}\n{text}" if title else text
