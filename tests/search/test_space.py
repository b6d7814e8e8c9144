import pytest

from autorecs.exceptions import ConfigError
from autorecs.models import BiasedMF, BPRMF
from autorecs.search import LAMBDAOPT_GRID, Param, SearchSpace, builtin_space

FIELDS = set(BiasedMF.Config.__dataclass_fields__)

TOML = """
name = "mine"
[fixed]
epochs = 7

[params.reg]
type = "float"
low = 0.001
high = 10.0
log = true
apply_to = ["reg_user", "reg_item"]

[params.solver]
type = "categorical"
choices = ["als", "adam"]

[params.learning_rate]
type = "float"
low = 1e-4
high = 0.1
log = true
when = { solver = ["adam"] }
"""


def test_toml_space_round_trip_and_model_params(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text(TOML)
    space = SearchSpace.from_file(f)
    space.check_model(FIELDS, "BiasedMF")
    assert space.name == "mine" and space.fixed == {"epochs": 7}
    assert space.model_params({"reg": 0.5, "solver": "als"}) == {"epochs": 7, "reg_user": 0.5, "reg_item": 0.5, "solver": "als"}
    assert SearchSpace.from_dict(space.to_dict()) == space


def test_conditional_parameters_are_sampled_only_when_active():
    import optuna

    space = SearchSpace.from_dict({"params": {"solver": {"type": "categorical", "choices": ["als", "adam"]},
                                              "learning_rate": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True, "when": {"solver": ["adam"]}}}})
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen = set()
    for _ in range(20):
        values = space.sample(study.ask())
        seen.add(values["solver"])
        assert ("learning_rate" in values) == (values["solver"] == "adam")
    assert seen == {"als", "adam"}


@pytest.mark.parametrize(
    "spec,message",
    [
        ({"x": {"type": "float", "low": 3, "high": 1}}, r"`low <= high` must hold for search parameter 'x', but got \(low=3, high=1\)"),
        ({"x": {"type": "float", "low": 0, "high": 1, "log": True}}, "log-scale search parameter 'x' needs low > 0"),
        ({"x": {"type": "str"}}, "'type' of search parameter 'x' must be one of"),
        ({"x": {"type": "categorical", "choices": []}}, "non-empty 'choices'"),
        ({"x": {"type": "int", "low": 1, "high": 2, "step": 3}}, r"unknown keys \['step'\]"),
        ({"x": {"type": "float", "low": 0, "high": 1, "when": {"y": ["a"]}}}, "conditional on 'y', which is not a categorical parameter"),
    ],
)
def test_invalid_spaces_name_the_parameter_and_constraint(spec, message):
    with pytest.raises(ConfigError, match=message):
        SearchSpace.from_dict({"params": spec})


def test_unknown_model_parameter_and_grid_needs_choices():
    space = SearchSpace((Param("factorz", "int", low=2, high=8),))
    with pytest.raises(ConfigError, match=r"sets \['factorz'\], which BiasedMF does not have"):
        space.check_model(FIELDS, "BiasedMF")
    with pytest.raises(ConfigError, match="grid strategy needs categorical"):
        space.grid()


def test_builtin_spaces_follow_the_papers():
    grid = builtin_space("lambdaopt-grid", FIELDS)
    assert grid.grid() == {"reg": list(LAMBDAOPT_GRID)} and grid.params[0].targets == ("reg_user", "reg_item")
    assert builtin_space("sif-grid", set(BPRMF.Config.__dataclass_fields__)).params[0].targets == ("reg",)
    assert {p.name for p in builtin_space("mf-tpe", FIELDS).params} == {"reg_user", "reg_item", "factors", "learning_rate"}
    with pytest.raises(ConfigError, match="Unknown built-in search space 'nope'"):
        builtin_space("nope", FIELDS)


def test_params_as_a_list_with_names_and_malformed_tables():
    """A YAML/JSON space written as a list of parameters ended in AttributeError: 'list' object has no attribute 'items'."""
    listed = SearchSpace.from_dict({"params": [{"name": "reg", "type": "float", "low": 0.01, "high": 1.0, "log": True}],
                                    "fixed": {"epochs": 3}})
    tabled = SearchSpace.from_dict({"params": {"reg": {"type": "float", "low": 0.01, "high": 1.0, "log": True}}, "fixed": {"epochs": 3}})
    assert listed.params == tabled.params and listed.fixed == tabled.fixed
    for bad, phrase in (({"params": [{"type": "float"}]}, "must be a table with a 'name'"),
                        ({"params": "reg"}, "must be a table of parameters"),
                        ({"params": {}, "fixed": [1]}, "'fixed' a table of values"),
                        ({"params": {"reg": {"type": "categorical", "choices": [1], "when": "adam"}}}, "must be a table such as")):
        with pytest.raises(ConfigError, match=phrase):
            SearchSpace.from_dict(bad)
