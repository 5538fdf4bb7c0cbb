"""A `.env` that is not UTF-8 stops every command with one line naming the file, the line and the column, never a
UnicodeDecodeError traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from debrief.cli import main


@pytest.mark.parametrize("command", [["incidents"], ["health"], ["search", "disk full"]])
def test_a_dotenv_with_a_latin1_byte_is_one_line_naming_the_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    (tmp_path / ".env").write_bytes(
        b"DEBRIEF_DATA_DIR=" + bytes(tmp_path / "data") + b"\nDEBRIEF_ADMINS=jos\xe9\n"
    )
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(main, command)

    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"debrief: configuration error: {tmp_path / '.env'}: line 2, column 19 is not UTF-8 (byte 0xe9); "
        "save the file as UTF-8"
    ]
    assert not (tmp_path / "data").exists()  # nothing ran
