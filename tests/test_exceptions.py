"""The library's error wording for configs that are not models' (autorecs.exceptions.build_config)."""

import pytest

from autorecs.exceptions import ConfigError


@pytest.mark.parametrize("make,owner", [
    (lambda: __import__("autorecs.sif.search", fromlist=["SIFSearch"]).SIFSearch(factorz=4), "SIFSearch"),
    (lambda: __import__("autorecs.sif.tensor_search", fromlist=["TensorSIFSearch"]).TensorSIFSearch(factorz=4), "TensorSIFSearch"),
    (lambda: __import__("autorecs.models.tensor_ifc", fromlist=["TensorIFC"]).TensorIFC(factorz=4), "TensorIFC"),
    (lambda: __import__("autorecs.ctr.nets", fromlist=["CTRNet"]).CTRNet("deep", factorz=4), "CTRNet"),
])
def test_unknown_keys_of_every_config_are_a_config_error_naming_the_valid_ones(make, owner):
    with pytest.raises(ConfigError, match=rf"{owner} has no parameter\(s\) \['factorz'\]; valid names are \["):
        make()

