"""Prices before the click and the bill after it."""

import pytest

from dalle3.models import pricing
from dalle3.models import DALLE3, GPT_IMAGE_2


@pytest.mark.parametrize("quality,size,usd", [
    ("standard", "1024x1024", 0.040), ("standard", "1024x1792", 0.080), ("standard", "1792x1024", 0.080),
    ("hd", "1024x1024", 0.080), ("hd", "1024x1792", 0.120), ("hd", "1792x1024", 0.120),
])
def test_dalle3_prices(quality, size, usd):
    price = pricing.estimate(DALLE3, quality, size)
    assert price.usd == pytest.approx(usd) and not price.estimate
    assert str(price) == f"${usd:.3f}"


def test_gpt_image_cost_after_the_click_comes_from_usage():
    usage = {"input_tokens": 10, "input_tokens_details": {"text_tokens": 10, "image_tokens": 0},
             "output_tokens": 4160, "total_tokens": 4170}
    price = pricing.from_usage(GPT_IMAGE_2, usage)
    assert price.usd == pytest.approx((10 * 5 + 4160 * 30) / 1e6)
    assert not price.estimate
    assert pricing.estimate(GPT_IMAGE_2, "high", "1024x1024").estimate
    assert pricing.estimate(GPT_IMAGE_2, "auto", "1024x1024") is None
