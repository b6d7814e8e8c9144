"""Click-through prediction on tabular data: AutoCross feature-cross search and the models that use it.

* :mod:`.encoding`  raw table -> integer codes per field (typing, missing values, hashing, discretization)
* :mod:`.crosses`   crossed fields
* :mod:`.fieldwise` field-wise LR + successive mini-batch halving (cheap candidate evaluation)
* :mod:`.autocross` the beam search, and the transformer that applies found crosses
* :mod:`.logistic`  logistic regression on fields (LR, AC+LR)
"""

from .autocross import AutoCross, split_frame
from .encoding import TableEncoder
from .logistic import FieldLogisticRegression

__all__ = ["AutoCross", "FieldLogisticRegression", "TableEncoder", "split_frame"]
