"""The offline simulator: labelled, deterministic stand-in pictures."""

from dalle3 import simulator
from dalle3.files import metadata
from dalle3.params import validate


def test_simulator_is_deterministic_and_sized_and_differs_by_seed():
    a = simulator.render(validate("a lighthouse", seed=1, size="1024x1792"))
    assert a == simulator.render(validate("a lighthouse", seed=1, size="1024x1792"))
    assert a != simulator.render(validate("a lighthouse", seed=2, size="1024x1792"))
    assert metadata.png_size(a) == (1024, 1792)
