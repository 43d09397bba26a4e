"""The CLI for people, through its command line."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "knowledge", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_show_gives_leiyang_phones_with_sources() -> None:
    result = run("show", "002036004001", "--region", "耒阳")
    assert result.returncode == 0, result.stderr
    assert "0734-4269955" in result.stdout and "0734-4322176" in result.stdout
    assert "0734-8867038" not in result.stdout
    assert "衡阳市医疗保障经办政务服务事项办事指南" in result.stdout


def test_show_accepts_an_alias_and_a_typo() -> None:
    result = run("show", "异地安置", "--region", "来阳")
    assert result.returncode == 0 and "耒阳市西湖南路566号" in result.stdout


def test_show_of_an_unknown_region_is_an_error_not_a_crash() -> None:
    result = run("show", "002036004001", "--region", "火星")
    assert result.returncode == 2 and "unknown" in result.stderr


def test_search_finds_the_beian_items() -> None:
    result = run("search", "异地", "备案")
    assert result.returncode == 0
    assert "00203600400Y" in result.stdout or "002036004" in result.stdout


def test_region_resolves_a_typo() -> None:
    result = run("region", "郴洲")
    assert result.returncode == 0 and "郴州市" in result.stdout and "chenzhou" in result.stdout


def test_stats_lists_every_document() -> None:
    result = run("stats")
    assert result.returncode == 0
    for document in ("hengyang", "chenzhou", "changsha", "hunan2025", "hubei"):
        assert re.search(rf"^{document}\t\d+", result.stdout, re.M)


def test_every_cli_command_is_documented_in_the_readme() -> None:
    help_text = run("--help").stdout
    commands = re.search(r"\{([a-z,]+)\}", help_text).group(1).split(",")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert commands and all(f"python -m knowledge {command}" in readme for command in commands)
