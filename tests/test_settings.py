"""Settings from the environment and .env, each bad value named."""

from pathlib import Path

import pytest

from dalle3.errors import ConfigurationError
from dalle3.settings import from_env


def test_settings_from_env_defaults_and_trailing_slash():
    settings = from_env({"OPENAI_BASE_URL": "http://x/v1/", "OPENAI_API_KEY": "sk-secret"})
    assert settings.base_url == "http://x/v1"
    assert (settings.timeout_s, settings.max_retries, settings.output_dir) == (None, 2, Path("outputs"))
    assert (from_env({"DALLE3_TIMEOUT_S": "45"}).timeout_s, from_env({"DALLE3_TIMEOUT_S": "45"}).connect_timeout_s) \
        == (45.0, 10.0)
    assert "sk-secret" not in repr(settings)
    assert from_env({"DALLE3_OUTPUT_DIR": ""}).output_dir is None


@pytest.mark.parametrize("name,value", [("DALLE3_TIMEOUT_S", "abc"), ("DALLE3_MAX_RETRIES", "two"),
                                        ("DALLE3_CONCURRENCY", "0"), ("DALLE3_OFFLINE", "maybe"),
                                        ("DALLE3_AUTH", "nopassword"), ("OPENAI_BASE_URL", "api.openai.com"),
                                        ("DALLE3_MAX_SPEND_USD", "-5"), ("DALLE3_MODEL", "dall-e-9")])
def test_bad_setting_names_the_variable(name, value):
    with pytest.raises(ConfigurationError, match=name):
        from_env({name: value})


def test_dotenv_is_loaded_and_real_environment_wins(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("OPENAI_API_KEY=sk-from-dotenv\nDALLE3_MAX_RETRIES=5\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "placeholder")  # recorded, so the loaded value is undone
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.setenv("DALLE3_MAX_RETRIES", "1")
    settings = from_env()
    assert settings.api_key == "sk-from-dotenv" and settings.max_retries == 1
