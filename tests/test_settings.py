import pytest

from instructor_tui import paths
from instructor_tui.settings import Profile, SettingsError, load_settings, save_profile


def test_missing_file_means_defaults(tmp_path):
    settings = load_settings(tmp_path / "absent.toml")
    assert settings.language == "fr"
    assert settings.profile()[0] == "demo"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('language = "de"\n', "language"),
        ("[profiles.x]\nportal_url = 3\n", "profiles.x.portal_url"),
        ("[profiles.x]\nconector = 'portal-v1'\n", "profiles.x.conector"),
        ("language = \n", "(syntax)"),
        ("undo_delay_seconds = -1\n", "undo_delay_seconds"),
    ],
)
def test_bad_settings_name_file_and_key(tmp_path, text, key):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(SettingsError) as info:
        load_settings(path)
    assert info.value.file == path
    assert info.value.key == key


def test_binary_file_is_a_clear_error(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(SettingsError, match="UTF-8"):
        load_settings(path)


def test_unknown_profile_lists_known_ones(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[profiles.region]\nportal_url = "https://a.example"\n')
    settings = load_settings(path)
    with pytest.raises(SettingsError) as info:
        settings.profile("nope")
    assert "region" in info.value.params["known"]


def test_save_profile_keeps_the_rest_and_reads_back(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('language = "en"\n\n[profiles.a]\nportal_url = "https://a.example"\n[keymap]\n"x.y" = "z"\n')
    save_profile("b", Profile(portal_url="http://127.0.0.1:1", instructor_id='o"k'), path)
    save_profile("a", Profile(portal_url="https://a2.example"), path)
    settings = load_settings(path)
    assert settings.language == "en"
    assert settings.keymap == {"x.y": "z"}
    assert settings.profiles["a"].portal_url == "https://a2.example"
    assert settings.profiles["b"].instructor_id == 'o"k'


def test_home_variable_moves_every_location(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.HOME_ENV, str(tmp_path / "h"))
    for location in (paths.config_dir(), paths.data_dir(), paths.cache_dir(), paths.attachments_dir("x")):
        assert location.is_relative_to(tmp_path / "h")
        assert location.stat().st_mode & 0o777 == 0o700
    assert paths.config_file() == tmp_path / "h" / "config" / "config.toml"


def test_profile_names_never_choose_a_path(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.HOME_ENV, str(tmp_path))
    assert paths.profile_data_dir("../../etc").is_relative_to(tmp_path / "data" / "profiles")
