"""Watchlist files: shipped ones load, bad edits are named by file, line and key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.models import DestinationKind
from bot.routing import CONSOLE, destinations_for
from bot.watchlists import LoadResult, Problem, load_watchlists, schema_json

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "watchlists"
# What Discord gives from a channel's Integrations: an id of 17-20 digits, a long token.
HOOK_URL = "https://discord.com/api/webhooks/123456789012345678/" + "Tok3n_-" * 10

GOOD = """\
actors:
  - id: russia
    name: Russia
topics:
  - id: guarantees
    name: Security guarantees
    description: Post-war security guarantees for Ukraine.
    threshold: 0.5
feeds:
  - url: https://example.org/rss
    name: Example
    interval: 10m
routes:
  - topics: [guarantees]
    discord_webhook: ${HOOK}
"""


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _errors(folder: Path) -> list:  # type: ignore[type-arg]
    result = load_watchlists(folder, env={"HOOK": HOOK_URL})
    assert result.watchlist is None
    return list(result.errors)


def _said(result: LoadResult) -> tuple[Problem, ...]:
    """The problems found, without the advice that GOOD's lone topic has no `exclude`."""
    return tuple(p for p in result.problems if "the only topic" not in p.message)


def test_every_shipped_watchlist_loads_without_errors(tmp_path: Path) -> None:
    files = sorted(SHIPPED.glob("*.y*ml"))
    assert files, "no shipped watchlists"
    result = load_watchlists(SHIPPED, env={})
    assert result.errors == ()
    assert result.watchlist is not None
    assert result.watchlist.topics and result.watchlist.feeds
    for path in files:  # each file is also valid on its own
        alone = tmp_path / path.stem
        alone.mkdir()
        (alone / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
        assert load_watchlists(alone, env={}).errors == (), path.name


def test_shipped_schema_json_is_current() -> None:
    assert (SHIPPED / "schema.json").read_text(encoding="utf-8") == schema_json()


def test_good_file_loads_and_expands_env_variables(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", GOOD)
    result = load_watchlists(tmp_path, env={"HOOK": HOOK_URL})
    assert _said(result) == ()
    assert result.watchlist is not None
    assert result.watchlist.routes[0].discord_webhook == HOOK_URL
    assert result.watchlist.feeds[0].interval_s == 600
    assert result.watchlist.topics[0].threshold == 0.5


def test_unset_env_variable_is_a_warning_naming_the_key(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.yaml", GOOD)
    result = load_watchlists(tmp_path, env={})
    assert result.watchlist is not None
    (warning,) = _said(result)
    assert warning.severity == "warning"
    assert (warning.file, warning.line, warning.key) == (str(path), 15, "routes[0].discord_webhook")
    assert "HOOK" in warning.message


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.yaml", GOOD.replace("    name: Example\n", "    name: [Example\n"))
    (problem,) = _errors(tmp_path)
    assert problem.file == str(path)
    assert problem.line in (11, 12, 13)
    assert "YAML syntax error" in problem.message
    assert str(problem).startswith(f"{path}:{problem.line}: ")


@pytest.mark.parametrize(
    "bad_line",
    ["    name: Security\tguarantees\n", "    name:\tSecurity guarantees\n"],
)
def test_a_tab_in_an_unquoted_value_says_to_use_spaces_or_quote_it(
    tmp_path: Path, bad_line: str
) -> None:
    # An editor that inserts tabs: PyYAML's "found character '\t' that cannot start any
    # token" names the line but not the fix, nor the key.
    text = GOOD.replace("    name: Security guarantees\n", bad_line)
    path = _write(tmp_path, "a.yaml", text)
    (problem,) = _errors(tmp_path)
    assert (problem.file, problem.line, problem.key) == (str(path), 6, "topics[0].name")
    assert "a tab is not allowed here: use spaces, or quote the value" in problem.message
    assert str(problem).startswith(f"{path}:6: topics[0].name: ")
    assert "\n" not in str(problem)


def test_unknown_key_names_file_line_and_key(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.yaml", GOOD.replace("    threshold: 0.5\n", "    treshold: 0.5\n"))
    (problem,) = _errors(tmp_path)
    assert (problem.file, problem.line, problem.key) == (str(path), 8, "topics[0].treshold")
    assert problem.message == "unknown key"


def test_duplicate_topic_id_across_files_names_the_other_file(tmp_path: Path) -> None:
    first = _write(tmp_path, "a.yaml", GOOD)
    second = _write(
        tmp_path,
        "b.yaml",
        "topics:\n  - id: guarantees\n    name: Again\n    description: The same id once more.\n",
    )
    (problem,) = _errors(tmp_path)
    assert (problem.file, problem.line, problem.key) == (str(second), 2, "topics[0].id")
    assert "duplicate" in problem.message
    assert f"{first}:5" in problem.message


def test_threshold_out_of_range(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.yaml", GOOD.replace("threshold: 0.5", "threshold: 1.5"))
    (problem,) = _errors(tmp_path)
    assert (problem.file, problem.line, problem.key) == (str(path), 8, "topics[0].threshold")
    assert "1" in problem.message


@pytest.mark.parametrize("interval", ["10x", "5s"])
def test_bad_interval(tmp_path: Path, interval: str) -> None:
    path = _write(tmp_path, "a.yaml", GOOD.replace("interval: 10m", f"interval: {interval}"))
    (problem,) = _errors(tmp_path)
    assert (problem.file, problem.line, problem.key) == (str(path), 12, "feeds[0].interval")
    assert interval in problem.message


def test_unknown_topic_in_route(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.yaml", GOOD.replace("topics: [guarantees]", "topics: [guarantes]"))
    (problem,) = _errors(tmp_path)
    assert (problem.file, problem.line) == (str(path), 14)
    assert "topics" in problem.key
    assert "guarantes" in problem.message


def test_a_repeated_key_is_an_error_not_a_silent_replacement(tmp_path: Path) -> None:
    # An admin appends a second `topics:` block: YAML would keep only the last one.
    text = GOOD + "topics:\n  - id: other\n    name: Other\n    description: Another topic.\n"
    path = _write(tmp_path, "a.yaml", text)
    (problem,) = _errors(tmp_path)
    assert (problem.file, problem.line, problem.key) == (str(path), 16, "topics")
    assert "duplicate key (first at line 4)" in problem.message


def test_a_repeated_key_inside_an_item_is_found_too(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "a.yaml", GOOD.replace("interval: 10m", "interval: 10m\n    interval: 20m")
    )
    (problem,) = _errors(tmp_path)
    assert (problem.file, problem.line, problem.key) == (str(path), 13, "feeds[0].interval")


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('    discord_channel: "#general"', "routes[0].discord_channel"),
        ('    discord_webhook: "discord.com/api/webhooks/1/x"', "routes[0].discord_webhook"),
        # Another service's webhook in the Discord key; a Discord one whose token was cut
        # short when pasted. The delivery refuses both: `check` says so first.
        (
            '    discord_webhook: "https://hooks.slack.com/services/T0000/B0000/abcdefgh"',
            "routes[0].discord_webhook",
        ),
        (
            '    discord_webhook: "https://discord.com/api/webhooks/123456789012345678/Tok3n"',
            "routes[0].discord_webhook",
        ),
        ("    slack_webhook: not a url", "routes[0].slack_webhook"),
        # Typos in a Slack webhook: each alert to it would fail, held, hours later.
        (
            '    slack_webhook: "https://hooks.slak.com/services/T0000/B0000/abcdefgh"',
            "routes[0].slack_webhook",
        ),
        (
            '    slack_webhook: "http://hooks.slack.com/services/T0000/B0000/abcdefgh"',
            "routes[0].slack_webhook",
        ),
        (
            '    slack_webhook: "https://hooks.slack.com/T0000/B0000/abcdefgh"',
            "routes[0].slack_webhook",
        ),
        (
            '    slack_channel: "https://acme.slack.com/archives/C0123ABCD"',
            "routes[0].slack_channel",
        ),
        ('    slack_channel: "World news"', "routes[0].slack_channel"),
    ],
)
def test_a_destination_that_cannot_work_is_refused(tmp_path: Path, line: str, key: str) -> None:
    text = GOOD.replace("    discord_webhook: ${HOOK}", line)
    path = _write(tmp_path, "a.yaml", text)
    (problem,) = _errors(tmp_path)
    assert (problem.file, problem.line, problem.key) == (str(path), 15, key)
    assert "abcdefgh" not in problem.message and "Tok3n" not in problem.message  # secrets


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("https://hooks.slak.com/services/T0000/B0000/abcdefgh", "hooks.slack.com"),
        ("http://hooks.slack.com/services/T0000/B0000/abcdefgh", "https"),
        ("https://hooks.slack.com/T0000/B0000/abcdefgh", "/services/"),
    ],
)
def test_a_mistyped_slack_webhook_says_what_is_wrong(tmp_path: Path, url: str, says: str) -> None:
    _write(
        tmp_path,
        "a.yaml",
        GOOD.replace("    discord_webhook: ${HOOK}", f"    slack_webhook: {url}"),
    )
    (problem,) = _errors(tmp_path)
    assert says in problem.message, problem.message


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.slack.com/services/T0000/B0000/abcdefgh",
        "http://127.0.0.1:8080/services/T0000/B0000/abcdefgh",  # a local relay, or a test fake
    ],
)
def test_a_slack_webhook_slack_would_take_is_accepted(tmp_path: Path, url: str) -> None:
    _write(
        tmp_path,
        "a.yaml",
        GOOD.replace("    discord_webhook: ${HOOK}", f"    slack_webhook: {url}"),
    )
    result = load_watchlists(tmp_path, env={})
    assert result.errors == ()
    assert result.watchlist is not None


def test_a_channel_route_without_its_bot_token_is_a_warning(tmp_path: Path) -> None:
    text = GOOD.replace("    discord_webhook: ${HOOK}", '    discord_channel: "123456789012345678"')
    path = _write(tmp_path, "a.yaml", text)
    without = load_watchlists(tmp_path, env={})
    assert without.watchlist is not None
    (warning,) = _said(without)
    assert (warning.file, warning.line, warning.key) == (str(path), 15, "routes[0].discord_channel")
    assert "DISCORD_TOKEN is not set" in warning.message
    assert _said(load_watchlists(tmp_path, env={"DISCORD_TOKEN": "t"})) == ()
    # A token of blanks is no token to the service either: the channel is skipped.
    (blank,) = _said(load_watchlists(tmp_path, env={"DISCORD_TOKEN": " \n"}))
    assert "DISCORD_TOKEN is not set" in blank.message


def test_a_slack_channel_link_is_refused_with_the_id_to_use(tmp_path: Path) -> None:
    link = '    slack_channel: "https://acme.slack.com/archives/C0123ABCD"'
    _write(tmp_path, "a.yaml", GOOD.replace("    discord_webhook: ${HOOK}", link))
    (problem,) = _errors(tmp_path)
    assert "slack_channel: C0123ABCD" in problem.message, problem.message


@pytest.mark.parametrize("name", ["#news", "news", "c0123abcd"])
def test_a_slack_channel_name_instead_of_its_id_is_a_warning(tmp_path: Path, name: str) -> None:
    # Slack posts to a public channel by name, so it is not refused; but the route breaks the
    # day the channel is renamed, and a private channel is never found by name.
    text = GOOD.replace("    discord_webhook: ${HOOK}", f'    slack_channel: "{name}"')
    path = _write(tmp_path, "a.yaml", text)
    result = load_watchlists(tmp_path, env={"SLACK_BOT_TOKEN": "t"})
    assert result.watchlist is not None
    (warning,) = _said(result)
    assert (warning.file, warning.line, warning.key) == (str(path), 15, "routes[0].slack_channel")
    assert warning.severity == "warning" and "channel id" in warning.message
    assert f"{name!r} is a channel name" in warning.message, warning.message


def test_a_slack_channel_id_is_taken_as_it_is(tmp_path: Path) -> None:
    for channel in ("C0123ABCD", "G01AB2CDEFG", " C0123456789 "):
        text = GOOD.replace("    discord_webhook: ${HOOK}", f'    slack_channel: "{channel}"')
        _write(tmp_path, "a.yaml", text)
        result = load_watchlists(tmp_path, env={"SLACK_BOT_TOKEN": "t"})
        assert _said(result) == () and result.watchlist is not None, channel
        assert result.watchlist.routes[0].slack_channel == channel.strip()


def test_a_variable_inside_a_default_is_an_error_saying_so(tmp_path: Path) -> None:
    # "${HOOK:-${OTHER}}" read the default as "${OTHER" and left a stray "}": the route was
    # then refused as "must be the webhook's full URL", which hid the cause.
    text = GOOD.replace("${HOOK}", "${HOOK:-${OTHER}}")
    path = _write(tmp_path, "a.yaml", text)
    problems = load_watchlists(tmp_path, env={}).problems
    errors = [p for p in problems if p.severity == "error"]
    assert [(p.file, p.line, p.key) for p in errors] == [
        (str(path), 15, "routes[0].discord_webhook")
    ]
    assert "inside a default" in errors[0].message


def test_a_route_naming_no_destination_is_a_warning(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.yaml", GOOD.replace("    discord_webhook: ${HOOK}\n", ""))
    result = load_watchlists(tmp_path, env={})
    assert result.watchlist is not None
    (warning,) = _said(result)
    assert (warning.file, warning.line, warning.key) == (str(path), 14, "routes[0]")
    assert "no destination" in warning.message
    # What the warning says is what happens: the topic's alerts are printed in the
    # terminal (it read "the route sends nothing" while the alerts were printed there).
    assert "only printed in the terminal" in warning.message, warning.message
    assert destinations_for(["guarantees"], result.watchlist, set(DestinationKind)) == [CONSOLE]
    # An optional destination left empty on purpose (${VAR:-}) is not this mistake.
    _write(tmp_path, "a.yaml", GOOD.replace("${HOOK}", "${HOOK:-}"))
    assert _said(load_watchlists(tmp_path, env={})) == ()


def test_a_feed_url_pasted_with_spaces_around_it_is_read_without_them(tmp_path: Path) -> None:
    # It was refused as "must be an http(s) URL", which hid that only a space was wrong.
    _write(
        tmp_path, "a.yaml", GOOD.replace("https://example.org/rss", '" https://example.org/rss "')
    )
    result = load_watchlists(tmp_path, env={"HOOK": HOOK_URL})
    assert result.watchlist is not None, result.problems
    assert [feed.url for feed in result.watchlist.feeds] == ["https://example.org/rss"]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = GOOD.replace("threshold: 0.5", "threshold: 1.5").replace(
        "interval: 10m", "interval: 10x"
    )
    path = _write(tmp_path, "a.yaml", text)
    problems = _errors(tmp_path)
    assert sorted((p.file, p.line, p.key) for p in problems) == [
        (str(path), 8, "topics[0].threshold"),
        (str(path), 12, "feeds[0].interval"),
    ]


def test_a_typo_does_not_hide_the_file_s_other_problems(tmp_path: Path) -> None:
    text = GOOD.replace("threshold: 0.5", "thresold: 0.5").replace(
        "topics: [guarantees]", "topics: [guarantes]"
    )
    first = _write(tmp_path, "a.yaml", text)
    second = _write(tmp_path, "b.yaml", "actors:\n  - id: russia\n    name: Russia again\n")
    problems = _errors(tmp_path)
    assert sorted((p.file, p.line, p.key) for p in problems) == [
        (str(first), 8, "topics[0].thresold"),
        (str(first), 14, "routes[0].topics[0]"),
        (str(second), 2, "actors[0].id"),
    ]


def test_a_feed_listed_in_two_files_is_polled_once(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", GOOD)
    _write(tmp_path, "b.yaml", "feeds:\n  - url: https://example.org/rss\n    name: Again\n")
    result = load_watchlists(tmp_path, env={"HOOK": HOOK_URL})
    assert result.watchlist is not None
    assert [f.url for f in result.watchlist.feeds] == ["https://example.org/rss"]
    assert result.watchlist.feeds[0].name == "Example"  # the first listing wins


def test_one_feed_written_two_ways_is_a_warning_naming_both(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", GOOD)
    other = (
        "feeds:\n  - url: http://EXAMPLE.org:80/rss/\n    name: Again\n"
        "  - url: https://example.org/rss?page=2\n    name: Page two\n"
    )
    second = _write(tmp_path, "b.yaml", other)
    result = load_watchlists(tmp_path, env={"HOOK": HOOK_URL})
    assert result.watchlist is not None  # a warning: the service still starts
    (problem,) = _said(result)
    assert (problem.file, problem.line, problem.key, problem.severity) == (
        str(second),
        2,
        "feeds[0].url",
        "warning",
    )
    assert "the same feed as https://example.org/rss" in problem.message
    assert "fetched twice" in problem.message


def test_env_variable_with_a_default_is_quiet_when_unset(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", GOOD.replace("${HOOK}", "${HOOK:-}"))
    result = load_watchlists(tmp_path, env={})
    assert _said(result) == ()
    assert result.watchlist is not None and result.watchlist.routes[0].discord_webhook == ""


def test_a_repeated_key_does_not_hide_the_file_s_other_problems(tmp_path: Path) -> None:
    text = GOOD.replace("interval: 10m", "interval: 1h30m") + (
        "topics:\n  - id: other\n    name: Other\n    description: Another topic.\n"
        "    threshold: 7\n"
    )
    path = _write(tmp_path, "a.yaml", text)
    problems = _errors(tmp_path)
    assert sorted((p.file, p.line, p.key) for p in problems) == [
        (str(path), 12, "feeds[0].interval"),
        (str(path), 16, "topics"),
        (str(path), 20, "topics[0].threshold"),
    ]


def test_a_file_that_does_not_parse_gives_no_unknown_topic_elsewhere(tmp_path: Path) -> None:
    # The route's topic is in a.yaml, which has a syntax error: one error, not two.
    path = _write(tmp_path, "a.yaml", GOOD.replace("name: Example", 'name: "Example'))
    hook = "https://hooks.slack.com/services/T0000/B0000/abcdefgh"
    _write(tmp_path, "b.yaml", f"routes:\n  - topics: [guarantees]\n    slack_webhook: {hook}\n")
    (problem,) = _errors(tmp_path)
    assert (problem.file, problem.key) == (str(path), "(yaml)")


def test_a_merge_key_override_is_not_a_repeated_key(tmp_path: Path) -> None:
    text = GOOD.replace(
        "feeds:\n",
        "feeds:\n  - &base\n    url: https://example.org/a\n    interval: 1h\n"
        "  - <<: *base\n    url: https://example.org/b\n",
    )
    _write(tmp_path, "a.yaml", text)
    result = load_watchlists(tmp_path, env={"HOOK": HOOK_URL})
    assert result.errors == ()
    assert result.watchlist is not None
    assert [(f.url, f.interval_s) for f in result.watchlist.feeds][:2] == [
        ("https://example.org/a", 3600.0),
        ("https://example.org/b", 3600.0),
    ]


def test_an_alias_inside_its_own_anchor_is_an_error_not_a_crash(tmp_path: Path) -> None:
    text = GOOD.replace("  - id: russia\n", "  - &ru\n    id: russia\n    aliases: [*ru]\n")
    path = _write(tmp_path, "a.yaml", text)
    (problem,) = _errors(tmp_path)
    assert (problem.file, problem.line) == (str(path), 4)
    assert "alias" in problem.message


def test_a_duplicate_id_written_as_an_alias_is_reported_at_the_alias(tmp_path: Path) -> None:
    # `- *t` repeats the anchored topic: the error must point there, not at the anchor.
    text = GOOD.replace("  - id: guarantees\n", "  - &t\n    id: guarantees\n").replace(
        "    threshold: 0.5\n",
        "    threshold: 0.5\n  - id: other\n    name: Other\n"
        "    description: Something else entirely.\n  - *t\n",
    )
    path = _write(tmp_path, "a.yaml", text)
    assert text.splitlines()[12] == "  - *t"
    (problem,) = _errors(tmp_path)
    assert (problem.file, problem.line, problem.key) == (str(path), 13, "topics[2].id")
    assert f"first defined at {path}:6" in problem.message, problem.message


def test_an_error_inside_an_aliased_item_is_reported_at_each_use(tmp_path: Path) -> None:
    text = GOOD.replace(
        "feeds:\n", "feeds:\n  - &f\n    url: https://example.org/a\n    interval: 5s\n  - *f\n"
    )
    path = _write(tmp_path, "a.yaml", text)
    assert text.splitlines()[12] == "  - *f"
    problems = _errors(tmp_path)
    assert [(p.file, p.line, p.key) for p in problems] == [
        (str(path), 12, "feeds[0].interval"),
        (str(path), 13, "feeds[1].interval"),
    ]


def test_editor_lock_and_hidden_files_are_not_watchlists(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", GOOD)
    # Emacs keeps `.#a.yaml`, a symlink to nowhere, while a buffer has unsaved changes;
    # macOS copies leave `._a.yaml` (binary).
    (tmp_path / ".#a.yaml").symlink_to("admin@host.4242:1700000000")
    (tmp_path / "._a.yaml").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X\xff\xfe")
    result = load_watchlists(tmp_path, env={"HOOK": HOOK_URL})
    assert result.errors == ()
    assert result.watchlist is not None and [t.id for t in result.watchlist.topics] == [
        "guarantees"
    ]


def test_an_empty_or_common_word_alias_is_a_warning_and_an_empty_one_is_dropped(
    tmp_path: Path,
) -> None:
    text = GOOD.replace(
        "    name: Russia\n", '    name: Russia\n    aliases: [Kremlin, " ", the, US, Said]\n'
    )
    path = _write(tmp_path, "a.yaml", text)
    result = load_watchlists(tmp_path, env={"HOOK": HOOK_URL})
    assert result.errors == ()
    warned = [(p.file, p.line, p.key, p.message.split(":")[0]) for p in _said(result)]
    assert warned == [
        (str(path), 4, "actors[0].aliases[1]", "empty alias"),
        (str(path), 4, "actors[0].aliases[2]", "alias 'the' is a common word"),
        (str(path), 4, "actors[0].aliases[4]", "alias 'Said' is a common word"),
    ]  # "US" is an acronym: it matches only itself
    assert result.watchlist is not None
    assert result.watchlist.actors[0].aliases == ("Kremlin", "the", "US", "Said")


@pytest.mark.parametrize(
    "url", ["http://[::1/feed", "https://reader:pa[ss@example.org/rss", "https://example.org]/rss"]
)
def test_a_feed_url_with_an_unbalanced_bracket_is_an_error_naming_its_line(
    tmp_path: Path, url: str
) -> None:
    # It raised ValueError out of the loader: `check` and `run` ended in a traceback.
    path = _write(tmp_path, "a.yaml", GOOD.replace("https://example.org/rss", url))
    (error,) = _errors(tmp_path)
    assert (error.file, error.line, error.key) == (str(path), 10, "feeds[0].url")
    assert "percent-encode" in error.message
    assert "pa[ss" not in error.message  # a password stays out of the output


def test_aliases_that_expand_to_millions_of_values_are_refused_quickly(tmp_path: Path) -> None:
    # A few hundred bytes whose aliases nest ten lists of ten: 10**7 strings once expanded.
    # Read naively, it took minutes and gigabytes (and would stall a hot reload).
    lines = ['x-0: &l0 ["a", "a", "a", "a", "a", "a", "a", "a", "a", "a"]']
    lines += [f"x-{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]" for n in range(1, 7)]
    path = _write(tmp_path, "a.yaml", GOOD + "\n".join(lines) + "\n")
    (problem,) = _errors(tmp_path)
    assert (problem.file, problem.line, problem.key) == (str(path), 1, "(yaml)")
    assert "aliases" in problem.message


def test_lists_nested_thousands_deep_are_an_error_not_a_traceback(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.yaml", GOOD + "x-deep: " + "[" * 3000 + "]" * 3000 + "\n")
    (problem,) = _errors(tmp_path)
    assert (problem.file, problem.key) == (str(path), "(yaml)")
    assert "nested too deeply" in problem.message


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("https://", id="no-host"),
        pytest.param("https://example .org/rss", id="space-in-url"),
        pytest.param("   ", id="blank"),
        pytest.param("https:/example.org/rss", id="one-slash"),  # was read as a local path
    ],
)
def test_a_feed_url_that_cannot_be_fetched_is_an_error_on_its_line(
    tmp_path: Path, url: str
) -> None:
    # These passed check and failed only at the first poll (a blank one was read as the
    # watchlist folder itself). An unbalanced "[" has its own test above.
    path = _write(tmp_path, "a.yaml", GOOD.replace("https://example.org/rss", f'"{url}"'))
    (problem,) = _errors(tmp_path)
    assert (problem.file, problem.line, problem.key) == (str(path), 10, "feeds[0].url")
    assert "URL" in problem.message or "empty" in problem.message


def test_an_empty_keyword_is_a_warning_and_dropped_so_the_guard_still_works(
    tmp_path: Path,
) -> None:
    # "" matched every article (\b\b), so one stray empty keyword turned the guard off.
    text = GOOD.replace("    threshold: 0.5\n", '    threshold: 0.5\n    keywords: [Kyiv, " "]\n')
    path = _write(tmp_path, "a.yaml", text)
    result = load_watchlists(tmp_path, env={"HOOK": HOOK_URL})
    assert result.errors == ()
    (problem,) = _said(result)
    assert (problem.file, problem.line, problem.key, problem.severity) == (
        str(path),
        9,
        "topics[0].keywords[1]",
        "warning",
    )
    assert "empty keyword" in problem.message
    assert result.watchlist is not None
    assert result.watchlist.topics[0].keywords == ("Kyiv",)


def test_an_id_a_bare_number_or_nan_gets_a_message_an_admin_can_act_on(tmp_path: Path) -> None:
    # Pydantic's own words were "String should match pattern '^[a-z0-9]…'", "Input should
    # be a valid string" for a channel id written without quotes, and "less than 1" for NaN.
    text = (
        GOOD.replace("id: guarantees", "id: Security-Guarantees")
        .replace("routes:\n  - topics: [guarantees]", "routes:\n  - topics: [Security-Guarantees]")
        .replace("discord_webhook: ${HOOK}", "discord_channel: 123456789012345678")
        .replace("threshold: 0.5", "threshold: .nan")
    )
    _write(tmp_path, "a.yaml", text)
    messages = {p.key: p.message for p in _errors(tmp_path)}
    assert set(messages) == {"topics[0].id", "topics[0].threshold", "routes[0].discord_channel"}
    assert "lower-case a-z" in messages["topics[0].id"]
    assert "'Security-Guarantees'" in messages["topics[0].id"]
    assert "quotes" in messages["routes[0].discord_channel"]
    assert "finite" in messages["topics[0].threshold"]


def test_a_feed_listed_again_with_other_settings_is_a_warning_naming_the_first(
    tmp_path: Path,
) -> None:
    # The first listing wins; the second's interval and name were dropped without a word.
    text = GOOD.replace(
        "    interval: 10m\n",
        "    interval: 10m\n  - url: https://example.org/rss\n    name: Fast\n    interval: 1m\n",
    )
    path = _write(tmp_path, "a.yaml", text)
    result = load_watchlists(tmp_path, env={"HOOK": HOOK_URL})
    assert result.watchlist is not None
    assert [(f.name, f.interval_s) for f in result.watchlist.feeds] == [("Example", 600.0)]
    (problem,) = _said(result)
    assert (problem.file, problem.line, problem.key, problem.severity) == (
        str(path),
        13,
        "feeds[1].url",
        "warning",
    )
    assert f"{path}:10" in problem.message and "ignored" in problem.message


def test_a_watchlist_file_given_for_the_folder_is_named_as_a_file(tmp_path: Path) -> None:
    # `check --watchlists watchlists/a.yaml` said "watchlist folder not found" of a file
    # that is plainly there.
    path = _write(tmp_path, "a.yaml", GOOD)
    result = load_watchlists(path, env={})
    (problem,) = _said(result)
    assert (problem.file, problem.key) == (str(path), "(folder)")
    assert "is a file" in problem.message and str(tmp_path) in problem.message


def test_an_interval_given_as_a_small_bare_number_says_that_numbers_are_seconds(
    tmp_path: Path,
) -> None:
    # "interval: 5" meant five minutes to the admin who wrote it; "got 5.0" did not say why.
    _write(tmp_path, "a.yaml", GOOD.replace("interval: 10m", "interval: 5"))
    (problem,) = _errors(tmp_path)
    assert problem.key == "feeds[0].interval"
    assert "between 1m and 7d" in problem.message
    assert "a bare number is seconds" in problem.message and "5m" in problem.message


def test_a_feed_url_with_its_scheme_in_capitals_is_taken(tmp_path: Path) -> None:
    """URL schemes are case-insensitive: "HTTPS://" (pasted from a document that capitalised
    it) is the same feed, not "must be an http(s) URL"."""
    _write(tmp_path, "a.yaml", GOOD.replace("https://example.org/rss", "HTTPS://example.org/rss"))
    result = load_watchlists(tmp_path, env={"HOOK": HOOK_URL})
    assert _said(result) == ()
    assert result.watchlist is not None
    assert result.watchlist.feeds[0].url == "https://example.org/rss"


def test_a_lone_topic_without_excludes_is_warned_about_at_its_line(tmp_path: Path) -> None:
    """Alone, a topic has nothing to be set against: near-miss stories match. `check` says
    so, and how to fix it; with an exclude sentence, or beside another topic, it is quiet."""
    _write(tmp_path, "a.yaml", GOOD)
    result = load_watchlists(tmp_path, env={"HOOK": HOOK_URL})
    assert result.watchlist is not None  # a warning: it still loads
    [problem] = result.problems
    assert (problem.line, problem.key, problem.severity) == (5, "topics[0]", "warning")
    assert "exclude" in problem.message
    second = "  - id: arms\n    name: Arms\n    description: Weapons deliveries to Ukraine.\n"
    _write(tmp_path, "a.yaml", GOOD.replace("feeds:", second + "feeds:"))
    assert load_watchlists(tmp_path, env={"HOOK": HOOK_URL}).problems == ()
    excluded = "    exclude: [The bank guaranteed the loan with state bonds.]\n"
    _write(tmp_path, "a.yaml", GOOD.replace("feeds:", excluded + "feeds:"))
    assert load_watchlists(tmp_path, env={"HOOK": HOOK_URL}).problems == ()


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("NO", "true or false"),  # Norway's code: YAML 1.1 reads it as false
        ("yes", "true or false"),
        ("2026-05-01", "a date"),
        ("1999", "a number"),
    ],
)
def test_a_bare_value_yaml_does_not_read_as_text_is_named_for_what_yaml_read(
    tmp_path: Path, value: str, says: str
) -> None:
    # `aliases: [Norway, NO]` was refused as "YAML reads a bare number as a number": the
    # admin looks at NO, sees no number, and cannot tell what to change.
    _write(
        tmp_path, "w.yaml", GOOD.replace("name: Russia", f"name: Russia\n    aliases: [{value}]")
    )
    (problem,) = _errors(tmp_path)
    assert (problem.line, problem.key) == (4, "actors[0].aliases[0]")
    assert "put it in quotes" in problem.message and says in problem.message
    assert "number" not in problem.message or says == "a number"


@pytest.mark.parametrize("key", ["name", "aliases"])
def test_a_key_left_empty_says_it_is_empty(tmp_path: Path, key: str) -> None:
    # `aliases:` with every alias commented out below it is null to YAML: pydantic's
    # "Input should be a valid string/list" did not say that the value was missing.
    text = GOOD.replace("name: Russia", "name: Russia\n    aliases: [Russia]")
    _write(tmp_path, "w.yaml", re.sub(rf"(\n    {key}:)[^\n]*", r"\1", text, count=1))
    (problem,) = _errors(tmp_path)
    assert problem.key == f"actors[0].{key}"
    assert "is empty" in problem.message


def test_an_alias_two_actors_share_is_a_warning_naming_the_actor_that_gets_it(
    tmp_path: Path,
) -> None:
    # "the Capital" listed for two actors: every sentence with it was read as the first
    # actor's, the second silently got none of them, and which one won depended on the
    # order of the files.
    _write(tmp_path, "a.yaml", GOOD)
    _write(
        tmp_path,
        "b.yaml",
        "actors:\n  - id: kremlin\n    name: Kremlin\n    aliases: [Moscow, Russia]\n",
    )
    result = load_watchlists(tmp_path, env={"HOOK": HOOK_URL})
    assert result.watchlist is not None
    (problem,) = _said(result)
    assert (problem.file, problem.line) == (str(tmp_path / "b.yaml"), 4)
    assert problem.key == "actors[0].aliases[1]" and problem.severity == "warning"
    assert "'russia'" in problem.message and f"{tmp_path / 'a.yaml'}:3" in problem.message


def test_a_watchlist_saved_as_utf16_says_so_rather_than_blaming_latin1(tmp_path: Path) -> None:
    # Notepad's "Unicode" and PowerShell's `>` save UTF-16: "a Latin-1 or Windows
    # encoding?" sent the admin looking for the wrong mistake.
    path = tmp_path / "topics.yaml"
    path.write_text(GOOD, encoding="utf-16")
    [problem] = _errors(tmp_path)
    assert (problem.file, problem.line, problem.key) == (str(path), 1, "(file)")
    assert problem.message.startswith("not UTF-8 text: byte 0xff at column 1 (UTF-16")


def test_a_watchlist_named_in_capitals_is_read(tmp_path: Path) -> None:
    # Files copied from Windows or named by hand: "Ukraine.YAML" is a watchlist too.
    _write(tmp_path, "Ukraine.YAML", GOOD)
    result = load_watchlists(tmp_path, env={"HOOK": HOOK_URL})
    assert result.errors == ()
    assert result.watchlist is not None and [t.id for t in result.watchlist.topics] == [
        "guarantees"
    ]


def test_watchlists_without_a_topic_are_warned_that_nothing_can_match(tmp_path: Path) -> None:
    # Every file empty, or only comments, or only actors and feeds: "ok: 0 topics" read as
    # if all were well while the service would poll every feed and alert nothing.
    _write(tmp_path, "a.yaml", "# topics go here\n")
    _write(tmp_path, "b.yaml", "actors:\n  - id: council\n    name: Marlow City Council\n")
    result = load_watchlists(tmp_path)
    assert result.errors == ()
    [warning] = result.problems
    assert warning.severity == "warning" and "no topics" in warning.message


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("www.borderwire.example/rss", "https://www.borderwire.example/rss"),
        ("127.0.0.1:8765/river.xml", "https://127.0.0.1:8765/river.xml"),
        ("news.example.org", "https://news.example.org"),
    ],
)
def test_a_feed_url_without_its_scheme_is_refused_with_the_url_meant(
    tmp_path: Path, written: str, meant: str
) -> None:
    # It passed `check` as a local file path and failed only at the first poll, as
    # "file not found: <watchlist folder>/www.borderwire.example/rss".
    _write(tmp_path, "a.yaml", GOOD.replace("https://example.org/rss", written))
    (problem,) = _errors(tmp_path)
    assert problem.key == "feeds[0].url"
    assert problem.line == 10
    assert meant in problem.message


def test_a_feed_file_beside_the_watchlists_with_dots_in_its_folder_is_still_a_file(
    tmp_path: Path,
) -> None:
    snapshots = tmp_path / "snapshots.d"
    snapshots.mkdir()
    (snapshots / "world.xml").write_text("<rss/>", encoding="utf-8")
    _write(tmp_path, "a.yaml", GOOD.replace("https://example.org/rss", "snapshots.d/world.xml"))
    result = load_watchlists(tmp_path, env={"HOOK": HOOK_URL})
    assert result.watchlist is not None, result.problems
    assert [feed.url for feed in result.watchlist.feeds] == [str(snapshots / "world.xml")]


def test_an_unclosed_bracket_names_the_line_it_was_opened_on(tmp_path: Path) -> None:
    # YAML notices the missing ']' only at the next key, two lines on: the message named
    # that line alone, which has nothing wrong with it.
    _write(
        tmp_path,
        "a.yaml",
        GOOD.replace("    threshold: 0.5\n", "    keywords: [ukraine, kyiv\n    threshold: 0.5\n"),
    )
    (problem,) = _errors(tmp_path)
    assert "YAML syntax error" in problem.message
    assert "'[' opened on line 8" in problem.message


def test_a_name_description_or_label_of_spaces_only_is_an_error_on_its_line(
    tmp_path: Path,
) -> None:
    # Spaces passed as text of the length asked for: a blank topic or actor name showed as
    # nothing in alerts and replies, and a blank description or label was embedded as "".
    text = (
        GOOD.replace("name: Russia", 'name: "  "')
        .replace("name: Security guarantees", 'name: " "')
        .replace(
            "description: Post-war security guarantees for Ukraine.",
            'description: "            "\n'
            "    positions:\n      - id: veto\n        label: '     '\n"
            "        examples: [Moscow wants a veto., The Kremlin demands a veto.]",
        )
    )
    path = _write(tmp_path, "a.yaml", text)
    found = [(p.file, p.line, p.key, p.message) for p in _errors(tmp_path)]
    assert found == [
        (str(path), 3, "actors[0].name", "is blank: write it out"),
        (str(path), 6, "topics[0].name", "is blank: write it out"),
        (str(path), 7, "topics[0].description", "is blank: write it out"),
        (str(path), 10, "topics[0].positions[0].label", "is blank: write it out"),
    ]


def test_spaces_around_a_name_description_or_label_are_not_part_of_it(tmp_path: Path) -> None:
    text = GOOD.replace("name: Russia", 'name: " Russia "').replace(
        "name: Security guarantees", "name: '  Security guarantees'"
    )
    _write(tmp_path, "a.yaml", text)
    result = load_watchlists(tmp_path, env={"HOOK": HOOK_URL})
    assert result.watchlist is not None, result.problems
    assert result.watchlist.actors[0].name == "Russia"
    assert result.watchlist.topics[0].name == "Security guarantees"


def test_an_empty_example_or_exclude_sentence_is_a_warning_and_dropped(tmp_path: Path) -> None:
    # "" was embedded like any sentence: a stray empty item (a trailing ", ''" or a list
    # item left blank) became one of the topic's prototypes, and two blank examples passed
    # for the two a position needs.
    text = GOOD.replace(
        "    threshold: 0.5\n",
        "    threshold: 0.5\n"
        '    examples: [Allies discussed an Article 5-style guarantee., ""]\n'
        '    exclude: [" "]\n'
        "    positions:\n"
        "      - id: veto\n"
        "        label: demands a veto\n"
        '        examples: [Moscow wants a veto over any guarantee., "", "  "]\n',
    )
    path = _write(tmp_path, "a.yaml", text)
    result = load_watchlists(tmp_path, env={"HOOK": HOOK_URL})
    assert result.errors == ()
    said = [(p.line, p.key, p.message) for p in _said(result)]
    assert said == [
        (9, "topics[0].examples[1]", "empty sentence: ignored"),
        (10, "topics[0].exclude[0]", "empty sentence: ignored"),
        (14, "topics[0].positions[0].examples[1]", "empty sentence: ignored"),
        (14, "topics[0].positions[0].examples[2]", "empty sentence: ignored"),
        (
            12,
            "topics[0].positions[0].examples",
            "fewer than 2 distinct examples: statements will rarely be assigned to it",
        ),
    ]
    assert all(p.severity == "warning" and p.file == str(path) for p in _said(result))
    assert result.watchlist is not None
    topic = result.watchlist.topics[0]
    assert topic.examples == ("Allies discussed an Article 5-style guarantee.",)
    assert topic.exclude == ()
    assert topic.positions[0].examples == ("Moscow wants a veto over any guarantee.",)


def _second_topic(id_line: str, threshold_line: str) -> str:
    """A second topic after GOOD's one, with the two lines an admin may get wrong."""
    return (
        f"  - {id_line}\n"
        "    name: Nile water-sharing treaty\n"
        "    description: Talks on a treaty that shares the river's water between its states.\n"
        f"    {threshold_line}\n"
    )


@pytest.mark.parametrize(
    ("id_line", "threshold_line", "key"),
    [
        ("id: water-deal", "threshold: 1.5", "topics[1].threshold"),
        ("id: water-deal", "threshold: 0,5", "topics[1].threshold"),
        ("id: Water Deal", "threshold: 0.5", "topics[1].id"),
    ],
)
def test_a_broken_second_topic_does_not_make_the_first_read_as_the_only_one(
    tmp_path: Path, id_line: str, threshold_line: str, key: str
) -> None:
    # A typo in one of two topics was reported, and the other topic was then warned about as
    # "the only topic, with no exclude sentences": advice about a watchlist the admin never
    # wrote, sending them to add excludes instead of fixing the typo.
    second = _second_topic(id_line, threshold_line)
    _write(tmp_path, "a.yaml", GOOD.replace("feeds:", second + "feeds:"))
    result = load_watchlists(tmp_path, env={"HOOK": HOOK_URL})
    assert [p.key for p in result.errors] == [key]
    assert [p for p in result.problems if "the only topic" in p.message] == []


def test_a_threshold_written_with_a_decimal_comma_says_to_use_a_dot(tmp_path: Path) -> None:
    # "0,5" is how half is written in much of Europe; pydantic's "unable to parse string as
    # a number" left the admin staring at what looks like a number.
    _write(tmp_path, "a.yaml", GOOD.replace("threshold: 0.5", "threshold: 0,5"))
    (problem,) = _errors(tmp_path)
    assert problem.key == "topics[0].threshold"
    assert "0.5" in problem.message and "dot" in problem.message


def test_a_file_too_big_for_a_watchlist_is_refused_by_its_size_at_once(tmp_path: Path) -> None:
    # A 14 MB generated file took 50 s to read and was then refused as "its aliases expand
    # to more than 1,000,000 values": it has no YAML aliases, and an admin reads "aliases"
    # as the actors' aliases.
    many = "".join(
        f"  - id: actor-{n}\n    name: Actor {n}\n    aliases: [Actorname{n}]\n"
        for n in range(20_000)
    )
    path = _write(tmp_path, "big.yaml", GOOD.replace("actors:\n", "actors:\n" + many))
    assert path.stat().st_size > 1_000_000
    (problem,) = _errors(tmp_path)
    assert (problem.file, problem.line, problem.key) == (str(path), 1, "(file)")
    assert "aliases" not in problem.message
    assert f"{path.stat().st_size:,} bytes" in problem.message and "1,000,000" in problem.message


def test_a_lone_topic_whose_id_yaml_reads_as_a_number_is_not_said_to_be_missing(
    tmp_path: Path,
) -> None:
    # `id: 2026` (YAML reads a number) was refused, and "no topics in any file" was said
    # on top, as if the admin had written none.
    text = GOOD.replace("id: guarantees", "id: 2026").replace("[guarantees]", '["*"]')
    _write(tmp_path, "a.yaml", text)
    result = load_watchlists(tmp_path, env={"HOOK": HOOK_URL})
    assert [p.key for p in result.problems] == ["topics[0].id"]
