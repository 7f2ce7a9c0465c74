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
        ("sync_interval_seconds = 'often'\n", "sync_interval_seconds"),
        ("auto_next = 'yes'\n", "auto_next"),
        ("keymap = 3\n", "keymap"),
        ("[keymap]\n'app.quit' = 1\n", "keymap.app.quit"),
        ("profiles = 1\n", "profiles"),
        ("[profiles]\nx = 1\n", "profiles.x"),
        ("[profiles.x]\ndemarches = [12, 'a']\n", "profiles.x.demarches.1"),
        ("[profiles.x]\nread_only = 1\n", "profiles.x.read_only"),
        ("[profiles.x]\nconnector = 'soap'\n", "profiles.x.connector"),
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


def test_what_a_bad_value_expected_is_said(tmp_path):
    path = tmp_path / "config.toml"
    expectations = {
        'language = "de"\n': "one of 'fr', 'en'",
        "undo_delay_seconds = 601\n": "a number of at most 600",
        "sync_interval_seconds = 1\n": "a number of at least 5",
        "nope = 1\n": "a known key",
        "[profiles.x]\ndemarches = 3\n": "a list",
    }
    for text, expected in expectations.items():
        path.write_text(text)
        with pytest.raises(SettingsError) as info:
            load_settings(path)
        assert expected in str(info.value), text


def test_a_full_file_reads_into_typed_values(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        'language = "en"\nundo_delay_seconds = 3\nauto_next = false\n'
        '[profiles.ds]\nconnector = "demarches-simplifiees"\ndemarches = [1, 2]\nlanguage = "fr"\nread_only = true\n'
    )
    settings = load_settings(path)
    assert settings.undo_delay_seconds == 3.0 and isinstance(settings.undo_delay_seconds, float)
    assert settings.auto_next is False
    name, profile = settings.profile("ds")
    assert profile == Profile(connector="demarches-simplifiees", demarches=(1, 2), language="fr", read_only=True)
    assert settings.language_for(profile) == "fr"
