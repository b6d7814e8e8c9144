import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autorecs import BPRMF
from autorecs.data import Interactions, split
from autorecs.exceptions import ConfigError, DataError
from autorecs.models import AMF, NeuMF


@pytest.fixture(scope="module")
def parts(implicit_data):
    return split(implicit_data, "temporal-60-20-20")


def test_amf_without_adversary_or_pretraining_is_bprmf(parts):
    a = AMF(factors=4, epochs=4, adv_reg=0.0, pretrain=False).fit(parts.train, seed=3, progress=False)
    b = BPRMF(factors=4, epochs=4).fit(parts.train, seed=3, progress=False)
    torch.testing.assert_close(a.P, b.P)
    torch.testing.assert_close(a.Q, b.Q)


def test_amf_pretrains_a_bprmf_then_trains_adversarially(parts):
    a = AMF(factors=4, epochs=4).fit(parts.train, parts.valid, seed=5, progress=False)
    b = BPRMF(factors=4, epochs=4).fit(parts.train, parts.valid, seed=5, progress=False)
    torch.testing.assert_close(a._pretrained["P"], b.P.detach())
    assert len(a.pretrain_history_.epochs) == len(b.history_.epochs)
    assert a.fit_seconds_ >= a.pretrain_seconds_ > 0
    assert all(e["adv_loss"] > 0 for e in a.history_.epochs)


def test_the_perturbation_is_an_eps_ball_ascent_direction(parts):
    a = AMF(factors=4, epochs=2, adv_eps=0.3, pretrain=False).fit(parts.train, seed=0, progress=False)
    a.P, a.Q = torch.nn.Parameter(a.P.detach()), torch.nn.Parameter(a.Q.detach())
    u, i = a._u[:32], a._i[:32]
    j = a.sample_negatives(u)
    dP, dQ = a.adversarial_perturbation(u, i, j)
    touched = torch.zeros(len(a.P), dtype=torch.bool)
    touched[u] = True
    norms = dP.norm(dim=1)
    torch.testing.assert_close(norms[touched], torch.full((int(touched.sum()),), 0.3))
    assert bool((norms[~touched] == 0).all())
    with torch.no_grad():
        before = -F.logsigmoid(a._bpr_logits(a.P, a.Q, u, i, j)).sum()
        after = -F.logsigmoid(a._bpr_logits(a.P + dP, a.Q + dQ, u, i, j)).sum()
        rand = -F.logsigmoid(a._bpr_logits(a.P - dP, a.Q - dQ, u, i, j)).sum()
    assert after > before > rand


def test_neumf_starts_at_the_pretrained_mf_scores(parts):
    m = NeuMF(factors=4, epochs=2, mlp_layers=2).fit(parts.train, parts.valid, seed=1, progress=False)
    base = BPRMF(factors=4, epochs=2).fit(parts.train, parts.valid, seed=1, progress=False)
    m._init_params(np.random.default_rng(0))  # fresh towers on the pre-trained P, Q, b
    users = np.arange(len(m.user_vocab_))
    torch.testing.assert_close(m._score_codes(users), base._score_codes(users))
    # scoring in chunks gives the per-pair logits
    with torch.no_grad():
        m.h_m.normal_()
        u = torch.tensor([0, 0, 3]), torch.tensor([1, 5, 2])
        direct = m._logits(*u)
    torch.testing.assert_close(m._score_codes(np.array([0, 3]))[[0, 0, 1], [1, 5, 2]], direct)


def test_baselines_refuse_lambdaopt():
    with pytest.raises(ConfigError, match="lambdaopt"):
        AMF(lambdaopt="DUI")
    with pytest.raises(ConfigError, match="mlp_layers"):
        NeuMF(mlp_layers=0)


def test_a_given_pretrained_model_replaces_pretraining(parts, implicit_data):
    base = BPRMF(factors=4, epochs=3).fit(parts.train, parts.valid, seed=2, progress=False)
    a = AMF(factors=4, epochs=2, pretrained=base).fit(parts.train, parts.valid, seed=9, progress=False)
    torch.testing.assert_close(a._pretrained["P"], base.P.detach())
    assert a.pretrain_seconds_ == base.fit_seconds_
    with pytest.raises(ConfigError, match="pretrained.factors"):
        NeuMF(factors=8, pretrained=base)
    with pytest.raises(ConfigError, match="a fitted BPRMF"):
        NeuMF(factors=4, pretrained=a)
    with pytest.raises(DataError, match="other users or items"):
        other = Interactions.from_frame(parts.train.to_frame().iloc[:100])  # its own, smaller vocabularies
        AMF(factors=4, epochs=1, pretrained=base).fit(other, seed=0, progress=False)
